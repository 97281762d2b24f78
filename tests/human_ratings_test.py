#!/usr/bin/env python3
"""human_ratings_test.py — `fteval rate export` and `rate import` end to end (issue 12), and
every number of summary.json's "human" block checked against independent references:

  - Cohen's kappa, weighted kappa (linear, quadratic) and Fleiss' kappa against statsmodels
    (statsmodels.stats.inter_rater.cohens_kappa / fleiss_kappa, Debian python3-statsmodels);
  - Krippendorff's alpha (nominal, ordinal) against a reference written here from Krippendorff
    2011, "Computing Krippendorff's Alpha-Reliability" (coincidence matrix, delta^2), itself
    checked on the paper's worked example (4 observers x 12 units: nominal .743);
  - the calibrated estimate against prediction-powered inference for a mean written here from
    Angelopoulos et al. 2023 (Science 382), with the variance the issue states;
  - per-arm human win rates / mean scores and their intervals from the definitions;
all to 1e-9. Also: the blinding (no arm or model name in items.jsonl, sheet.csv or rate.html;
the key stays in the run), seeded and stable sampling and A/B order, inputs from the record or
rendered from the dataset, RFC 4180 round trip, import errors naming file:line:field with
nothing lost, and the rubric's evaluation dimension (judge-only capped at 3, 5 with ratings).
"""
import csv
import io
import json
import math
import os
import random
import shutil
import statistics
import sys
from statistics import NormalDist

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
import judged_run  # noqa: E402
from skip import skip_or_fail  # noqa: E402

try:
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa
except ImportError:
    skip_or_fail("python3-statsmodels / python3-numpy (Debian)")

TOL = 1e-9
t = fte.Checks()
d = fte.tmpdir()
R = judged_run.make(d, n=60)
run = R["out"]
ARMS, MODELS = R["arms"], R["models"] + ["judge-model-x"]


def near(a, b, msg):
    ok = (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= TOL)
    t(ok, f"{msg}: got {a}, want {b}")


def summary():
    return json.load(open(os.path.join(run, "summary.json")))


def records(arm):
    return {r["id"]: r for r in fte.read_jsonl(os.path.join(run, arm + ".jsonl"))}


RECS = {a: records(a) for a in ARMS}

# ---- the judge-only decision: capped at 3, "import human ratings" as the way up -----------------
empty = os.path.join(d, "empty.csv")
open(empty, "w").write("item,rating,rater\n")
p = fte.run("rate", "import", run, empty)  # no rating: summary rebuilt, no human block
t(p.returncode == 3, f"import before any export fails (no key): {p.returncode} {p.stderr}")
t("rate export" in p.stderr, "the error says to export first")

# ---- export ---------------------------------------------------------------------------------------
out_p = os.path.join(d, "set_pref")
p = fte.run("rate", "export", run, "--judge", "pref", "--n", "25", "--seed", "7", "--out", out_p)
t(p.returncode == 0, f"export pref: {p.returncode} {p.stderr}")
p = fte.run("rate", "import", run, empty)
t(p.returncode == 0 and "imported 0 rating(s)" in p.stdout, f"empty import: {p.stdout} {p.stderr}")
s = summary()
t("human" not in s, "no human block before ratings are imported")
ev = s["decision"]["rubric"]["dimensions"]["evaluation"]
t(ev["score"] == 3, f"judge-only evidence is capped at 3: {ev}")
t("import human ratings" in ev["to_improve"], f"the way up names human ratings: {ev['to_improve']}")

items_p = fte.read_jsonl(os.path.join(out_p, "items.jsonl"))
key_p = json.load(open(os.path.join(run, "rate", "pref.key.json")))
t(len(items_p) == 25, f"25 examples give 25 pairwise items (one judged arm): {len(items_p)}")
t(set(key_p["items"]) == {i["item"] for i in items_p}, "the key has every item")
t(not any(f.endswith(".key.json") for f in os.listdir(out_p)), "no key in the rating set")
t(sorted(os.listdir(out_p)) == ["items.jsonl", "rate.html", "sheet.csv"], "the three files")
pref_examples = {ex for ex, r in RECS["tuned_arm"].items()
                 if r["judgements"]["pref"].get("outcome") and r["status"] == "ok"
                 and RECS["base_arm"][ex]["status"] == "ok"}
