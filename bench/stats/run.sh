#!/usr/bin/env bash
# bench/stats/run.sh — fteval statistics vs the same computation in vectorised numpy.
# n = 10,000 paired examples, B = 10,000 resamples, 3 arms (baseline + 2), two metrics
# (exact_match binary, f1 continuous): 4 comparisons. Reports wall time and peak RSS of each
# whole process (/usr/bin/time -v) and the in-process seconds of the statistics alone.
# Usage: bench/stats/run.sh [BUILD_DIR] [N] [B]     (not a test; run by hand)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-10000}
B=${3:-10000}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$PY" "$HERE/gen_table.py" "$N" "$B" > "$TMP/req.json"

# --- ours -------------------------------------------------------------------------------
# The statistics alone (same score table as numpy gets) go through tests/tools/stats_tool; the
# whole `fteval score` command (reading, scoring, statistics, summary, reports) is timed after.
OURS=("$BUILD/stats_tool")

measure() { # label, stdin file, command...
    local label=$1 in=$2; shift 2
    /usr/bin/time -v "$@" < "$in" > "$TMP/$label.out" 2> "$TMP/$label.time"
    local wall rss secs
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$TMP/$label.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/$label.time")
    secs=$(grep -o '"seconds":[[:space:]]*[0-9.e-]*' "$TMP/$label.out" | grep -o '[0-9.e-]*$' || echo "?")
    printf '%-22s wall %-8s peak RSS %7d KiB   in-process %s s\n' "$label" "$wall" "$rss" "$secs"
    echo "$secs" > "$TMP/$label.secs"
}

echo "n=$N B=$B arms=3 metrics=2 comparisons=4 cpus=$(nproc)"
for i in 1 2 3; do
    measure "fteval-2threads-$i" "$TMP/req.json" "${OURS[@]}"
    FTEVAL_STATS_THREADS=1 measure "fteval-1thread-$i" "$TMP/req.json" "${OURS[@]}"
    measure "numpy-$i" "$TMP/req.json" "$PY" "$HERE/numpy_ref.py"
done
"$PY" - "$TMP" <<'PYEOF'
import glob, statistics, sys
t = sys.argv[1]
def med(p):
    return statistics.median(float(open(f).read()) for f in glob.glob("%s/%s-*.secs" % (t, p)))
ours2, ours1, npy = med("fteval-2threads"), med("fteval-1thread"), med("numpy")
print("median in-process: fteval %.3f s (2 threads), %.3f s (1 thread); numpy %.3f s" % (ours2, ours1, npy))
print("ratio numpy/fteval: %.1fx (2 threads), %.1fx (1 thread); per pair and metric the same "
      "(4 comparisons each)" % (npy / ours2, npy / ours1))
PYEOF

# The whole command: fteval score on N examples, 3 arms (prompted baseline, base, finetuned).
"$PY" - "$TMP" "$N" <<'PYEOF'
import json, random, sys
t, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
words = ["alpha", "bravo", "charlie delta", "echo foxtrot golf"]
rows = [{"id": f"q{i}", "input": f"q {i}", "gold": words[i % 4]} for i in range(n)]
open(f"{t}/ds.jsonl", "w").write("".join(json.dumps(r) + "\n" for r in rows))
for arm, acc in (("prompted", 0.7), ("base", 0.55), ("finetuned", 0.85)):
    with open(f"{t}/{arm}.jsonl", "w") as f:
        for r in rows:
            pred = r["gold"] if rng.random() < acc else rng.choice(words + ["charlie", "nothing"])
            f.write(json.dumps({"id": r["id"], "prediction": pred}) + "\n")
PYEOF
/usr/bin/time -v "$BUILD/fteval" score --dataset "$TMP/ds.jsonl" --pred prompted="$TMP/prompted.jsonl" \
    --pred base="$TMP/base.jsonl" --pred finetuned="$TMP/finetuned.jsonl" --resamples "$B" \
    --out "$TMP/score-out" > /dev/null 2> "$TMP/score.time"
printf 'fteval score (whole command, %s examples x 3 arms): wall %s, peak RSS %s KiB\n' "$N" \
    "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$TMP/score.time")" \
    "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/score.time")"

# generator micro-benchmark (ns per index draw)
cc -O2 -o "$TMP/rng_speed" "$HERE/rng_speed.c" -lgsl -lgslcblas -lm && "$TMP/rng_speed"
