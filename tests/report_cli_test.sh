#!/usr/bin/env bash
# report_cli_test.sh — `fteval report RUN_DIR` end to end on generated run directories
# (tests/fixtures/report/make_run.py): every scenario renders, hostile strings stay escaped,
# the page's only script is the example browser's, allowed by its hash (tests/lib/htmlpage.py),
# usage errors exit 2, a missing run directory exits 4, an invalid manifest exits 3.
set -u
: "${FTEVAL:?}" "${FTEVAL_SRC:?}" "${FTEVAL_BUILD:?}"
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/fteval-report-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }

for sc in full one_arm empty unknown_prices all_errors no_comparisons no_summary; do
    dir="$work/$sc"
    "$PYTHON" "$FTEVAL_SRC/tests/fixtures/report/make_run.py" "$dir" --scenario "$sc" --n 300 || {
        echo "FAIL: fixture $sc"; fail=1; continue; }
    out=$("$FTEVAL" report "$dir" 2>"$work/$sc.err"); rc=$?
    check "[ $rc -eq 0 ]" "$sc: exit $rc ($(cat "$work/$sc.err"))"
    check "[ -s '$dir/report.md' ] && [ -s '$dir/report.html' ]" "$sc: reports written"
    check "grep -qF '$dir/report.html' <<<\"\$out\"" "$sc: paths printed on stdout"
    # one inline script (the example browser) allowed by its sha256 in the CSP, one JSON block
    check "\"$PYTHON\" -c 'import sys; sys.path.insert(0, sys.argv[1]); from htmlpage import page_problems; p = page_problems(open(sys.argv[2], encoding=\"utf-8\").read()); print(*p, sep=\"\\n\"); sys.exit(1 if p else 0)' '$FTEVAL_SRC/tests/lib' '$dir/report.html'" "$sc: one script, allowed by its hash in the CSP"
    check "! grep -qF '<img src=x' '$dir/report.html'" "$sc: gold escaped in html"
    check "! grep -qP '(?<!\\\\)<(img|script|/svg)' '$dir/report.md'" "$sc: gold escaped in md"
    check "[ \$(grep -c '<svg' '$dir/report.html') -eq 4 ]" "$sc: four charts (quality, cost, latency, trend)"
    check "grep -q '^## Verdict' '$dir/report.md'" "$sc: verdict heading"
    # the verdict comes before everything else
    check "grep -m1 '^## ' '$dir/report.md' | grep -q '^## Verdict'" "$sc: verdict first"
done

# Markdown tables keep their column count despite pipes and newlines in predictions
"$PYTHON" - "$work/full/report.md" <<'PY' || fail=1
import re, sys
want = None
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("|"):
        n = len(re.findall(r"(?<!\\)\|", line))
        if want is None:
            want = n
        elif n != want:
            print("FAIL: broken table row:", line.rstrip()); sys.exit(1)
    else:
        want = None
PY
grep -q 'Ship the candidate' "$work/full/report.html" || { echo "FAIL: full verdict"; fail=1; }
grep -q 'Keep the baseline' "$work/all_errors/report.html" || { echo "FAIL: all_errors verdict"; fail=1; }
grep -q 'unknown price' "$work/unknown_prices/report.md" || { echo "FAIL: unknown price shown"; fail=1; }

# re-rendering is deterministic
cp "$work/full/report.html" "$work/first.html"
"$FTEVAL" report "$work/full" >/dev/null 2>&1
cmp -s "$work/first.html" "$work/full/report.html" || { echo "FAIL: re-render differs"; fail=1; }

# a write that fails half-way through report.html (a file-size limit, EFBIG even for root, with
# SIGXFSZ ignored; the page is streamed, so the failure comes after earlier pieces were written):
# exit 4 naming the file, the old report.html untouched, no temporary file left behind
big="$work/big"
"$PYTHON" "$FTEVAL_SRC/tests/fixtures/report/make_run.py" "$big" --scenario full --n 3000 || fail=1
"$FTEVAL" report "$big" >/dev/null 2>&1
cp "$big/report.html" "$work/big-old.html"
size=$(stat -c %s "$big/report.html")
check "[ $size -gt 204800 ]" "big report: $size bytes, want twice the 100 KiB limit below"
(trap '' XFSZ; ulimit -f 100; exec "$FTEVAL" report "$big") >/dev/null 2>"$work/big.err"; rc=$?
check "[ $rc -eq 4 ]" "failed write: exit $rc, want 4"
check "grep -qF 'fteval: error: $big/report.html: cannot write' '$work/big.err'" \
    "failed write names report.html: $(cat "$work/big.err")"
check "cmp -s '$work/big-old.html' '$big/report.html'" "failed write: the old report.html is kept"
check "[ -z \"\$(ls -a '$big' | grep -F .tmp.)\" ]" "failed write: no temporary file left ($(ls -a "$big"))"

# usage and errors
"$FTEVAL" report >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: no RUN_DIR: exit $rc"; fail=1; }
"$FTEVAL" report a b >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: two dirs: exit $rc"; fail=1; }
"$FTEVAL" report --bogus "$work/full" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: unknown option: exit $rc"; fail=1; }
"$FTEVAL" report --help | grep -q 'usage: fteval report RUN_DIR' || { echo "FAIL: help"; fail=1; }
"$FTEVAL" report "$work/does-not-exist" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 4 ] || { echo "FAIL: missing dir: exit $rc"; fail=1; }
grep -q '^fteval: error: .*manifest.json' "$work/err" || { echo "FAIL: missing dir message"; fail=1; }
mkdir -p "$work/bad" && echo '{"arms": 3}' >"$work/bad/manifest.json"
"$FTEVAL" report "$work/bad" >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ] || { echo "FAIL: invalid manifest: exit $rc"; fail=1; }

[ $fail -eq 0 ] && echo "report_cli_test: ok"
exit $fail