orders = set()
for it in items_p:
    k = key_p["items"][it["item"]]
    ex = k["example"]
    t(ex in pref_examples, f"{it['item']}: sampled from examples with the judgement")
    t(k["arm"] == "tuned_arm" and k["against"] == "base_arm", "the key names arm and against")
    a_arm = k["a"]
    b_arm = "base_arm" if a_arm == "tuned_arm" else "tuned_arm"
    orders.add(a_arm)
    t(it["output_a"] == RECS[a_arm][ex]["prediction"] and
      it["output_b"] == RECS[b_arm][ex]["prediction"], f"{it['item']}: A/B are the key's arms")
    t(it["input"] == "Q: " + ex + " (as recorded)", f"{it['item']}: the record's input field")
    t(it["reference"] == RECS["tuned_arm"][ex]["gold"], "reference is the gold")
    t(it["task"] == "pairwise" and it["choices"] == ["A", "B", "tie"], "pairwise item shape")
t(orders == {"tuned_arm", "base_arm"}, f"both A/B orders occur: {orders}")

# seeded and stable: the same seed gives the same bytes; a smaller n is a subset; another seed differs
again = os.path.join(d, "set_pref_again")
fte.run("rate", "export", run, "--judge", "pref", "--n", "25", "--seed", "7", "--out", again)
t(open(os.path.join(again, "items.jsonl")).read() == open(os.path.join(out_p, "items.jsonl")).read(),
  "same seed, same items.jsonl")
small = os.path.join(d, "set_small")
fte.run("rate", "export", run, "--judge", "pref", "--n", "10", "--seed", "7", "--out", small)
t({i["item"] for i in fte.read_jsonl(os.path.join(small, "items.jsonl"))} <=
  {i["item"] for i in items_p}, "--n 10 is a subset of --n 25 (same seed)")
other = os.path.join(d, "set_other")
fte.run("rate", "export", run, "--judge", "pref", "--n", "25", "--seed", "8", "--out", other)
t({i["item"] for i in fte.read_jsonl(os.path.join(other, "items.jsonl"))} !=
  {i["item"] for i in items_p}, "another seed, other items")
p = fte.run("rate", "export", run, "--judge", "pref", "--out", os.path.join(run, "rate"))
t(p.returncode == 3 and "must not go into the run" in p.stderr, f"--out in the run refused: {p.stderr}")
p = fte.run("rate", "export", run, "--judge", "nosuch", "--out", os.path.join(d, "x"))
t(p.returncode == 3 and "judgements.nosuch" in p.stderr, f"unknown judge: {p.stderr}")

out_q = os.path.join(d, "set_quality")
p = fte.run("rate", "export", run, "--judge", "quality", "--n", "500", "--out", out_q)
t(p.returncode == 0 and "took all" in p.stdout and "60 example(s)" in p.stdout,
  f"--n beyond what exists takes all and says so: {p.stdout}")
items_q = fte.read_jsonl(os.path.join(out_q, "items.jsonl"))
key_q = json.load(open(os.path.join(run, "rate", "quality.key.json")))
n_quality = sum(1 for a in ARMS for r in RECS[a].values()
                if r["status"] == "ok" and "score" in r["judgements"]["quality"])
t(len(items_q) == n_quality, f"one rubric item per judged arm and example: {len(items_q)} {n_quality}")
rows = {r["id"]: r for r in R["rows"]}
for it in items_q:
    k = key_q["items"][it["item"]]
    rec = RECS[k["arm"]][k["example"]]
    want = ("Q: " + k["example"] + " (as recorded)" if k["arm"] == "tuned_arm"
            else "Q: " + rows[k["example"]]["input"])  # base_arm records have no input: rendered
    t(it["input"] == want, f"{it['item']}: input {it['input']!r} want {want!r}")
    t(it["output"] == rec["prediction"] and it["scale"] == [1, 5], "rubric item shape")

