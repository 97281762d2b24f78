#!/usr/bin/env bash
# The demo: builds fteval, starts the built-in simulator on a free loopback port and compares the
# base model, the prompt-engineered baseline and the fine-tuned model of configs/demo.json.
# Leaves results/demo/<run-id>/ with summary.json, report.md and report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

log=$(mktemp)
build/fteval sim --host 127.0.0.1 --port 0 --config configs/demo.json \
  --profile configs/demo/sim_profile.json --seed 7 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on //p' "$log" | head -1)
  [ -n "$url" ] && break
  kill -0 $sim 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "demo: the simulator did not start" >&2; cat "$log" >&2; exit 1; }
echo "demo: simulator at $url" >&2
FTEVAL_SIM_URL="$url" build/fteval run configs/demo.json "$@"

# The judged comparison (issue 12): open-ended support replies (configs/demo/support/, written by
# scripts/gen_support_data.py) graded by a simulated judge model, rubric and pairwise with swap.
jlog=$(mktemp)
build/fteval sim --host 127.0.0.1 --port 0 --config configs/demo_judged.json \
  --profile configs/demo/support/sim_profile.json --seed 7 >"$jlog" 2>&1 &
jsim=$!
trap 'kill $sim $jsim 2>/dev/null; wait $sim $jsim 2>/dev/null; rm -f "$log" "$jlog"' EXIT
jurl=
for _ in $(seq 100); do
  jurl=$(sed -n 's/^listening on //p' "$jlog" | head -1)
  [ -n "$jurl" ] && break
  kill -0 $jsim 2>/dev/null || { cat "$jlog" >&2; exit 1; }
  sleep 0.05
done
[ -n "$jurl" ] || { echo "demo: the judge simulator did not start" >&2; cat "$jlog" >&2; exit 1; }
echo "demo: judged comparison (simulator at $jurl)" >&2
FTEVAL_SIM_URL="$jurl" build/fteval run configs/demo_judged.json
