#!/usr/bin/env bash
# `fteval score` on the real SQuAD v1.1 dev set and real BERT-base predictions reproduces the
# official evaluation script's numbers (STATISTICS.md §1): EM 66.5752128666036, F1 76.83816556278796.
set -u
FTEVAL=${FTEVAL:?}
PY=${PYTHON:-/usr/bin/python3}
d=${FTEVAL_SHARED:-}/datasets/squad_v1.1
. "${FTEVAL_SRC:?}/tests/lib/skip.sh"
[ -f "$d/dev.jsonl" ] || skip_or_fail "../shared/datasets/squad_v1.1/dev.jsonl (\$FTEVAL_SHARED)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$FTEVAL" score --dataset "$d/dev.jsonl" \
  --pred bert="$d/predictions/cag9_bert_base_uncased_tf2/predictions.jsonl" \
  --out "$tmp/run" --resamples 200 >"$tmp/out.txt" 2>"$tmp/err.txt" || { cat "$tmp/err.txt"; exit 1; }
"$PY" - "$tmp/run" <<'PYEOF'
import json, sys
run = sys.argv[1]
s = json.load(open(f"{run}/summary.json"))
m = s["arms"]["bert"]["metrics"]
ok = 0
fails = []
for name, want in (("exact_match", 0.665752128666036), ("f1", 0.7683816556278796)):
    got = m[name]["mean"]
    if abs(got - want) <= 1e-9:
        ok += 1
    else:
        fails.append(f"{name}: got {got!r}, want {want!r}")
n = s["arms"]["bert"]["n"]
if n == 10570:
    ok += 1
else:
    fails.append(f"n = {n}, want 10570")
recs = [json.loads(l) for l in open(f"{run}/bert.jsonl")]
if len(recs) == 10570 and all(r["status"] == "ok" for r in recs):
    ok += 1
else:
    fails.append("records: want 10570 ok records")
for f in fails:
    print("FAIL", f)
print(f"{ok} passed, {len(fails)} failed")
sys.exit(1 if fails else 0)
PYEOF