# blinding: no arm or model name in anything the raters get
for folder in (out_p, out_q):
    for f in ("items.jsonl", "sheet.csv", "rate.html"):
        text = open(os.path.join(folder, f), encoding="utf-8").read()
        for name in ARMS + MODELS:
            t(name not in text, f"{folder}/{f} names '{name}'")
# sheet.csv is RFC 4180 and carries the same items
sheet = list(csv.DictReader(open(os.path.join(out_q, "sheet.csv"), newline="", encoding="utf-8")))
t([r["item"] for r in sheet] == [i["item"] for i in items_q], "sheet rows = items")
t(all(r["output"] == i["output"] and r["input"] == i["input"] and r["choices"] == "1..5"
      for r, i in zip(sheet, items_q)), "sheet cells round-trip")

# ---- ratings: three raters, CSV and JSONL, some items left unrated -------------------------------
rng = random.Random(11)
judge_of = {}
for it in items_p:
    k = key_p["items"][it["item"]]
    outcome = RECS["tuned_arm"][k["example"]]["judgements"]["pref"]["outcome"]
    winner = {"win": "tuned_arm", "loss": "base_arm"}.get(outcome)
    judge_of[it["item"]] = "tie" if not winner else ("A" if winner == k["a"] else "B")


def pick_pair(item):
    # raters agree with the judge 70% of the time
    return judge_of[item] if rng.random() < 0.7 else rng.choice(["A", "B", "tie"])


def pick_score(item):
    k = key_q["items"][item]
    j = RECS[k["arm"]][k["example"]]["judgements"]["quality"]["score"]
    return max(1, min(5, j + rng.choice([-1, 0, 0, 0, 1])))


