#!/usr/bin/env bash
# Memory benchmark of batch mode (not a test; issue 14, docs/batch.md "Memory"): peak RSS of
# `fteval run CONFIG --batch` against `fteval sim` on loopback, 2 arms, at each dataset size:
#   - run: /usr/bin/time -f %M (the child's ru_maxrss), end to end (batches, summary, reports);
#   - batch phase: VmHWM of the run read from /proc the moment the last batch's "end" event is in
#     batch.journal (the peak so far, before the summary phase starts).
# batch_max_requests 50,000 (the API's limit), the sim's --batch-step-s 0.05.
#   bench/throughput/memory_batch.sh [BUILD_DIR] [SIZES...]      (default sizes: 100000 300000)
# SIM=PATH runs another binary as the sim (to measure an older fteval against the same sim).
set -euo pipefail
build=${1:-build}
shift || true
sizes=${*:-100000 300000}
fteval=$(cd "$build" && pwd)/fteval
sim_bin=${SIM:-$fteval}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

mkdata() { /usr/bin/python3 -c "
import json,sys
for i in range(int(sys.argv[1])):
    print(json.dumps({'id': f'b{i}', 'input': f'benchmark question number {i}, answer with one word', 'gold': ['alpha','bravo','charlie'][i%3]}))" "$1" > "$2"; }

echo "fteval $("$fteval" --version | cut -d' ' -f2), --batch, 2 arms, $(nproc) cores"
printf '%8s %12s %16s %14s %8s\n' examples "run MiB" "batch phase MiB" "run B/ex-arm" "wall s"
for size in $sizes; do
  mkdata "$size" "$tmp/d.jsonl"
  printf '{"rules": [{"name": "all", "model": "*", "accuracy": 0.8, "latency_ms": 0}]}' > "$tmp/profile.json"
  "$sim_bin" sim --port 0 --dataset "$tmp/d.jsonl" --profile "$tmp/profile.json" --batch-step-s 0.05 \
    --max-body 4000000000 > "$tmp/sim.out" 2>&1 &
  sim=$!
  url=
  for _ in $(seq 500); do url=$(sed -n 's/^listening on //p' "$tmp/sim.out"); [ -n "$url" ] && break; sleep 0.02; done
  printf '{"name": "bench", "dataset": "%s", "defaults": {"max_tokens": 16, "max_retries": 0, "concurrency": 64},
    "providers": {"sim": {"type": "openai", "base_url": "%s", "batch_max_requests": 50000, "batch_poll_s": 0.05}},
    "arms": [{"name": "a", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"},
             {"name": "b", "provider": "sim", "model": "gpt-4o-2024-08-06"}],
    "stats": {"resamples": 1000}}' "$tmp/d.jsonl" "$url" > "$tmp/c.json"
  rm -rf "$tmp/out"
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$fteval" run "$tmp/c.json" --out "$tmp/out" --quiet --batch \
    >/dev/null 2>"$tmp/err" &
  timer=$!
  want=$(( 2 * ((size + 49999) / 50000) ))
  hwm=0
  while kill -0 "$timer" 2>/dev/null; do
    pid=$(pgrep -P "$timer" -x fteval || true)
    n=$(grep -c '"event":"end"' "$tmp/out/batch.journal" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "${n:-0}" -ge "$want" ]; then
      hwm=$(awk '/VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      break
    fi
    sleep 0.01
  done
  rc=0; wait "$timer" || rc=$?
  [ "$rc" -le 1 ] || { cat "$tmp/err" >&2; exit "$rc"; }
  kill "$sim"; wait "$sim" 2>/dev/null || true
  read -r wall run_kb < "$tmp/time"
  printf '%8d %12.1f %16.1f %14.0f %8.1f\n' "$size" "$(echo "$run_kb/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)" \
    "$(echo "$run_kb * 1024 / ($size * 2)" | bc -l)" "$wall"
done
