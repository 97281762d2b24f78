#!/usr/bin/env python3
"""`fteval compare`: the numbers behind the gate, recomputed here from the scores this test
writes (never from fteval's own fields), for the mutants of tests/mutation/mutants.tsv that the
other compare tests did not see:
  - p_adjusted is Holm (1979) over the family of every (arm, metric) comparison (compare-holm);
  - one regression alone fails the gate with exit 1 (compare-exit-regression);
  - the analytic fallback (taken when the statistics module refuses the scores)
    uses the paired t interval with Student's t quantile (drift-t-quantile) and
    n_needed = ceil(((z_{1-a/2} + z_{0.8}) * sd / |delta|)^2) (compare-n-needed).
Quantiles: scipy.stats (Debian python3-scipy, installed by scripts/setup.sh --test) and the
standard library's NormalDist."""
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail, need_env  # noqa: E402

SRC = os.environ.get("FTEVAL_SRC", os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "fixtures", "compare"))
import make_runs as mr  # noqa: E402

try:
    from scipy import stats as sst
except ImportError:
    skip_or_fail("scipy (python3-scipy)")

FTEVAL = need_env("FTEVAL")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def fteval(*args):
    p = subprocess.run([FTEVAL] + list(args), capture_output=True, text=True, errors="replace")
    return p.returncode, p.stdout, p.stderr


def entries(res):
    return [(a["name"], e) for a in res["arms"] for e in a["metrics"]]