files = []
for rater in ("ann", "bob", "cyd"):
    lines = []
    for it in items_p:
        if rng.random() < 0.85:
            lines.append((it["item"], pick_pair(it["item"])))
    for it in items_q:
        if rng.random() < 0.85:
            lines.append((it["item"], str(pick_score(it["item"]))))
    lines.append((items_q[0]["item"], ""))  # a row left unrated: skipped
    if rater == "cyd":  # JSONL, rater given by --rater
        path = os.path.join(d, "cyd.jsonl")
        fte.write_jsonl(path, [{"item": i, "rating": (int(r) if r.isdigit() else r)} for i, r in lines
                               if r])
    else:
        path = os.path.join(d, rater + ".csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["item", "note", "rating", "rater"])
            for i, r in lines:
                w.writerow([i, 'a "quoted", multi\nline note', r, rater])
    files.append(path)

# errors: nothing is written, each names file, line and field
bad = os.path.join(d, "bad.csv")
cases = [("item,rating,rater\nnope,A,zed\n", "bad.csv:2: field 'item'"),
         (f"item,rating,rater\n{items_q[1]['item']},7,zed\n", "bad.csv:2: field 'rating': 7 is outside the scale 1..5"),
         (f"item,rating,rater\n{items_p[1]['item']},C,zed\n", "bad.csv:2: field 'rating': 'C'"),
         (f"item,rating,rater\n{items_p[1]['item']},A,zed\n{items_p[1]['item']},B,zed\n",
          "bad.csv:3: field 'rating': item '" + items_p[1]["item"] + "' is already rated by 'zed'"),
         (f"item,rating\n{items_p[1]['item']},A\n", "bad.csv:2: field 'rater'"),
         ("rating\nA\n", "bad.csv:1: the header needs columns 'item' and 'rating'")]
for text, want in cases:
    open(bad, "w").write(text)
    p = fte.run("rate", "import", run, bad)
    t(p.returncode == 3 and want in p.stderr, f"error {want!r}: {p.returncode} {p.stderr}")
    t(not os.path.exists(os.path.join(run, "human.jsonl")), "a failed import writes nothing")

p = fte.run("rate", "import", run, files[0], files[1])
t(p.returncode == 0, f"import ann, bob: {p.returncode} {p.stderr}")
before = open(os.path.join(run, "human.jsonl")).read()
p = fte.run("rate", "import", run, files[0])
t(p.returncode == 3 and "already rated by 'ann'" in p.stderr, "re-importing a file is refused")
open(bad, "w").write(f"item,rating,rater\n{items_p[0]['item']},A,dan\nnope,A,dan\n")
p = fte.run("rate", "import", run, bad)
t(p.returncode == 3 and open(os.path.join(run, "human.jsonl")).read() == before,
  "a failed import loses nothing already imported and adds nothing")
p = fte.run("rate", "import", run, files[2], "--rater", "cyd")
t(p.returncode == 0, f"import cyd (JSONL, --rater): {p.returncode} {p.stderr}")

human = fte.read_jsonl(os.path.join(run, "human.jsonl"))
n_given = 0
for path in files[:2]:
    n_given += sum(1 for r in csv.DictReader(open(path, newline="")) if r["rating"])
n_given += len(fte.read_jsonl(files[2]))
t(len(human) == n_given, f"every rating imported once: {len(human)} {n_given}")
for h in human:  # unblinded correctly
    if h["judge"] == "pref":
        k = key_p["items"][h["item"]]
        winner = k["a"] if h["rating"] == "A" else ("base_arm" if k["a"] == "tuned_arm" else "tuned_arm")
        want = "tie" if h["rating"] == "tie" else ("win" if winner == "tuned_arm" else "loss")
        t(h["outcome"] == want and h["arm"] == "tuned_arm" and h["against"] == "base_arm",
          f"unblinded outcome {h}")
    else:
        k = key_q["items"][h["item"]]
        t(h["score"] == int(h["rating"]) and h["arm"] == k["arm"] and h["example"] == k["example"],
          f"unblinded score {h}")

# ---- the human block against the references --------------------------------------------------------
s = summary()
hb = s["human"]
t(hb["n_ratings"] == len(human) and hb["agreement_reported"] is True, "human block totals")
Z = NormalDist().inv_cdf(1 - 0.05 / 2)


def kripp_alpha(units, k, ordinal):
    """Krippendorff 2011: units = lists of the values each unit got (categories 0..k-1)."""
    o = [[0.0] * k for _ in range(k)]
    for vals in units:
        m = len(vals)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[vals[i]][vals[j]] += 1.0 / (m - 1)
    nc = [sum(row) for row in o]
    n = sum(nc)

    def delta(c, kk):
        if not ordinal:
            return 0.0 if c == kk else 1.0
        lo, hi = min(c, kk), max(c, kk)
        return (sum(nc[g] for g in range(lo, hi + 1)) - (nc[c] + nc[kk]) / 2) ** 2
    do = sum(o[c][kk] * delta(c, kk) for c in range(k) for kk in range(k))
    de = sum(nc[c] * nc[kk] * delta(c, kk) for c in range(k) for kk in range(k))
    return 1 - (n - 1) * do / de


# the reference reproduces the paper's worked example (Krippendorff 2011, section C)
ex = [[1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
      [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1],
      [None, None, 3, None]]
ex_units = [[v - 1 for v in u if v is not None] for u in ex]
t(round(kripp_alpha(ex_units, 5, False), 3) == 0.743, "reference: the paper's nominal alpha .743")


def ppi(f_all, f, h, alpha=0.05):
    """Angelopoulos et al. 2023, mean estimation: theta = mean(f over N) + mean(h - f over n);
    var = s^2(f)/N + s^2(h - f)/n (sample variances, ddof 1)."""
    rect = [hi - fi for hi, fi in zip(h, f)]
    theta = statistics.fmean(f_all) + statistics.fmean(rect)
    se = math.sqrt(statistics.variance(f_all) / len(f_all) + statistics.variance(rect) / len(rect))
    return theta, se, statistics.variance(h) / se ** 2


def check_judge(name, cats, label_of_human, judge_label):
    jb = hb["judges"][name]
    mine = [h for h in human if h["judge"] == name]
    raters = sorted({h["rater"] for h in mine})
    items = sorted({h["item"] for h in mine})
    idx = {c: i for i, c in enumerate(cats)}
    val = {(h["item"], h["rater"]): idx[label_of_human(h)] for h in mine}
    k = len(cats)
    ir = jb["inter_rater"]
    t(ir["n_raters"] == 3 and ir["n_items"] == len(items), f"{name}: raters and items")
    for pair in ir["pairs"]:
        a, b = pair["a"], pair["b"]
        table = np.zeros((k, k))
        for it in items:
            if (it, a) in val and (it, b) in val:
                table[val[(it, a)], val[(it, b)]] += 1
        t(pair["n_items"] == int(table.sum()), f"{name} {a}/{b}: n")
        near(pair["cohen_kappa"], cohens_kappa(table, return_results=False), f"{name} {a}/{b} kappa")
        near(pair["weighted_kappa_linear"], cohens_kappa(table, wt="linear", return_results=False),
             f"{name} {a}/{b} linear weighted kappa")
        near(pair["weighted_kappa_quadratic"],
             cohens_kappa(table, wt="quadratic", return_results=False),
             f"{name} {a}/{b} quadratic weighted kappa")
    full = [it for it in items if all((it, r) in val for r in raters)]
    counts = np.zeros((len(full), k))
    for i, it in enumerate(full):
        for r in raters:
            counts[i, val[(it, r)]] += 1
    t(ir["fleiss_n_items"] == len(full) and len(full) > 5, f"{name}: Fleiss items {len(full)}")
    near(ir["fleiss_kappa"], fleiss_kappa(counts, method="fleiss"), f"{name} Fleiss kappa")
    units = [[val[(it, r)] for r in raters if (it, r) in val] for it in items]
    near(ir["krippendorff_alpha_nominal"], kripp_alpha(units, k, False), f"{name} alpha nominal")
    near(ir["krippendorff_alpha_ordinal"], kripp_alpha(units, k, True), f"{name} alpha ordinal")
    # judge vs human, every rating
    conf = np.zeros((k, k))
    for h in mine:
        jl = judge_label(h)
        conf[idx[label_of_human(h)], idx[jl]] += 1
    ja = jb["judge_agreement"]
    t(ja["confusion"] == conf.astype(int).tolist(), f"{name}: confusion matrix")
    t(ja["categories"] == cats, f"{name}: categories")
    near(ja["raw_agreement"], float(np.trace(conf) / conf.sum()), f"{name} raw agreement")
    near(ja["cohen_kappa"], cohens_kappa(conf, return_results=False), f"{name} judge kappa")
    near(ja["weighted_kappa_quadratic"], cohens_kappa(conf, wt="quadratic", return_results=False),
         f"{name} judge quadratic kappa")
    return jb, mine


jb, mine = check_judge("pref", ["loss", "tie", "win"], lambda h: h["outcome"],
                       lambda h: RECS["tuned_arm"][h["example"]]["judgements"]["pref"]["outcome"])
# human win rate (ties 1/2): raters averaged per item, then over items
per_item = {}
for h in mine:
    per_item.setdefault(h["example"], []).append(h["value"])
hv = {ex: statistics.fmean(v) for ex, v in per_item.items()}
arm = jb["arms"]["tuned_arm"]
m = statistics.fmean(hv.values())
se = statistics.stdev(hv.values()) / math.sqrt(len(hv))
near(arm["win_rate"], m, "human win rate")
near(arm["se"], se, "human win rate SE")
near(arm["ci"][0], max(0, m - Z * se), "human win rate CI low")
near(arm["ci"][1], min(1, m + Z * se), "human win rate CI high")
t(arm["against"] == "base_arm" and arm["n_items"] == len(hv), "win rate is against base_arm")
# calibrated: judge values on every judged example, corrections on the rated ones
jv = {ex: RECS["tuned_arm"][ex]["judgements"]["pref"]["value"] for ex in pref_examples}
f_all = [jv[ex] for ex in sorted(jv)]
rated = sorted(hv)
theta, se, neff = ppi(f_all, [jv[e] for e in rated], [hv[e] for e in rated])
c = [e for e in jb["calibrated"] if e["a"] == "tuned_arm"][0]
t(c["b"] == "base_arm" and c["N"] == len(f_all) and c["n"] == len(rated), f"calibrated N, n: {c}")
near(c["calibrated"]["mean"], theta, "calibrated win rate")
near(c["calibrated"]["se"], se, "calibrated SE")
near(c["calibrated"]["ci"][0], theta - Z * se, "calibrated CI low")
near(c["calibrated"]["ci"][1], theta + Z * se, "calibrated CI high")
near(c["judge_only"]["mean"], statistics.fmean(f_all), "judge-only win rate")
near(c["judge_only"]["se"], statistics.stdev(f_all) / math.sqrt(len(f_all)), "judge-only SE")
near(c["human_only"]["mean"], m, "human-only win rate")
near(c["n_effective"], neff, "effective sample size")

jb, mine = check_judge("quality", [1, 2, 3, 4, 5], lambda h: h["score"],
                       lambda h: RECS[h["arm"]][h["example"]]["judgements"]["quality"]["score"])
hq = {}
for h in mine:
    hq.setdefault((h["arm"], h["example"]), []).append(h["score"])
hq = {k: statistics.fmean(v) for k, v in hq.items()}
jq = {(a, ex): r["judgements"]["quality"]["score"] for a in ARMS for ex, r in RECS[a].items()
      if r["status"] == "ok" and "score" in r["judgements"]["quality"]}
for a in ARMS:
    vals = [v for (aa, _), v in hq.items() if aa == a]
    near(jb["arms"][a]["mean_score"], statistics.fmean(vals), f"{a} human mean score")
    near(jb["arms"][a]["se"], statistics.stdev(vals) / math.sqrt(len(vals)), f"{a} score SE")
    c = [e for e in jb["calibrated"] if e["a"] == a and e["b"] is None][0]
    exs = sorted(ex for (aa, ex) in jq if aa == a)
    r_exs = [ex for ex in exs if (a, ex) in hq]
    theta, se, neff = ppi([jq[(a, e)] for e in exs], [jq[(a, e)] for e in r_exs],
                          [hq[(a, e)] for e in r_exs])
    near(c["calibrated"]["mean"], theta, f"{a} calibrated mean score")
    near(c["calibrated"]["se"], se, f"{a} calibrated SE")
    near(c["n_effective"], neff, f"{a} effective n")
# paired: tuned - base on the examples both were judged (and both rated)
c = [e for e in jb["calibrated"] if e["a"] == "tuned_arm" and e["b"] == "base_arm"][0]
both = sorted(ex for (a, ex) in jq if a == "tuned_arm" and ("base_arm", ex) in jq)
d_all = [jq[("tuned_arm", e)] - jq[("base_arm", e)] for e in both]
r_both = [e for e in both if ("tuned_arm", e) in hq and ("base_arm", e) in hq]
theta, se, neff = ppi(d_all, [jq[("tuned_arm", e)] - jq[("base_arm", e)] for e in r_both],
                      [hq[("tuned_arm", e)] - hq[("base_arm", e)] for e in r_both])
t(c["N"] == len(d_all) and c["n"] == len(r_both), "paired calibrated N, n")
near(c["calibrated"]["mean"], theta, "paired calibrated difference")
near(c["calibrated"]["se"], se, "paired calibrated SE")
near(c["judge_only"]["mean"], statistics.fmean(d_all), "paired judge-only difference")

# ---- decision and reports ----------------------------------------------------------------------------
ev = s["decision"]["rubric"]["dimensions"]["evaluation"]
t(ev["score"] == 5 and "agreement reported" in ev["evidence"], f"with ratings of the judge: 5 {ev}")
p = fte.run("report", run)
t(p.returncode == 0 and summary()["human"] == hb, "fteval report keeps the human block")
md = open(os.path.join(run, "report.md"), encoding="utf-8").read()
html = open(os.path.join(run, "report.html"), encoding="utf-8").read()
t("## Human ratings" in md and "Krippendorff" in md and "calibrated" in md.lower(),
  "report.md shows the human block")
t("Human ratings" in html and "Krippendorff" in html, "report.html shows the human block")

# a record without "input" is rendered from the run's dataset, never from a changed one
with open(os.path.join(d, "data.jsonl"), "a") as f:
    f.write(json.dumps({"id": "late", "input": "added after the run", "gold": "x"}) + "\n")
p = fte.run("rate", "export", run, "--judge", "quality", "--out", os.path.join(d, "set_changed"))
t(p.returncode == 3 and "not the dataset the run used" in p.stderr, f"changed dataset refused: {p.stderr}")
t.done()
