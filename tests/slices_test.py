"""Slices (issue 13): a planted regression on one slice of a run whose average improves.

`fteval score` over a dataset with a slice column (task.slice_field) and predictions built here:
the candidate gains a lot on the common slice and loses on the rare one, so its average rises.
summary.json's "slices" block must hold per-slice per-arm means with CIs, the paired comparison
per slice with Holm across the tested slices, and a slice below task.slice_min_n listed but not
tested; the verdict must not be ship_candidate and must name the slice (exact reason text).

The reference is computed here from the published definitions (not from fteval's output):
exact_match is binary, so the per-slice p is the exact two-sided McNemar test on the discordant
pairs (scipy.stats.binomtest), Holm's step-down adjusts them, a Wilson interval per arm."""
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from skip import skip_or_fail  # noqa: E402

try:
    from scipy.stats import binomtest
except ImportError:
    skip_or_fail("python3-scipy")

t = fte.Checks()
d = fte.tmpdir()
rng = random.Random(13)
LABELS = ["refund", "card", "pin", "transfer", "balance"]
# (slice, n, baseline accuracy, candidate accuracy)
# ("ten" sits exactly at task.slice_min_n = 10: tested)
PLAN = [("common", 300, 0.55, 0.90), ("rare", 60, 0.90, 0.45), ("tiny", 6, 0.5, 0.0), ("steady", 40, 0.7, 0.7),
        ("ten", 10, 0.5, 0.6)]
rows, base_pred, ft_pred = [], {}, {}
for name, n, pb, pc in PLAN:
    for i in range(n):
        ex = f"{name}-{i:03d}"
        gold = LABELS[rng.randrange(len(LABELS))]
        wrong = LABELS[(LABELS.index(gold) + 1) % len(LABELS)]
        rows.append({"key": ex, "text": f"message {ex}", "label": gold, "segment": name})
        base_pred[ex] = gold if i < round(pb * n) else wrong
        ft_pred[ex] = gold if (i + 7) % n < round(pc * n) else wrong
