#!/usr/bin/env python3
"""Drift tests of `fteval compare`, cross-checked against scipy: label distribution
(chi2_contingency without continuity correction), output length (ttest_rel), error rate
(exact McNemar = two-sided binomial test on the discordant pairs), finish_reason."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402  (missing dependency: skipped, or failed under CI)

SRC = os.environ.get("FTEVAL_SRC", os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "fixtures", "compare"))
import make_runs as mr  # noqa: E402

FTEVAL = os.environ.get("FTEVAL")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(b))


def compare(*args):
    p = subprocess.run([FTEVAL, "compare"] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def drift_test(res, name):
    for t in res["arms"][0]["drift"]["tests"]:
        if t["name"] == name:
            return t
    raise KeyError(name)


def topk_table(a_labels, b_labels, k):
    """The contingency table fteval builds: top k by combined count (ties: label order) + other."""
    cats = sorted(set(a_labels) | set(b_labels),
                  key=lambda x: (-(a_labels.count(x) + b_labels.count(x)), x.encode()))
    top = cats[:k]
    rows = [[a_labels.count(c) for c in top], [b_labels.count(c) for c in top]]
    if len(cats) > k:
        rows[0].append(sum(a_labels.count(c) for c in cats[k:]))
        rows[1].append(sum(b_labels.count(c) for c in cats[k:]))
    return top, rows


def main():
    try:
        import numpy as np
        from scipy import stats
    except ImportError:
        skip_or_fail("python3-scipy and python3-numpy (scripts/setup.sh --test)")
    if not FTEVAL or not os.path.exists(FTEVAL):
        skip_or_fail("FTEVAL (run through ctest)")
    tmp = tempfile.mkdtemp(prefix="fteval-drift-", dir=os.environ.get("FTEVAL_BUILD"))
    try:
        run(tmp, np, stats)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


def run(tmp, np, stats):
    g = mr.golds(500, seed=11)
    a = mr.predict(g, 0.8, seed=12)
    d = lambda n: os.path.join(tmp, n)  # noqa: E731
    mr.write_run(d("base"), {"finetuned": mr.records(g, a)})

    # 1. shifted label distribution: 35% of answers become "billing"
    import random
    rng = random.Random(13)
    b = [("billing" if rng.random() < 0.35 else p) for p in a]
    errors = {x[0] for x in g[100:140]}
    finish = {x[0]: "length" for x in g[200:260]}
    b = [p + " - thanks for asking" if 300 <= i < 400 else p for i, p in enumerate(b)]
    mr.write_run(d("shift"), {"finetuned": mr.records(g, b, errors=errors, finish=finish)})
    rc, out, err = compare(d("base"), d("shift"), "--margin", "0.5")
    res = json.load(open(os.path.join(d("shift"), "compare.json")))
    check(res["arms"][0]["drift"]["flagged"] and res["drift_flagged"], "shift: drift flagged")
    check("DRIFT" in out, "shift: text says DRIFT")

    t = drift_test(res, "predictions")
    check(t["flagged"], "predictions drift flagged")
    ok_a = [p.strip() for p in a]
    ok_b = [p.strip() for (x, p) in zip(g, b) if x[0] not in errors]
    top, table = topk_table(ok_a, ok_b, 10)
    chi2, p, dof, _ = stats.chi2_contingency(np.array(table), correction=False)
    check([c["label"] for c in t["categories"]][:len(top)] == top, "categories: top labels in order")
    check(close(t["stat"], chi2) and close(t["p"], p, 1e-7) and t["df"] == dof,
          "chi-square matches scipy: %r vs %r" % ((t["stat"], t["p"], t["df"]), (chi2, p, dof)))

    # top-k with an "other" bucket
    rc, out, err = compare(d("base"), d("shift"), "--top-k", "3", "--margin", "0.5")
    res3 = json.load(open(os.path.join(d("shift"), "compare.json")))
    t3 = drift_test(res3, "predictions")
    top, table = topk_table(ok_a, ok_b, 3)
    chi2, p, dof, _ = stats.chi2_contingency(np.array(table), correction=False)
    check(t3["categories"][-1]["label"] == "<other>" and len(t3["categories"]) == 4,
          "top-3 + other")
    check([c["baseline"] for c in t3["categories"]] == table[0]
          and [c["candidate"] for c in t3["categories"]] == table[1], "top-3 counts")
    check(close(t3["stat"], chi2) and close(t3["p"], p, 1e-7) and t3["df"] == dof,
          "top-3 chi-square matches scipy")

    # output length: paired t over examples answered on both sides
    lt = drift_test(res, "length")
    pairs = [(len(pa), len(pb)) for x, pa, pb in zip(g, a, b) if x[0] not in errors]
    tt = stats.ttest_rel([q for _, q in pairs], [q for q, _ in pairs])
    check(lt["n"] == len(pairs) and close(lt["t"], tt.statistic) and close(lt["p"], tt.pvalue, 1e-7),
          "length paired t matches scipy: %r vs %r" % ((lt["t"], lt["p"]), (tt.statistic, tt.pvalue)))
    check(lt["flagged"], "length drift flagged")

    # error rate: exact McNemar = binomial test on the discordant pairs
    et = drift_test(res, "error_rate")
    bt = stats.binomtest(0, len(errors), 0.5).pvalue
    check(close(et["p"], bt) and et["flagged"] and close(et["rate_candidate"], 40 / 500),
          "error rate McNemar matches scipy")

    ft = drift_test(res, "finish_reason")
    fin_a = ["stop"] * 500
    fin_b = ["<none>" if x[0] in errors else finish.get(x[0], "stop") for x in g]
    top, table = topk_table(fin_a, fin_b, 10)
    chi2, p, dof, _ = stats.chi2_contingency(np.array(table), correction=False)
    check(ft["flagged"] and close(ft["stat"], chi2) and close(ft["p"], p, 1e-7),
          "finish_reason chi-square matches scipy")
    check(not drift_test(res, "refusal_rate")["flagged"], "no refusals: not flagged")

    # 1b. free-text answers (issue 14: counted by hashes, top labels read in a second pass):
    # mostly distinct, some repeated, several tied exactly at the k-th count (the smallest labels
    # must win the tie, as a sort by count then label would pick), white space trimmed, an
    # empty answer; checked against the reference table at k = 3 and k = 10.
    g3 = mr.golds(900, seed=21)
    rng3 = random.Random(22)
    reps = ["zeta", "alpha", "mu", "beta", "omega", "kappa", "delta"]
    def free(i, side):
        r = rng3.random()
        if r < 0.12:
            return reps[i % len(reps)] + ("  " if i % 2 else "")
        if r < 0.13:
            return "   "
        return "free answer %d/%d %s" % (i, side, "x" * (i % 17))
    fa = [free(i, 0) for i in range(900)]
    fb = [free(i, 1) for i in range(900)]
    mr.write_run(d("free_a"), {"finetuned": mr.records(g3, fa)})
    mr.write_run(d("free_b"), {"finetuned": mr.records(g3, fb)})
    lab = lambda p: p.strip() or "<empty>"  # noqa: E731
    for k in (3, 10):
        compare(d("free_a"), d("free_b"), "--top-k", str(k), "--margin", "0.9")
        tk = drift_test(json.load(open(os.path.join(d("free_b"), "compare.json"))), "predictions")
        top, table = topk_table([lab(p) for p in fa], [lab(p) for p in fb], k)
        check([c["label"] for c in tk["categories"]] == top + ["<other>"],
              "free text, top %d labels: %r vs %r" % (k, [c["label"] for c in tk["categories"]], top))
        check([c["baseline"] for c in tk["categories"]] == table[0]
              and [c["candidate"] for c in tk["categories"]] == table[1], "free text, top %d counts" % k)
        chi2, p, dof, _ = stats.chi2_contingency(np.array(table), correction=False)
        check(close(tk["stat"], chi2) and close(tk["p"], p, 1e-7) and tk["df"] == dof,
              "free text, top %d chi-square matches scipy" % k)

    # 2. a df = 1 table: no Yates correction (documented)
    g2 = mr.golds(60, seed=3)
    a2 = ["yes" if i < 30 else "no" for i in range(60)]
    b2 = ["yes" if i < 40 else "no" for i in range(60)]
    mr.write_run(d("b2"), {"x": mr.records(g2, a2, arm="x")})
    mr.write_run(d("c2"), {"x": mr.records(g2, b2, arm="x")})
    compare(d("b2"), d("c2"), "--margin", "0.9")
    t2 = drift_test(json.load(open(os.path.join(d("c2"), "compare.json"))), "predictions")
    chi2, p, dof, _ = stats.chi2_contingency(np.array([[30, 30], [40, 20]]), correction=False)
    check(dof == 1 and close(t2["stat"], chi2) and close(t2["p"], p, 1e-7), "df 1 matches scipy")

    # 3. refusals (content_filter) drift
    recs = mr.records(g, a)
    for r in recs[:60]:
        r["finish_reason"] = "content_filter"
    mr.write_run(d("refuse"), {"finetuned": recs})
    compare(d("base"), d("refuse"), "--margin", "0.5")
    rt = drift_test(json.load(open(os.path.join(d("refuse"), "compare.json"))), "refusal_rate")
    check(rt["flagged"] and rt["count_candidate"] == 60, "refusal drift flagged")

    # 3b. refusals as the provider's refusal text (finish_reason stop); an empty refusal is none
    recs = mr.records(g, a)
    for i, r in enumerate(recs[:70]):
        r["refusal"] = "I can't help with that." if i < 45 else ""
    mr.write_run(d("refuse_text"), {"finetuned": recs})
    compare(d("base"), d("refuse_text"), "--margin", "0.5")
    rt = drift_test(json.load(open(os.path.join(d("refuse_text"), "compare.json"))), "refusal_rate")
    check(rt["flagged"] and rt["count_candidate"] == 45, f"refusal text counted: {rt}")

    # 4. --fail-on drift turns flagged drift into exit 1
    rc, out, err = compare(d("base"), d("refuse"), "--margin", "0.5")
    check(rc == 0, "drift alone does not fail the gate")
    rc, out, err = compare(d("base"), d("refuse"), "--margin", "0.5", "--fail-on", "drift")
    check(rc == 1, "--fail-on drift: exit 1")


if __name__ == "__main__":
    sys.exit(main())
