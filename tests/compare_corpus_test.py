"""`fteval compare` on corpus metrics (issue 13): macro_f1 and micro_f1 are compared by their
corpus value (recomputed from summed counts, as the summary does), not as a mean of per-example
scores. Checked against scikit-learn (python3-sklearn) on generated predictions, in both forms
of compare (two runs, and two arms of one run), and the p the gate uses is the approximate
randomization test of the corpus statistics."""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from skip import skip_or_fail  # noqa: E402

try:
    from sklearn.metrics import f1_score
except ImportError as e:
    skip_or_fail("scikit-learn (apt-get install python3-sklearn): %s" % e)

t = fte.Checks()
d = fte.tmpdir()
rng = random.Random(5)
LABELS = ["a", "b", "c", "d", "e", "f", "rare1", "rare2"]
WEIGHTS = [30, 25, 20, 10, 8, 4, 2, 1]
rows = [{"id": f"x{i:04d}", "input": f"text {i}", "gold": rng.choices(LABELS, WEIGHTS)[0]} for i in range(600)]
fte.write_jsonl(os.path.join(d, "data.jsonl"), rows)


def preds(acc, seed):
    r = random.Random(seed)
    return {x["id"]: x["gold"] if r.random() < acc else r.choice(LABELS) for x in rows}


base, cand = preds(0.70, 1), preds(0.74, 2)
for name, p in (("base", base), ("cand", cand)):
    fte.write_jsonl(os.path.join(d, f"{name}.jsonl"), [{"id": k, "prediction": v} for k, v in p.items()])


def score(out, *pred):
    args = ["score", "--dataset", os.path.join(d, "data.jsonl"), "--metrics", "macro_f1,micro_f1,exact_match",
            "--resamples", "2000", "--out", out]
    for p in pred:
        args += ["--pred", p]
    p = fte.run(*args)
    t(p.returncode == 0, f"score {out}: {p.stderr[-300:]}")


def compare(*args):
    p = fte.run("compare", *args, "--json", "--resamples", "2000")
    t(p.returncode in (0, 1), f"compare exit {p.returncode}: {p.stderr[-300:]}")
    return json.loads(p.stdout) if p.stdout.strip() else {"arms": []}


y = [x["gold"] for x in rows]
ref = {}
for name, p in (("base", base), ("cand", cand)):
    yp = [p[x["id"]] for x in rows]
    union = sorted(set(y) | set(yp))
    ref[name] = {"macro_f1": f1_score(y, yp, average="macro", labels=union, zero_division=0),
                 "micro_f1": f1_score(y, yp, average="micro"),
                 "exact_match": sum(a == b for a, b in zip(y, yp)) / len(y)}
t(abs(ref["base"]["macro_f1"] - ref["base"]["exact_match"]) > 0.01, "fixture: macro-F1 differs from the per-example mean")

# two runs: arm "m" of each
score(os.path.join(d, "r1"), "m=" + os.path.join(d, "base.jsonl"))
score(os.path.join(d, "r2"), "m=" + os.path.join(d, "cand.jsonl"))
# one run, two arms
score(os.path.join(d, "ab"), "base=" + os.path.join(d, "base.jsonl"), "cand=" + os.path.join(d, "cand.jsonl"))
for label, res in (("two runs", compare(os.path.join(d, "r1"), os.path.join(d, "r2"))),
                   ("A/B", compare(os.path.join(d, "ab"), "--a", "base", "--b", "cand"))):
    ms = {e["metric"]: e for a in res["arms"] for e in a["metrics"]}
    for metric in ("macro_f1", "micro_f1", "exact_match"):
        e = ms.get(metric, {})
        want_b, want_c = ref["base"][metric], ref["cand"][metric]
        t(abs(e.get("mean_baseline", -1) - want_b) <= 1e-9 and abs(e.get("mean_candidate", -1) - want_c) <= 1e-9,
          f"{label} {metric}: means {e.get('mean_baseline')} {e.get('mean_candidate')} vs sklearn {want_b} {want_c}")
        t(abs(e.get("delta", -1) - (want_c - want_b)) <= 1e-9, f"{label} {metric}: delta is the corpus difference")
        lo, hi = e.get("ci", [None, None])
        t(lo is not None and lo <= e["delta"] <= hi, f"{label} {metric}: CI around delta {lo} {hi}")
    for metric in ("macro_f1", "micro_f1"):
        e = ms[metric]
        t(e.get("corpus") is True and e.get("p_method") == "p_randomization", f"{label} {metric}: corpus p source")
    t(ms["exact_match"].get("p_method") == "p_mcnemar" and "corpus" not in ms["exact_match"],
      f"{label}: exact_match stays per example")
    # micro-F1 on single-label data is accuracy: same value, both ways
    t(abs(ms["micro_f1"]["delta"] - ms["exact_match"]["delta"]) <= 1e-12, f"{label}: micro-F1 delta = EM delta")
t.done()
