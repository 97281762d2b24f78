#!/usr/bin/env bash
# Memory benchmark (not a test; issue 14): peak RSS (getrusage ru_maxrss via /usr/bin/time) of
# what `fteval run` does after its requests (build/outputs_tool DIR: load, summary with its
# statistics, decision, report.md and report.html), of `fteval report DIR` and of `fteval compare
# DIR DIR2`, on results directories written directly, 2
# arms, whose records vary the way production's do and the sim's do not: every record has its own
# prompt and completion token counts (50-4,049 and 1-499, drawn at random), so its own cost, and a
# latency in milliseconds with 3 decimals (200-4,000 ms); ids of 20 characters; 2% failed calls
# (a timeout, no usage, unknown cost); a continuous f1 beside exact_match. A loaded arm then
# keeps its token counts and costs as values, not dictionary codes (rundir_int.h: 24 bytes a
# record instead of 12), so this is the figure to quote for real data; memory.sh's is the
# best case.
#   bench/throughput/memory_variety.sh [BUILD_DIR] [SIZES...]   (default sizes: 100000 300000)
set -euo pipefail
build=${1:-build}
shift || true
sizes=${*:-100000 300000}
fteval=$(cd "$build" && pwd)/fteval
outputs_tool=$(cd "$build" && pwd)/outputs_tool
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkrun() { # dir n seed
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, os, random, sys
out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
os.makedirs(out, exist_ok=True)
arms = [("base", "gpt-4o-mini-2024-07-18", 0.15, 0.60, 0.70), ("ft", "ft:gpt-4o-mini-2024-07-18:acme::v1", 0.30, 1.20, 0.78)]
manifest = {"schema": "fteval.manifest/1", "fteval_version": "0.1.0", "command": "run",
            "run_id": "20261201T000000Z-%04x" % seed, "name": "variety", "status": "complete",
            "started_at": "2026-12-01T00:00:00Z", "ended_at": "2026-12-01T01:00:00Z",
            "dataset": {"path": "d.jsonl", "lines": n, "examples": n, "sha256": "ab" * 32},
            "metrics": ["exact_match", "f1"], "primary_metric": "exact_match",
            "baseline_arm": "base", "candidate_arm": "ft",
            "stats": {"resamples": 1000, "alpha": 0.05, "seed": 7},
            "arms": [{"name": a, "provider": "p", "provider_type": "openai", "model": m,
                      "price": {"input": pi, "cached_input": pi / 2, "output": po,
                                "source": "bench", "as_of": "2026-11-01"}} for a, m, pi, po, _ in arms]}
json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"))
hard = [rng.random() for _ in range(n)]
for a, m, pi, po, p in arms:
    with open(os.path.join(out, a + ".jsonl"), "w") as f:
        for i in range(n):
            rid = "ex-%07d-%08x" % (i, (i * 2654435761) % 2**32)  # the same id in both arms
            err = rng.random() < 0.02
            em = 0 if err else int(hard[i] * 0.8 + rng.random() * 0.3 < p)
            pt, ct = rng.randrange(50, 4050), rng.randrange(1, 500)
            rec = {"id": rid, "arm": a, "prediction": "" if err else ("gold %d" % i if em else "other %d" % i),
                   "gold": "gold %d" % i, "scores": {"exact_match": em, "f1": 1.0 if em else (0.0 if err else rng.random())},
                   "status": "error" if err else "ok",
                   "error": {"kind": "timeout", "message": "timed out"} if err else None,
                   "finish_reason": None if err else "stop", "latency_ms": round(rng.uniform(200, 4000), 3),
                   "attempts": 3 if err else 1,
                   "usage": None if err else {"prompt_tokens": pt, "completion_tokens": ct, "cached_tokens": 0},
                   "cost_usd": None if err else (pt * pi + ct * po) / 1e6, "model": m, "cache_hit": False,
                   "line": i + 1, "input": "question %d" % i}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
PY
}

mib() { echo "$1/1024" | bc -l; }
timed() { # cmd... -> peak RSS in KiB; fteval's exit code 0/1 (verdict) both count
  /usr/bin/time -f "%M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || {
    rc=$?; [ "$rc" -le 1 ] || { cat "$tmp/err" >&2; exit "$rc"; }; }
  cat "$tmp/time"
}

echo "fteval $("$fteval" --version | cut -d' ' -f2), 2 arms, records that vary (tokens, costs, latencies)"
printf '%8s %12s %12s %12s %16s\n' examples "outputs MiB" "report MiB" "compare MiB" "outputs B/ex-arm"
for size in $sizes; do
  rm -rf "$tmp/r1" "$tmp/r2"
  mkrun "$tmp/r1" "$size" 1
  mkrun "$tmp/r2" "$size" 2
  out_kb=$(timed "$outputs_tool" "$tmp/r1")
  "$outputs_tool" "$tmp/r2" >/dev/null 2>&1
  rep_kb=$(timed "$fteval" report "$tmp/r1")
  cmp_kb=$(timed "$fteval" compare "$tmp/r1" "$tmp/r2" --out "$tmp/c")
  printf '%8d %12.1f %12.1f %12.1f %16.0f\n' "$size" "$(mib "$out_kb")" "$(mib "$rep_kb")" "$(mib "$cmp_kb")" \
    "$(echo "$out_kb * 1024 / ($size * 2)" | bc -l)"
done