fte.write_jsonl(os.path.join(d, "data.jsonl"), rows)
fte.write_jsonl(os.path.join(d, "base.jsonl"), [{"id": k, "prediction": v} for k, v in base_pred.items()])
fte.write_jsonl(os.path.join(d, "ft.jsonl"), [{"id": k, "prediction": v} for k, v in ft_pred.items()])
cfg = fte.config(os.path.join(d, "c.json"), "data.jsonl", "http://127.0.0.1:9/v1",
                 [{"name": "base", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"},
                  {"name": "ft", "provider": "sim", "model": "ft:gpt-4o-mini-2024-07-18:acme::x"}],
                 task={"metrics": ["exact_match"], "id_field": "key", "input_field": "text",
                       "gold_field": "label", "slice_field": "segment", "slice_min_n": 10},
                 baseline_arm="base", candidate_arm="ft", stats={"resamples": 2000, "seed": 3})
out = os.path.join(d, "out")
p = fte.run("score", "--config", cfg, "--dataset", os.path.join(d, "data.jsonl"), "--baseline", "base",
            "--pred", "base=" + os.path.join(d, "base.jsonl"), "--pred", "ft=" + os.path.join(d, "ft.jsonl"),
            "--out", out)
t(p.returncode == 0, f"score exit {p.returncode}: {p.stderr[-500:]}")
s = json.load(open(os.path.join(out, "summary.json")))


def em(pred, ids):
    return sum(pred[i] == next(r["label"] for r in rows if r["key"] == i) for i in ids)


gold = {r["key"]: r["label"] for r in rows}
ids_of = {name: [r["key"] for r in rows if r["segment"] == name] for name, *_ in PLAN}
mean_b = sum(base_pred[k] == gold[k] for k in gold) / len(gold)
mean_c = sum(ft_pred[k] == gold[k] for k in gold) / len(gold)
t(mean_c > mean_b + 0.05, f"fixture: the candidate's average rises ({mean_b:.3f} -> {mean_c:.3f})")
overall = next(c for c in s["comparisons"] if c["a"] == "ft" and c["metric"] == "exact_match")
t(overall["significant"] and overall["delta"] > 0, "overall: significantly better")


def wilson(k, n, z=1.959963984540054):
    ph = k / n
    c = (ph + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return c - h, c + h


# reference: per tested slice, McNemar exact on discordant pairs; Holm over the tested slices
ref = {}
for name, n, _, _ in PLAN:
    ids = ids_of[name]
    b10 = sum(ft_pred[i] == gold[i] and base_pred[i] != gold[i] for i in ids)   # ft right, base wrong
    c01 = sum(ft_pred[i] != gold[i] and base_pred[i] == gold[i] for i in ids)
    delta = (sum(ft_pred[i] == gold[i] for i in ids) - sum(base_pred[i] == gold[i] for i in ids)) / n
    p_raw = 1.0 if b10 + c01 == 0 else binomtest(min(b10, c01), b10 + c01, 0.5).pvalue
    ref[name] = {"n": n, "delta": delta, "p": min(1.0, p_raw), "tested": n >= 10}
tested = sorted([k for k in ref if ref[k]["tested"]], key=lambda k: ref[k]["p"])
m, run_max = len(tested), 0.0
for j, k in enumerate(tested):  # Holm step-down
    run_max = max(run_max, min(1.0, (m - j) * ref[k]["p"]))
    ref[k]["p_adj"] = run_max

blk = s.get("slices")
t(isinstance(blk, dict), "summary.json has a slices block")
if isinstance(blk, dict):
    t(blk["field"] == "segment" and blk["metric"] == "exact_match" and blk["baseline_arm"] == "base"
      and blk["min_n"] == 10 and blk["adjustment"] == "holm", f"block header {[blk.get(k) for k in ('field', 'metric', 'min_n')]}")
    t([e["name"] for e in blk["slices"]] == sorted(ids_of), "slices listed in name order")
    for e in blk["slices"]:
        ids = ids_of[e["name"]]
        for arm, pred in (("base", base_pred), ("ft", ft_pred)):
            a = e["arms"][arm]
            k = sum(pred[i] == gold[i] for i in ids)
            lo, hi = wilson(k, len(ids))
            mm = a["metrics"]["exact_match"]
            t(a["n"] == len(ids) and abs(mm["mean"] - k / len(ids)) < 1e-12, f"{e['name']}/{arm}: n and mean")
            t(abs(mm["ci"][0] - lo) < 1e-9 and abs(mm["ci"][1] - hi) < 1e-9, f"{e['name']}/{arm}: Wilson CI")
    cmps = {c["slice"]: c for c in blk["comparisons"] if c["a"] == "ft"}
    t(set(cmps) == set(ids_of), "one comparison per slice for the candidate")
    for name, r in ref.items():
        c = cmps.get(name, {})
        t(c.get("tested") == r["tested"] and c.get("n") == r["n"], f"{name}: tested={r['tested']} n={r['n']}")
        if r["tested"]:
            t(abs(c["delta"] - r["delta"]) < 1e-12, f"{name}: delta {c['delta']} vs {r['delta']}")
            t(c["p_adjusted_source"] == "p_mcnemar" and abs(c["p_mcnemar"] - r["p"]) < 1e-9,
              f"{name}: McNemar p {c['p_mcnemar']} vs {r['p']}")
            t(abs(c["p_adjusted"] - r["p_adj"]) < 1e-9 and c["family_size"] == m and c["family"] == "slices",
              f"{name}: Holm p {c['p_adjusted']} vs {r['p_adj']} over {m}")
            want_worse = r["p_adj"] < 0.05 and r["delta"] < 0
            t(c["worse"] == want_worse, f"{name}: worse={want_worse}")
        else:
            t("p_adjusted" not in c and c["note"] == "6 paired examples, fewer than task.slice_min_n = 10: listed, not tested",
              f"{name}: listed, not tested: {c.get('note')!r}")

dec = s["decision"]
t(dec["verdict"] == "keep_baseline", f"verdict {dec['verdict']} (the average rose, but a slice regressed)")
r = ref["rare"]
pstr = "p<0.001" if r["p_adj"] < 0.001 else "p=%.3f" % r["p_adj"]
want = f"slice segment=rare: ft is significantly worse than base on EM ({r['delta'] * 100:+.1f} pts, {pstr} Holm over {m} slices)"
t(want in dec["reasons"], f"reason {want!r} in {dec['reasons']}")
t("not shipped: ft regresses on 1 slice, whatever its average" in dec["reasons"], "the verdict says why")
t(not any(x.startswith("slice ") and "=rare:" not in x for x in dec["reasons"]), "only the regressed slice is a reason")

# the report shows the per-slice table (md and html)
md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
t("## Slices" in md and "| rare |" in md and "not tested" in md, "report.md has the per-slice table")
t('id="slices"' in html and "<td>rare</td>" in html, "report.html has the per-slice table")

# without a regression (drop the rare slice's loss): ship_candidate, no slice reason
ft2 = dict(ft_pred)
for i in ids_of["rare"]:
    ft2[i] = base_pred[i]
fte.write_jsonl(os.path.join(d, "ft2.jsonl"), [{"id": k, "prediction": v} for k, v in ft2.items()])
out2 = os.path.join(d, "out2")
p = fte.run("score", "--config", cfg, "--dataset", os.path.join(d, "data.jsonl"), "--baseline", "base",
            "--pred", "base=" + os.path.join(d, "base.jsonl"), "--pred", "ft=" + os.path.join(d, "ft2.jsonl"),
            "--out", out2)
s2 = json.load(open(os.path.join(out2, "summary.json")))
t(s2["decision"]["verdict"] == "ship_candidate" and not any(x.startswith("slice ") for x in s2["decision"]["reasons"]),
  f"no regressed slice: {s2['decision']['verdict']}")
# a dataset without slices has no block
fte.write_jsonl(os.path.join(d, "noslice.jsonl"), [{"id": r["key"], "input": r["text"], "gold": r["label"]} for r in rows])
out3 = os.path.join(d, "out3")
p = fte.run("score", "--dataset", os.path.join(d, "noslice.jsonl"), "--pred", "base=" + os.path.join(d, "base.jsonl"),
            "--out", out3)
t(p.returncode == 0 and "slices" not in json.load(open(os.path.join(out3, "summary.json"))), "no slice field: no block")
t.done()
