# skip.sh — sourced by shell tests: the one rule for a missing dependency (same as skip.py and
# T_SKIP in tests/t.h). skip_or_fail WHAT: outside CI exit 77 (skipped) naming WHAT; under CI
# (CI set to anything but "", "0", "false") exit 1, because CI promises that every test runs.
skip_or_fail() {
  case "$(printf '%s' "${CI:-}" | tr 'A-Z' 'a-z')" in
    "" | 0 | false | no) echo "skipped: missing $1"; exit 77 ;;
    *) echo "FAIL (CI=true, no test may skip): missing $1" >&2; exit 1 ;;
  esac
}
