#!/usr/bin/env bash
# Throughput benchmark (not a test): `fteval run` against `fteval sim` on loopback, N requests at
# concurrency C, simulated latency 0 ms and 50 ms. Prints requests/s, fteval's CPU-us per request
# (user+sys of the whole process, including summary and reports), peak RSS, the fraction of the
# Little's-law limit C / latency reached, the same for the peer (a Python ThreadPoolExecutor +
# http.client harness), then memory.sh: peak RSS of run / report / merge at 10k / 100k / 300k
# examples x 2 arms (FTEVAL_BENCH_SIZES overrides the sizes).
#   bench/throughput/run.sh [BUILD_DIR] [N] [C]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
n=${2:-10000}
c=${3:-64}
fteval=$(cd "$build" && pwd)/fteval
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

mkdata() { /usr/bin/python3 -c "
import json,sys
for i in range(int(sys.argv[1])):
    print(json.dumps({'id': f'b{i}', 'input': f'benchmark question number {i}, answer with one word', 'gold': ['alpha','bravo','charlie'][i%3]}))" "$1" > "$2"; }

start_sim() { # latency_ms dataset
  printf '{"rules": [{"name": "all", "model": "*", "accuracy": 0.8, "latency_ms": %s}]}' "$1" > "$tmp/profile.json"
  "$fteval" sim --port 0 --dataset "$2" --profile "$tmp/profile.json" > "$tmp/sim.out" 2>&1 &
  sim=$!
  for _ in $(seq 200); do url=$(sed -n 's/^listening on //p' "$tmp/sim.out"); [ -n "$url" ] && break; sleep 0.02; done
}
stop_sim() { kill "$sim"; wait "$sim" 2>/dev/null || true; }

run_fteval() { # dataset url -> prints "wall user sys maxrss_kb"
  printf '{"name": "bench", "dataset": "%s", "defaults": {"max_tokens": 16, "max_retries": 0, "concurrency": %s},
    "providers": {"sim": {"type": "openai", "base_url": "%s"}},
    "arms": [{"name": "a", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"}],
    "stats": {"resamples": 1000}}' "$1" "$c" "$2" > "$tmp/c.json"
  rm -rf "$tmp/out"
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$fteval" run "$tmp/c.json" --out "$tmp/out" --quiet >/dev/null
  cat "$tmp/time"
}

mkdata "$n" "$tmp/data.jsonl"
echo "fteval $("$fteval" --version | cut -d' ' -f2), $n requests, concurrency $c, $(nproc) cores"
printf '%-8s %-7s %10s %12s %10s %16s\n' latency client req/s cpu-us/req rss-MiB "of C/latency"
for lat in 0 50; do
  start_sim "$lat" "$tmp/data.jsonl"
  read -r wall user sys rss < <(run_fteval "$tmp/data.jsonl" "$url")
  rps=$(echo "$n / $wall" | bc -l)
  cpu=$(echo "($user + $sys) / $n * 1000000" | bc -l)
  frac="-"
  [ "$lat" -gt 0 ] && frac=$(printf '%.1f%%' "$(echo "100 * $rps / ($c / ($lat / 1000))" | bc -l)")
  printf '%-8s %-7s %10.0f %12.1f %10.1f %16s\n' "${lat}ms" fteval "$rps" "$cpu" "$(echo "$rss/1024" | bc -l)" "$frac"
  peer=$(/usr/bin/python3 "$here/peer.py" "$url" "$tmp/data.jsonl" "$c")
  prps=$(echo "$peer" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["req_per_s"])')
  pcpu=$(echo "$peer" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu_us_per_req"])')
  prss=$(echo "$peer" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["peak_rss_mib"])')
  pfrac="-"
  [ "$lat" -gt 0 ] && pfrac=$(printf '%.1f%%' "$(echo "100 * $prps / ($c / ($lat / 1000))" | bc -l)")
  printf '%-8s %-7s %10.0f %12.1f %10.1f %16s\n' "${lat}ms" peer "$prps" "$pcpu" "$prss" "$pfrac"
  printf '%-8s ratio   %9.2fx %11.2fx\n' "${lat}ms" "$(echo "$rps / $prps" | bc -l)" "$(echo "$pcpu / $cpu" | bc -l)"
  stop_sim
done

echo "peak RSS by dataset size, 2 arms (bench/throughput/memory.sh):"
"$here/memory.sh" "$build" ${FTEVAL_BENCH_SIZES:-10000 100000 300000}
