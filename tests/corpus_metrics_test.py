"""Corpus-level metrics (issue 13) end to end through `fteval score`, against independent
references:
  1. entity_f1 on the real WNUT-17 test set: the seven shared-task systems' official entity-level
     P/R/F1 (../shared/datasets/wnut17/predictions/scores.json) to 0.01 points, predictions given
     as entity lists; and the {type: [surface]} form against a reference of the alignment rule of
     metrics/corpus.h written here;
  2. macro_f1 / micro_f1, the per-class P/R/F1/support and the confusion matrix equal
     scikit-learn's (python3-sklearn) on banking77 with generated predictions, to 1e-9;
  3. the corpus bootstrap (per-arm CI, paired delta CI, shifted p) agrees with a numpy reference
     of the same definition (STATISTICS.md §6) within Monte Carlo tolerance; the
     approximate-randomization p with a numpy reference likewise;
  4. the Holm families: the primary metric alone decides, the others are secondary, and
     exact_match (equal to accuracy on banking77 labels) is reported as a duplicate.
Needs ../shared, numpy and scikit-learn: skipped (77) outside CI, a failure under CI."""
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from skip import skip_or_fail, shared, need_env  # noqa: E402

try:
    import numpy as np
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
except ImportError as e:  # pragma: no cover
    skip_or_fail("numpy / scikit-learn (apt-get install python3-numpy python3-sklearn): %s" % e)

TEAMS = ["Arcada", "Drexel-CCI", "FLYTXT", "MIC-CIS", "SJTU-Adapt", "SpinningBytes", "UH-RiTUAL"]
B = 10000
SEED = 20261124
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


def score(fteval, dataset, preds, metrics, out, extra=()):
    args = [fteval, "score", "--dataset", dataset, "--metrics", metrics, "--out", out,
            "--seed", str(SEED), "--resamples", str(B)]
    for name, path in preds:
        args += ["--pred", "%s=%s" % (name, path)]
    r = subprocess.run(args + list(extra), capture_output=True, text=True)
    if r.returncode not in (0, 1):  # 1: a verdict that is not "ship" is still a scored run
        print(r.stdout, r.stderr)
        raise SystemExit("fteval score failed: %d" % r.returncode)
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        return json.load(f)


