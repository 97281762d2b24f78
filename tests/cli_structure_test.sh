#!/usr/bin/env bash
# The command line has one option parser (harness/options.c): no command may parse options by
# hand, and no CLI function may grow past cyclomatic complexity 40 or 150 lines (pmccabe).
# Covers cmd_*.c, main.c and options.c wherever they live under harness/.
set -u
SRC=${FTEVAL_SRC:?}
pass=0 fail=0
mapfile -t cmds < <(find "$SRC/harness" -name 'cmd_*.c' | sort)
mapfile -t cli < <(find "$SRC/harness" \( -name 'cmd_*.c' -o -name main.c -o -name options.c \) | sort)
# the files that define a command entry point (int fe_cmd_NAME(int argc, char **argv))
mapfile -t entries < <(grep -lE '^int fe_cmd_[a-z_]+\(int argc' "${cmds[@]}" | sort)
[ "${#entries[@]}" -ge 8 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: found ${#entries[@]} command files"; }

# 1. no hand-written option loop: argv walked by index, options compared by name, the old helpers
pattern='argv\[(i|\+\+i|i \+ 1|\*i)\]|for \(int i = [12]; i < argc|cmp\([^;]*"--?[a-zA-Z]|fe_take|opt_value|FE_NEED_VALUE'
if grep -nE "$pattern" "${cmds[@]}"; then
  fail=$((fail + 1)); echo "FAIL: a cmd_*.c parses options by hand (lines above); use fe_parse_options"
else
  pass=$((pass + 1))
fi
# every command goes through the parser
for f in "${entries[@]}"; do
  if grep -q 'fe_parse_options' "$f"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $f does not call fe_parse_options"; fi
done
# fe_usage_error is defined once, in the options module (the core has no unresolved symbol)
defs=$(grep -lE '^int fe_usage_error\(' -r --include='*.c' "$SRC/harness" | xargs -n1 basename | tr '\n' ' ')
[ "$defs" = "options.c " ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: fe_usage_error defined in: $defs"; }

# 2. complexity
if ! command -v pmccabe >/dev/null; then
  echo "pmccabe is not installed (scripts/setup.sh --test installs it)"
  [ "${CI:-}" = true ] && exit 1
  echo "$pass passed, $fail failed (complexity skipped)"; exit 77
fi
# pmccabe columns: modified cyclomatic, traditional cyclomatic, statements, first line, lines, name
over=$(pmccabe "${cli[@]}" | awk '$2 > 40 || $5 > 150')
if [ -n "$over" ]; then
  fail=$((fail + 1)); echo "FAIL: functions above cyclomatic 40 or 150 lines:"; echo "$over"
else
  pass=$((pass + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