def holm(ps):
    """Holm's step-down adjustment, from the definition: sort ascending, multiply the j-th
    smallest (0-based) by m - j, cap at 1, enforce monotonicity."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: (ps[i], i))
    adj, run = [0.0] * m, 0.0
    for j, i in enumerate(order):
        run = max(run, min(1.0, (m - j) * ps[i]))
        adj[i] = run
    return adj


def scores(recs):
    return {r["id"]: r["scores"] for r in recs}


def run_tests(tmp):
    d = lambda name: os.path.join(tmp, name)  # noqa: E731
    g = mr.golds(400, seed=11)
    base_preds = mr.predict(g, 0.80, seed=12)
    base = {"finetuned": mr.records(g, base_preds), "other": mr.records(g, base_preds, arm="other")}
    worse = {"finetuned": mr.records(g, mr.predict(g, 0.62, seed=13)),
             "other": mr.records(g, mr.predict(g, 0.72, seed=14), arm="other")}
    mr.write_run(d("base"), base)
    mr.write_run(d("worse"), worse)

    # Holm over the family (two arms on exact_match: exact McNemar p, deterministic); the raw p
    # of each entry is "p".
    rc, out, err = fteval("compare", d("base"), d("worse"), "--metric", "exact_match", "--out", d("o1"))
    res = json.load(open(os.path.join(d("o1"), "compare.json")))
    es = entries(res)
    check(len(es) == 2, "two comparisons (two arms): %d" % len(es))
    ps = [e["p"] for _, e in es]
    want = holm(ps)
    for (arm, e), w in zip(es, want):
        check(math.isclose(e["p_adjusted"], w, rel_tol=1e-12, abs_tol=1e-300),
              "%s/%s: p_adjusted %r, Holm over the family %r (raw %r)" % (arm, e["metric"], e["p_adjusted"], w, ps))
    check(len(set(ps)) == 2 and max(ps) < 0.5, "the two raw p differ and are < 0.5 (Holm != Bonferroni): %r" % ps)

    # One regression alone fails the gate.
    rc, out, err = fteval("compare", d("base"), d("worse"), "--metric", "exact_match", "--arms",
                          "finetuned,finetuned", "--out", d("o2"))
    res = json.load(open(os.path.join(d("o2"), "compare.json")))
    verdicts = [e["verdict"] for _, e in entries(res)]
    check(verdicts == ["regression"], "one comparison, a regression: %r" % verdicts)
    check(res["counts"]["regression"] == 1, "counts.regression == 1: %r" % res["counts"])
    check(rc == 1, "exactly one regression: exit 1 (got %d) %s" % (rc, err))

    # The analytic fallback: a score of 0.5 on the binary exact_match makes the statistics module
    # refuse the family. 40 examples, so that t and z quantiles differ visibly.
    g40 = mr.golds(40, seed=21)
    b40 = mr.records(g40, mr.predict(g40, 0.85, seed=22))
    c40 = mr.records(g40, mr.predict(g40, 0.60, seed=23))
    c40[0]["scores"]["exact_match"] = 0.5
    mr.write_run(d("b40"), {"finetuned": b40})
    mr.write_run(d("c40"), {"finetuned": c40})
    alpha = 0.05
    rc, out, err = fteval("compare", d("b40"), d("c40"), "--out", d("o3"))
    check(os.path.exists(os.path.join(d("o3"), "compare.json")), "alpha 0.5: compare.json written (%d) %s" % (rc, err))
    if not os.path.exists(os.path.join(d("o3"), "compare.json")):
        return
    res = json.load(open(os.path.join(d("o3"), "compare.json")))
    sb, sc = scores(b40), scores(c40)
    zsum = statistics.NormalDist().inv_cdf(1 - alpha / 2) + statistics.NormalDist().inv_cdf(0.8)
    for arm, e in entries(res):
        check(e.get("method") == "analytic", "%s: analytic fallback (method %r)" % (e["metric"], e.get("method")))
        diff = [sc[i][e["metric"]] - sb[i][e["metric"]] for i, _ in g40]
        n = len(diff)
        mean, sd = statistics.fmean(diff), statistics.stdev(diff)
        se = sd / math.sqrt(n)
        q = sst.t.ppf(1 - alpha / 2, n - 1)
        check(math.isclose(e["delta"], mean, abs_tol=1e-12), "%s: delta %r, want %r" % (e["metric"], e["delta"], mean))
        check(e["ci"] is not None and all(math.isclose(a, b, abs_tol=1e-9) for a, b in
                                          zip(e["ci"], [mean - q * se, mean + q * se])),
              "%s: paired t CI %r, want %r" % (e["metric"], e["ci"], [mean - q * se, mean + q * se]))
        need = math.ceil((zsum * sd / abs(mean)) ** 2)
        check(e.get("n_needed") == need, "%s: n_needed %r, want %r" % (e["metric"], e.get("n_needed"), need))


def metric_order(tmp):
    """Runs that list their metrics in other orders (the candidate's manifest: f1 first), f1
    unlike exact_match on every record, every id on both sides (so each side's statistics read
    the run's own columns): each compared metric must read its own scores on each side. Means
    and deltas recomputed here from the records (compare-side-inplace-metrics)."""
    d = lambda name: os.path.join(tmp, name)  # noqa: E731
    g = mr.golds(301, seed=31)
    b = mr.records(g, mr.predict(g, 0.55, seed=32))
    c = mr.records(g, mr.predict(g, 0.9, seed=33))
    for k, r in enumerate(b):
        r["line"] = k + 1
        r["scores"]["f1"] = (k % 7) / 7
    for k, r in enumerate(c):
        r["line"] = k + 1
        r["scores"]["f1"] = (k % 5) / 5
    mr.write_run(d("mb"), {"finetuned": b}, dataset_sha="ab" * 32)
    mr.write_run(d("mc"), {"finetuned": c}, dataset_sha="ab" * 32)
    mpath = os.path.join(d("mc"), "manifest.json")
    man = json.load(open(mpath))
    man["metrics"] = list(reversed(man["metrics"]))
    json.dump(man, open(mpath, "w"), indent=1)
    rc, out, err = fteval("compare", d("mb"), d("mc"), "--out", d("o4"))
    path = os.path.join(d("o4"), "compare.json")
    check(os.path.exists(path), "metric order: compare.json written (%d) %s" % (rc, err))
    if not os.path.exists(path):
        return
    res = json.load(open(path))
    sb, sc = scores(b), scores(c)
    ids = [i for i, _ in g]
    seen = set()
    for arm, e in entries(res):
        m = e["metric"]
        seen.add(m)
        want_b = statistics.fmean(sb[i][m] for i in ids)
        want_c = statistics.fmean(sc[i][m] for i in ids)
        check(e.get("n") == 301, "metric order %s: n %r, want 301" % (m, e.get("n")))
        check(math.isclose(e["mean_baseline"], want_b, abs_tol=1e-12) and
              math.isclose(e["mean_candidate"], want_c, abs_tol=1e-12),
              "metric order %s: means %r %r, want %r %r" % (m, e["mean_baseline"], e["mean_candidate"],
                                                             want_b, want_c))
        check(math.isclose(e["delta"], want_c - want_b, abs_tol=1e-12),
              "metric order %s: delta %r, want %r" % (m, e["delta"], want_c - want_b))
    check(seen == {"exact_match", "f1"}, "metric order: metrics compared %r" % sorted(seen))


def main():
    tmp = tempfile.mkdtemp(prefix="fteval-compare-family-", dir=os.environ.get("FTEVAL_BUILD"))
    try:
        run_tests(tmp)
        metric_order(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