def write_preds(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for i, p in rows:
            f.write(json.dumps({"id": i, "prediction": p}, ensure_ascii=False) + "\n")


# ---- 1. WNUT-17 -------------------------------------------------------------------------------

def align(obj, toks):
    """metrics/corpus.h: types longest surface first (then name); each type's surfaces left to
    right from the end of its previous one, never over tokens another entity took."""
    out, claimed = [], [False] * len(toks)
    def maxlen(t):
        return max([len(s.split(" ")) for s in obj[t]] or [0])
    for t in sorted(obj, key=lambda t: (-maxlen(t), t)):
        cur = 0
        for s in obj[t]:
            st = s.split(" ")
            for i in range(cur, len(toks) - len(st) + 1):
                if toks[i:i + len(st)] == st and not any(claimed[i:i + len(st)]):
                    out.append((t, i, i + len(st)))
                    cur = i + len(st)
                    for k in range(i, i + len(st)):
                        claimed[k] = True
                    break
            else:
                out.append((t, -1, -1, s))  # unaligned: predicted, never matched
    return out


def wnut(fteval, tmp):
    test = shared("datasets", "wnut17", "test.jsonl")
    golds = [json.loads(l) for l in open(test, encoding="utf-8")]
    official = json.load(open(shared("datasets", "wnut17", "predictions", "scores.json")))["scores"]
    span_args, surf_args, surf_ref = [], [], {}
    for team in TEAMS:
        preds = [json.loads(l) for l in open(shared("datasets", "wnut17", "predictions", team + ".jsonl"),
                                             encoding="utf-8")]
        assert [p["id"] for p in preds] == [g["id"] for g in golds], team
        p1, p2 = os.path.join(tmp, team + ".spans.jsonl"), os.path.join(tmp, team + ".surf.jsonl")
        write_preds(p1, [(p["id"], json.dumps([{"type": e["type"], "start": e["start"], "end": e["end"]}
                                               for e in p["entities"]])) for p in preds])
        write_preds(p2, [(p["id"], json.dumps(p["prediction"], ensure_ascii=False)) for p in preds])
        span_args.append((team, p1))
        surf_args.append((team, p2))
        tp = npred = 0
        for p, g in zip(preds, golds):
            pe = align(p["prediction"], g["tokens"])
            gs = {(e["type"], e["start"], e["end"]) for e in g["entities"]}
            tp += len({x for x in pe if len(x) == 3} & gs)
            npred += len(pe)
        surf_ref[team] = (tp, npred)
    s = score(fteval, test, span_args, "entity_f1", os.path.join(tmp, "wnut-spans"))
    for team in TEAMS:
        m = s["arms"][team]["metrics"]["entity_f1"]
        d, o = m["detail"], official[team]
        check((d["tp"], d["pred"], d["gold"]) == (o["tp"], o["n_pred"], o["n_gold"]),
              "%s: tp/pred/gold %s vs official %s" % (team, (d["tp"], d["pred"], d["gold"]),
                                                    (o["tp"], o["n_pred"], o["n_gold"])))
        for k in ("precision", "recall", "f1"):
            check(abs(100 * d[k] - o[k]) <= 0.01, "%s: %s %.4f vs official %.4f" % (team, k, 100 * d[k], o[k]))
        check(abs(100 * m["mean"] - o["f1"]) <= 0.01, "%s: mean %.4f vs F1 %.4f" % (team, 100 * m["mean"], o["f1"]))
        print("entity_f1 %-14s P %.2f R %.2f F1 %.2f (official %.2f %.2f %.2f)" %
              (team, 100 * d["precision"], 100 * d["recall"], 100 * d["f1"], o["precision"], o["recall"], o["f1"]))
    s2 = score(fteval, test, surf_args, "entity_f1", os.path.join(tmp, "wnut-surf"))
    for team in TEAMS:
        d = s2["arms"][team]["metrics"]["entity_f1"]["detail"]
        check((d["tp"], d["pred"]) == surf_ref[team],
              "%s: surface form tp/pred %s vs reference %s" % (team, (d["tp"], d["pred"]), surf_ref[team]))
        print("entity_f1 %-14s surface form: tp %d (spans: %d)" % (team, d["tp"], official[team]["tp"]))
    # the comparisons are corpus comparisons in one primary family (7 - 1 arms)
    cmp = [c for c in s["comparisons"] if c["metric"] == "entity_f1"]
    check(len(cmp) == 6 and all(c["family"] == "primary" and c["family_size"] == 6 for c in cmp),
          "wnut: six primary comparisons")
    check(all(c["p_adjusted_source"] == "p_randomization" and c["corpus"] for c in cmp), "wnut: AR decides")


# ---- 2-4. banking77 -----------------------------------------------------------------------------

def gen_preds(rows, labels, acc, seed):
    rng = np.random.RandomState(seed)
    out = []
    for r in rows:
        u = rng.random_sample()
        if u < acc:
            p = r["label"]
            if rng.random_sample() < 0.05:
                p = "  " + p + "\n"  # padding: stripped like accuracy does
        elif u < acc + 0.01:
            p = "not_a_label"  # a predicted class outside the gold set
        elif u < acc + 0.012:
            p = "<b>&x</b>"  # hostile label: escaped in both reports
        else:
            p = labels[rng.randint(len(labels))]
        out.append(p)
    return out


def counts(y, p, K):
    """per class tp, gold count, predicted count (label ids)"""
    tp = np.bincount(y[y == p], minlength=K)
    return tp, np.bincount(y, minlength=K), np.bincount(p, minlength=K)


def macro(tp, gc, pc):
    den = gc + pc
    used = den > 0
    return float(np.mean(2.0 * tp[used] / den[used])) if used.any() else 0.0


def banking(fteval, tmp):
    test = shared("datasets", "banking77", "test.jsonl")
    rows = [json.loads(l) for l in open(test, encoding="utf-8")]
    labels = json.load(open(shared("datasets", "banking77", "labels.json")))
    arms = {"base": gen_preds(rows, labels, 0.72, 1), "cand": gen_preds(rows, labels, 0.745, 2)}
    preds = []
    for name, ps in arms.items():
        path = os.path.join(tmp, "b77-%s.jsonl" % name)
        write_preds(path, [(r["id"], p) for r, p in zip(rows, ps)])
        preds.append((name, path))
    s = score(fteval, test, preds, "macro_f1,micro_f1,accuracy,exact_match", os.path.join(tmp, "b77"),
              ["--baseline", "base"])
    y_true = [r["label"] for r in rows]
    classes = sorted(set(y_true) | {p.strip() for ps in arms.values() for p in ps})
    cid = {c: k for k, c in enumerate(classes)}
    K = len(classes)
    yt = np.array([cid[x] for x in y_true])
    ids = {}
    for name, ps in arms.items():
        y_pred = [p.strip() for p in ps]
        ids[name] = np.array([cid[x] for x in y_pred])
        m = s["arms"][name]["metrics"]
        union = sorted(set(y_true) | set(y_pred))
        ref_macro = f1_score(y_true, y_pred, average="macro", labels=union, zero_division=0)
        ref_micro = f1_score(y_true, y_pred, average="micro")
        check(abs(m["macro_f1"]["mean"] - ref_macro) <= 1e-9, "%s: macro %r vs sklearn %r" % (name, m["macro_f1"]["mean"], ref_macro))
        check(abs(m["micro_f1"]["mean"] - ref_micro) <= 1e-9, "%s: micro %r vs sklearn %r" % (name, m["micro_f1"]["mean"], ref_micro))
        check(abs(m["micro_f1"]["mean"] - m["accuracy"]["mean"]) <= 1e-12, "%s: micro == accuracy" % name)
        P, R, F, S = precision_recall_fscore_support(y_true, y_pred, labels=union, zero_division=0)
        d = m["macro_f1"]["detail"]
        got = {e["label"]: e for e in d["per_class"]}
        check(sorted(got) == union, "%s: per-class labels are the union" % name)
        worst = 0.0
        for k, lab in enumerate(union):
            e = got.get(lab, {})
            worst = max(worst, abs(e.get("precision", -9) - P[k]), abs(e.get("recall", -9) - R[k]),
                        abs(e.get("f1", -9) - F[k]))
            check(e.get("support") == S[k], "%s: support of %s" % (name, lab))
        check(worst <= 1e-9, "%s: per-class P/R/F1 max |diff| %g" % (name, worst))
        # the confusion matrix: the shown labels exactly, the rest pooled into "(other)"
        cm = confusion_matrix(y_true, y_pred, labels=union)
        conf = d["confusion"]
        shown = [l for l in conf["labels"] if l != "(other)"]
        check(conf["capped"] == (len(shown) < len(union)) and conf["total_classes"] == len(union),
              "%s: confusion cap fields" % name)
        idx = [union.index(l) for l in shown]
        rest = [k for k in range(len(union)) if k not in idx]
        ref = cm[np.ix_(idx, idx)]
        if rest:
            ref = np.vstack([np.hstack([ref, cm[np.ix_(idx, rest)].sum(1, keepdims=True)]),
                             np.hstack([cm[np.ix_(rest, idx)].sum(0), [cm[np.ix_(rest, rest)].sum()]])])
        check(np.array_equal(np.array(conf["matrix"]), ref), "%s: confusion matrix equals scikit-learn's" % name)
        check(shown == sorted(shown), "%s: shown labels in name order" % name)
        print("%s: macro_f1 %.6f micro_f1 %.6f (sklearn %.6f %.6f), %d classes, confusion %d shown" %
              (name, m["macro_f1"]["mean"], m["micro_f1"]["mean"], ref_macro, ref_micro, len(union), len(shown)))

    # the reports: a per-class table in report.md, a heatmap per arm in report.html, labels escaped
    md = open(os.path.join(tmp, "b77", "report.md"), encoding="utf-8").read()
    html = open(os.path.join(tmp, "b77", "report.html"), encoding="utf-8").read()
    check("## Corpus-level metrics" in md and "### Per class: base" in md and "### Per class: cand" in md,
          "report.md has the per-class tables")
    check("| activate\\_my\\_card |" in md, "report.md per-class row (Markdown-escaped label)")
    check(html.count('id="chart-confusion-') == 2, "report.html has one confusion heatmap per arm")
    check("&lt;b&gt;&amp;x&lt;/b&gt;" in html and "<b>&x</b>" not in html, "report.html escapes labels")
    check("pooled" in html, "report.html says the confusion matrix is capped")

    # ---- 3. bootstrap and AR against numpy references of STATISTICS.md §6 ----
    n = len(rows)
    rng = np.random.default_rng(7)
    reps = {"base": np.empty(B), "cand": np.empty(B)}
    for b in range(B):
        ix = rng.integers(0, n, n)
        for name in reps:
            reps[name][b] = macro(*counts(yt[ix], ids[name][ix], K))
    val = {a: macro(*counts(yt, ids[a], K)) for a in ids}
    for name in reps:
        sd = reps[name].std(ddof=1)
        lo, hi = np.percentile(reps[name], [2.5, 97.5])
        ci = s["arms"][name]["metrics"]["macro_f1"]["ci"]
        tol = 0.15 * sd
        check(abs(ci[0] - lo) <= tol and abs(ci[1] - hi) <= tol,
              "%s: per-arm CI %s vs numpy [%.5f, %.5f] (tol %.5f)" % (name, ci, lo, hi, tol))
        print("%s: per-arm macro CI %s, numpy [%.5f, %.5f]" % (name, [round(x, 5) for x in ci], lo, hi))
    dd = reps["cand"] - reps["base"]
    delta = val["cand"] - val["base"]
    c = [x for x in s["comparisons"] if x["metric"] == "macro_f1"][0]
    check(abs(c["delta"] - delta) <= 1e-12, "delta %r vs %r" % (c["delta"], delta))
    lo, hi = np.percentile(dd, [2.5, 97.5])
    tol = 0.15 * dd.std(ddof=1)
    check(abs(c["ci"][0] - lo) <= tol and abs(c["ci"][1] - hi) <= tol,
          "delta CI %s vs numpy [%.5f, %.5f] (tol %.5f)" % (c["ci"], lo, hi, tol))
    p_ref = (1 + np.sum(np.abs(dd - delta) >= abs(delta))) / (B + 1)
    tolp = 4 * math.sqrt(2 * p_ref * (1 - p_ref) / B) + 2 / B
    check(abs(c["p_bootstrap"] - p_ref) <= tolp, "p_bootstrap %r vs numpy %r (tol %.4f)" % (c["p_bootstrap"], p_ref, tolp))
    print("delta %.5f CI %s (numpy [%.5f, %.5f]); p_bootstrap %.4f (numpy %.4f)" %
          (delta, [round(x, 5) for x in c["ci"]], lo, hi, c["p_bootstrap"], p_ref))
    # approximate randomization: swap the arms' outputs per example with probability 1/2
    hits = 0
    pa, pb = ids["cand"], ids["base"]
    for r in range(B):
        sw = rng.random(n) < 0.5
        xa, xb = np.where(sw, pb, pa), np.where(sw, pa, pb)
        hits += abs(macro(*counts(yt, xa, K)) - macro(*counts(yt, xb, K))) >= abs(delta) - 1e-12
    ar_ref = (1 + hits) / (B + 1)
    tolp = 4 * math.sqrt(2 * ar_ref * (1 - ar_ref) / B) + 2 / B
    check(abs(c["p_randomization"] - ar_ref) <= tolp,
          "p_randomization %r vs numpy %r (tol %.4f)" % (c["p_randomization"], ar_ref, tolp))
    print("p_randomization %.4f (numpy %.4f)" % (c["p_randomization"], ar_ref))

    # ---- 4. families ----
    fam = {x["metric"]: x for x in s["comparisons"]}
    check(fam["macro_f1"]["family"] == "primary" and fam["macro_f1"]["family_size"] == 1,
          "macro_f1 (primary) is a family of one")
    check(fam["accuracy"]["family"] == "secondary" and fam["micro_f1"]["family"] == "secondary"
          and fam["accuracy"]["family_size"] == 2, "accuracy and micro_f1 are secondary (2)")
    check(fam["exact_match"]["family"] == "duplicate" and fam["exact_match"].get("duplicate_of") == "accuracy"
          and fam["exact_match"]["p_adjusted"] == fam["accuracy"]["p_adjusted"],
          "exact_match is reported as a duplicate of accuracy")
    dups = s.get("metric_duplicates", {})
    check(dups.get("exact_match") == "accuracy", "summary metric_duplicates names exact_match")


def main():
    fteval = need_env("FTEVAL")
    tmp = tempfile.mkdtemp(prefix="fteval-corpus-")
    wnut(fteval, tmp)
    banking(fteval, tmp)
    if FAILS:
        print("%d failure(s)" % len(FAILS))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
