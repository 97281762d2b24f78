#!/usr/bin/env bash
# The demo's summary.json, with volatile fields masked, is byte-identical to the golden file
# committed in tests/fixtures/demo_golden/summary.masked.json (generated from the build before
# the harness/ layering refactor, issue 10). It runs configs/demo.json against `fteval sim`
# (fixed simulator seed 7, statistics seed 20261124 from the config) exactly as scripts/demo.sh
# does, then masks what legitimately changes from run to run: run ids, timestamps, durations,
# latencies and paths. --concurrency 1: records land in dataset order, so float sums (cost) and
# the bootstrap, which follow file order, are reproducible (at 32 in flight they are not).
#   FTEVAL_GOLDEN_WRITE=1 bash tests/demo_golden_test.sh   rewrites the golden file.
# With the argument "judged" it checks the judged demo instead (configs/demo_judged.json, issue 12:
# rubric and pairwise judges on configs/demo/support/) against judged.summary.masked.json; that is
# tests/demo_judged_golden_test.sh.
set -euo pipefail
src=${FTEVAL_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
fteval=${FTEVAL:-$src/build/fteval}
python=${PYTHON:-python3}
name=demo_golden config=configs/demo.json profile=configs/demo/sim_profile.json
golden=$src/tests/fixtures/demo_golden/summary.masked.json
if [ "${1:-}" = judged ]; then
  name=demo_judged_golden config=configs/demo_judged.json profile=configs/demo/support/sim_profile.json
  golden=$src/tests/fixtures/demo_golden/judged.summary.masked.json
fi

work=$(mktemp -d)
sim=
cleanup() { [ -n "$sim" ] && kill "$sim" 2>/dev/null; [ -n "$sim" ] && wait "$sim" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cd "$src"
"$fteval" sim --host 127.0.0.1 --port 0 --config "$config" \
  --profile "$profile" --seed 7 >"$work/sim.log" 2>&1 &
sim=$!
url=
for _ in $(seq 200); do
  url=$(sed -n 's/^listening on //p' "$work/sim.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$sim" 2>/dev/null || { cat "$work/sim.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "$name: the simulator did not start" >&2; cat "$work/sim.log" >&2; exit 1; }

FTEVAL_SIM_URL="$url" "$fteval" run "$config" --out "$work/run" --quiet --concurrency 1 >"$work/run.log" 2>&1 || {
  echo "$name: fteval run failed" >&2; cat "$work/run.log" >&2; exit 1; }

"$python" - "$work/run/summary.json" "$work/masked.json" <<'PY'
import json, re, sys
VOLATILE = {"run_id", "started_at", "ended_at", "created_at", "timestamp", "duration_s",
            "elapsed_s", "wall_s", "dir", "path", "host"}
def mask(node, key=None):
    if isinstance(node, dict):
        return {k: ("<masked>" if k in VOLATILE or "latency" in k else mask(v, k))
                for k, v in node.items()}
    if isinstance(node, list):
        return [mask(v, key) for v in node]
    if isinstance(node, str) and "latency" in node:   # e.g. the reason "p50 latency -35%"
        return re.sub(r"[-+]?[0-9][0-9.]*", "<n>", node)
    return node
with open(sys.argv[1]) as f:
    s = json.load(f)
with open(sys.argv[2], "w") as f:
    json.dump(mask(s), f, indent=1, sort_keys=False)
    f.write("\n")
PY

if [ -n "${FTEVAL_GOLDEN_WRITE:-}" ]; then
  mkdir -p "$(dirname "$golden")"
  cp "$work/masked.json" "$golden"
  echo "$name: wrote $golden"
  exit 0
fi
if ! cmp -s "$golden" "$work/masked.json"; then
  echo "$name: masked summary.json differs from $golden" >&2
  diff -u "$golden" "$work/masked.json" | head -80 >&2
  exit 1
fi
echo "$name: masked summary.json identical to the golden file"
