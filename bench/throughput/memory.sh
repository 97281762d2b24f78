#!/usr/bin/env bash
# Memory benchmark (not a test): peak RSS (getrusage ru_maxrss via /usr/bin/time) of
#   - `fteval run` end to end (requests, summary, decision, reports) against `fteval sim` on
#     loopback, 2 arms, at each dataset size,
#   - `fteval report DIR` on the finished run (load + summary + reports),
#   - `fteval merge OUT SHARD0 SHARD1` of the same run made as two shards (--shard 0/2, 1/2),
#   - `fteval compare RUN MERGED`: the run against the merged one (two runs loaded at once).
#   bench/throughput/memory.sh [BUILD_DIR] [SIZES...]      (default sizes: 10000 100000 300000)
set -euo pipefail
build=${1:-build}
shift || true
sizes=${*:-10000 100000 300000}
fteval=$(cd "$build" && pwd)/fteval
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

mkdata() { /usr/bin/python3 -c "
import json,sys
for i in range(int(sys.argv[1])):
    print(json.dumps({'id': f'b{i}', 'input': f'benchmark question number {i}, answer with one word', 'gold': ['alpha','bravo','charlie'][i%3]}))" "$1" > "$2"; }

start_sim() { # dataset
  printf '{"rules": [{"name": "all", "model": "*", "accuracy": 0.8, "latency_ms": 0}]}' > "$tmp/profile.json"
  "$fteval" sim --port 0 --dataset "$1" --profile "$tmp/profile.json" > "$tmp/sim.out" 2>&1 &
  sim=$!
  url=
  for _ in $(seq 500); do url=$(sed -n 's/^listening on //p' "$tmp/sim.out"); [ -n "$url" ] && break; sleep 0.02; done
}
stop_sim() { kill "$sim"; wait "$sim" 2>/dev/null || true; }

timed() { # label cmd... -> prints "wall maxrss_kb"; fteval's exit code 0/1 (verdict) both count
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || {
    rc=$?; [ "$rc" -le 1 ] || { cat "$tmp/err" >&2; exit "$rc"; }; }
  cat "$tmp/time"
}

mib() { echo "$1/1024" | bc -l; }

echo "fteval $("$fteval" --version | cut -d' ' -f2), 2 arms, $(nproc) cores"
printf '%8s %12s %12s %12s %12s %14s\n' examples "run MiB" "report MiB" "merge MiB" "compare MiB" "run B/ex-arm"
for size in $sizes; do
  mkdata "$size" "$tmp/d.jsonl"
  start_sim "$tmp/d.jsonl"
  printf '{"name": "bench", "dataset": "%s", "defaults": {"max_tokens": 16, "max_retries": 0, "concurrency": 64},
    "providers": {"sim": {"type": "openai", "base_url": "%s"}},
    "arms": [{"name": "a", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"},
             {"name": "b", "provider": "sim", "model": "gpt-4o-2024-08-06"}],
    "stats": {"resamples": 1000}}' "$tmp/d.jsonl" "$url" > "$tmp/c.json"
  rm -rf "$tmp/out" "$tmp/s0" "$tmp/s1" "$tmp/m"
  read -r _ run_kb < <(timed "$fteval" run "$tmp/c.json" --out "$tmp/out" --quiet)
  read -r _ rep_kb < <(timed "$fteval" report "$tmp/out")
  "$fteval" run "$tmp/c.json" --out "$tmp/s0" --shard 0/2 --quiet >/dev/null 2>&1 || true
  "$fteval" run "$tmp/c.json" --out "$tmp/s1" --shard 1/2 --quiet >/dev/null 2>&1 || true
  read -r _ mer_kb < <(timed "$fteval" merge "$tmp/m" "$tmp/s0" "$tmp/s1" --quiet)
  read -r _ cmp_kb < <(timed "$fteval" compare "$tmp/out" "$tmp/m")
  stop_sim
  printf '%8d %12.1f %12.1f %12.1f %12.1f %14.0f\n' "$size" "$(mib "$run_kb")" "$(mib "$rep_kb")" "$(mib "$mer_kb")" \
    "$(mib "$cmp_kb")" \
    "$(echo "$run_kb * 1024 / ($size * 2)" | bc -l)"
done
