#!/usr/bin/env python3
"""End-to-end tests of `fteval compare` (the nightly gate and the A/B check) on run
directories written by tests/fixtures/compare/make_runs.py."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
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


def fteval(*args):
    p = subprocess.run([FTEVAL] + list(args), capture_output=True, text=True, errors="replace")
    return p.returncode, p.stdout, p.stderr


def load(path):
    with open(path) as f:
        return json.load(f)


def metric(res, arm, m):
    for a in res["arms"]:
        if a["name"] == arm:
            for e in a["metrics"]:
                if e["metric"] == m:
                    return e
    raise KeyError((arm, m))


def main():
    if not FTEVAL or not os.path.exists(FTEVAL):
        skip_or_fail("FTEVAL (run through ctest)")
    tmp = tempfile.mkdtemp(prefix="fteval-compare-", dir=os.environ.get("FTEVAL_BUILD"))
    try:
        run_tests(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


def run_tests(tmp):
    g = mr.golds(400, seed=1)
    base_preds = mr.predict(g, 0.85, seed=2)
    d = lambda name: os.path.join(tmp, name)  # noqa: E731

    mr.write_run(d("base"), {"finetuned": mr.records(g, base_preds)})

    # 1. the same run twice: pass, exit 0, no broke/fixed, no drift
    shutil.copytree(d("base"), d("same"))
    rc, out, err = fteval("compare", d("base"), d("same"), "--junit", d("same.xml"))
    check(rc == 0, "same run twice: exit 0 (got %d: %s)" % (rc, err))
    res = load(os.path.join(d("same"), "compare.json"))
    check(res["verdict"] == "pass", "same run twice: verdict pass")
    check(all(e["verdict"] == "pass" for a in res["arms"] for e in a["metrics"]),
          "same run twice: every metric passes")
    check(res["arms"][0]["broke"]["count"] == 0 and res["arms"][0]["fixed"]["count"] == 0,
          "same run twice: nothing broke or fixed")
    check(not res["drift_flagged"], "same run twice: no drift")
    check(metric(res, "finetuned", "exact_match")["delta"] == 0, "same run: delta 0")
    check("pass" in out, "same run: table shows pass")
    root = ET.parse(d("same.xml")).getroot()
    check(root.tag == "testsuites" and root.get("failures") == "0", "same run: junit no failures")

    # metric order differs between the runs: metrics are matched by name
    shutil.copytree(d("base"), d("reordered"))
    man = load(os.path.join(d("reordered"), "manifest.json"))
    man["metrics"] = ["f1", "exact_match"]
    with open(os.path.join(d("reordered"), "manifest.json"), "w") as f:
        json.dump(man, f)
    rc, out, err = fteval("compare", d("base"), d("reordered"))
    res = load(os.path.join(d("reordered"), "compare.json"))
    check(rc == 0 and all(e["delta"] == 0 for e in res["arms"][0]["metrics"])
          and res["arms"][0]["broke"]["count"] == 0, "metric order: matched by name")

    # 2. a degraded model: regression, exit 1, JUnit failure with the numbers
    deg_preds = mr.predict(g, 0.70, seed=3)
    mr.write_run(d("deg"), {"finetuned": mr.records(g, deg_preds)})
    rc, out, err = fteval("compare", d("base"), d("deg"), "--junit", d("deg.xml"), "--out", d("degout"))
    check(rc == 1, "degraded: exit 1 (got %d: %s)" % (rc, err))
    res = load(os.path.join(d("degout"), "compare.json"))
    em = metric(res, "finetuned", "exact_match")
    check(em["verdict"] == "regression", "degraded: regression verdict")
    exp_a = sum(p == gg for (_, gg), p in zip(g, base_preds)) / 400
    exp_b = sum(p == gg for (_, gg), p in zip(g, deg_preds)) / 400
    check(abs(em["mean_baseline"] - exp_a) < 1e-12 and abs(em["mean_candidate"] - exp_b) < 1e-12,
          "degraded: means")
    check(abs(em["delta"] - (exp_b - exp_a)) < 1e-12, "degraded: delta = candidate - baseline")
    check(em["upper_bound"] < -0.02 and em["ci"][0] < em["delta"] < em["ci"][1], "degraded: bounds")
    check(em["lower_bound"] >= em["ci"][0] - 1e-12, "degraded: one-sided bound inside two-sided CI")
    # the one-sided 95% bootstrap bound is close to the normal-theory delta - 1.645 SE
    check(abs(em["lower_bound"] - (em["delta"] - 1.6449 * em["se_paired"])) < 0.01,
          "degraded: lower bound ~ delta - z(0.95) SE")
    check(abs(em["upper_bound"] - (em["delta"] + 1.6449 * em["se_paired"])) < 0.01,
          "degraded: upper bound ~ delta + z(0.95) SE")
    root = ET.parse(d("deg.xml")).getroot()
    cases = root.findall(".//testcase")
    names = {(c.get("classname"), c.get("name")) for c in cases}
    check(("finetuned", "exact_match") in names and ("finetuned", "f1") in names,
          "degraded: junit testcase per arm x metric")
    fails = [c for c in cases if c.find("failure") is not None]
    check(len(fails) >= 1, "degraded: junit failure")
    msg = fails[0].find("failure").get("message") if fails else ""
    check("regression" in msg and "delta" in msg and "%+.4f" % em["delta"] in msg,
          "degraded: failure message carries the numbers (%s)" % msg)
    check(int(root.get("failures")) == len(fails), "degraded: failures count")
    check(root.find(".//testsuite/system-out") is not None, "degraded: system-out summary")
    check(not os.path.exists(os.path.join(d("deg"), "compare.json")), "--out: not in the run dir")

    # 3. a change within the margin: 4 broke, 2 fixed of 400 (delta -0.005): pass
    right = [i for i, ((_, gg), p) in enumerate(zip(g, base_preds)) if p == gg]
    wrong = [i for i, ((_, gg), p) in enumerate(zip(g, base_preds)) if p != gg]
    small = list(base_preds)
    for i in right[:4]:
        small[i] = "refund" if g[i][1] != "refund" else "billing"
    for i in wrong[:2]:
        small[i] = g[i][1]
    mr.write_run(d("small"), {"finetuned": mr.records(g, small)})
    rc, out, err = fteval("compare", d("base"), d("small"), "--metric", "exact_match")
    res = load(os.path.join(d("small"), "compare.json"))
    em = metric(res, "finetuned", "exact_match")
    check(rc == 0 and em["verdict"] == "pass",
          "within margin: pass, exit 0 (got %d, %s: %s)" % (rc, em["verdict"], em["reason"]))
    check(len(res["arms"][0]["metrics"]) == 1, "--metric: only that metric")
    # broke/fixed lists are exactly the changed examples, with predictions and gold
    broke = res["arms"][0]["broke"]
    fixed = res["arms"][0]["fixed"]
    check(sorted(e["id"] for e in broke["examples"]) == sorted(g[i][0] for i in right[:4]),
          "broke list")
    check(sorted(e["id"] for e in fixed["examples"]) == sorted(g[i][0] for i in wrong[:2]),
          "fixed list")
    e0 = broke["examples"][0]
    i0 = [x[0] for x in g].index(e0["id"])
    check(e0["gold"] == g[i0][1] and e0["baseline_prediction"] == base_preds[i0]
          and e0["candidate_prediction"] == small[i0], "broke example: gold and predictions")
    check("broke on exact_match: 4" in out and "fixed on exact_match: 2" in out, "text lists")
    # with a zero margin the same change is not non-inferior any more
    rc, out, err = fteval("compare", d("base"), d("small"), "--metric", "exact_match", "--margin", "0")
    res = load(os.path.join(d("small"), "compare.json"))
    check(metric(res, "finetuned", "exact_match")["verdict"] == "inconclusive" and rc == 0,
          "margin 0: inconclusive, exit 0")
    rc, out, err = fteval("compare", d("base"), d("small"), "--metric", "exact_match", "--margin",
                          "0", "--fail-on", "inconclusive", "--junit", d("inc.xml"))
    check(rc == 1, "--fail-on inconclusive: exit 1")
    root = ET.parse(d("inc.xml")).getroot()
    check(any(f.get("type") == "inconclusive" for f in root.iter("failure")),
          "--fail-on inconclusive: junit failure")

    # 4. different held-out sets: exit 3 listing ids; --allow-dataset-change: intersection
    g2 = [x for x in g if x[0] not in ("ex-0001", "ex-0002")] + [("new-0001", "billing")]
    p2 = [p for x, p in zip(g, base_preds) if x[0] not in ("ex-0001", "ex-0002")] + ["billing"]
    mr.write_run(d("ds"), {"finetuned": mr.records(g2, p2)})
    rc, out, err = fteval("compare", d("base"), d("ds"))
    check(rc == 3, "dataset changed: exit 3 (got %d)" % rc)
    check("held-out sets differ" in err, "dataset changed: error says so")
    check("new-0001" in out and "ex-0001" in out and "ex-0002" in out,
          "dataset changed: lists added and removed ids (%s)" % out)
    res = load(os.path.join(d("ds"), "compare.json"))
    check(res["verdict"] == "refused" and res["dataset"]["added"] == ["new-0001"]
          and sorted(res["dataset"]["removed"]) == ["ex-0001", "ex-0002"], "refused compare.json")
    rc, out, err = fteval("compare", d("base"), d("ds"), "--allow-dataset-change")
    res = load(os.path.join(d("ds"), "compare.json"))
    check(rc == 0, "allow-dataset-change: exit 0 (got %d: %s)" % (rc, err))
    check(res["arms"][0]["n"] == 398 and res["dataset"]["n_compared"] == 398,
          "allow-dataset-change: compares the 398 common ids")
    check(metric(res, "finetuned", "exact_match")["delta"] == 0, "intersection: delta 0")
    check(any("held-out sets differ" in w for w in res["warnings"]), "allow: warns")

    # 5. missing records count as failures; changed model ids are reported
    part = mr.records(g, base_preds, model="ft:gpt-4o-mini-2024-07-18:acme::new999")[:380]
    mr.write_run(d("part"), {"finetuned": part}, dataset_sha=load(
        os.path.join(d("base"), "manifest.json"))["dataset"]["sha256"], status="interrupted")
    rc, out, err = fteval("compare", d("base"), d("part"))
    res = load(os.path.join(d("part"), "compare.json"))
    a = res["arms"][0]
    check(a["n"] == 400 and a["n_missing_candidate"] == 20, "missing records: counted")
    exp_b = sum(p == gg for (_, gg), p in list(zip(g, base_preds))[:380]) / 400
    check(abs(metric(res, "finetuned", "exact_match")["mean_candidate"] - exp_b) < 1e-12,
          "missing records score 0")
    check(any(c["field"] == "model" for c in res["changes"]), "model change reported")
    check("changed: finetuned.model" in out, "model change in text")
    check(any("interrupted" in w for w in res["warnings"]), "interrupted run warned")
    rc, out, err = fteval("compare", d("base"), d("part"), "--json")
    check(json.loads(out)["arms"][0]["n_missing_candidate"] == 20, "--json on stdout")
    check("changed between the runs: finetuned: model" in err, "--json: changes warned on stderr")

    partial_baseline(d)

    # 6. the A/B form: two arms of one run
    better = mr.predict(g, 0.95, seed=5)
    mr.write_run(d("ab"), {"prompted": mr.records(g, base_preds, arm="prompted",
                                                   model="gpt-4o-mini-2024-07-18"),
                           "finetuned": mr.records(g, better)})
    rc, out, err = fteval("compare", d("ab"), "--a", "prompted", "--b", "finetuned")
    res = load(os.path.join(d("ab"), "compare.json"))
    check(rc == 0 and res["mode"] == "arms", "A/B: exit 0 (got %d: %s)" % (rc, err))
    em = metric(res, "prompted->finetuned", "exact_match")
    check(em["verdict"] == "improvement" and em["delta"] > 0, "A/B: improvement")
    rc, out, err = fteval("compare", d("ab"), "--a", "finetuned", "--b", "prompted")
    check(rc == 1, "A/B reversed: regression exit 1")
    # --arms across runs: arm prompted of ab vs finetuned of deg
    rc, out, err = fteval("compare", d("ab"), d("deg"), "--arms", "prompted,finetuned",
                          "--out", d("armsout"))
    res = load(os.path.join(d("armsout"), "compare.json"))
    check(res["arms"][0]["baseline_arm"] == "prompted" and res["arms"][0]["candidate_arm"] == "finetuned"
          and rc == 1, "--arms A,B")

    # 7. untrusted model text: terminal-safe stdout, well-formed JUnit
    evil = list(base_preds)
    evil[right[0]] = "\x1b[31mred\x1b[0m <b>&amp;\x07\x00bell</b>\u0085"
    recs = mr.records(g, evil)
    mr.write_run(d("evil"), {"finetuned": recs})
    rc, out, err = fteval("compare", d("base"), d("evil"), "--junit", d("evil.xml"), "--margin", "0.5")
    check("\x1b" not in out and "\x07" not in out and "\u0085" not in out,
          "terminal: no raw control chars")
    check("\\x1b[31mred" in out, "terminal: escaped ESC shown")
    try:
        root = ET.parse(d("evil.xml")).getroot()
        check(root.tag == "testsuites", "junit parses with hostile text")
    except ET.ParseError as e:
        check(False, "junit parse error: %s" % e)

    # 8. usage and input errors
    rc, out, err = fteval("compare", d("base"))
    check(rc == 2, "one run without --a/--b: usage exit 2")
    rc, out, err = fteval("compare", d("base"), d("same"), "--margin", "abc")
    check(rc == 2, "bad --margin: exit 2")
    rc, out, err = fteval("compare", d("base"), d("nope"))
    check(rc == 3, "missing dir: exit 3 (got %d)" % rc)
    rc, out, err = fteval("compare", d("base"), d("same"), "--metric", "bleu")
    check(rc == 3, "unknown metric: exit 3")
    mr.write_run(d("other"), {"zzz": mr.records(g, base_preds, arm="zzz")})
    rc, out, err = fteval("compare", d("base"), d("other"))
    check(rc == 3 and "no arm in common" in err, "no common arms: exit 3")
    rc, out, err = fteval("compare", "--help")
    check(rc == 0 and "--margin" in out, "--help")


def partial_baseline(d):
    """5b. A partial baseline whose arms recorded different examples, and an example only the
    candidate ran (same held-out set): compare pairs the union of the ids (docs/nightly.md: the
    baseline's ids first seen arm by arm, then the candidate's others), a missing record scores
    0. Reference computed here from that definition: means, the discordant pairs, the whole
    broke and fixed lists in that order, each with its statuses."""
    g = mr.golds(60, seed=11, prefix="pb")
    preds = mr.predict(g, 0.7, seed=12)
    cand_preds = mr.predict(g, 0.8, seed=13)
    missing_ft, missing_pr = {"pb-0005", "pb-0007", "pb-0059"}, {"pb-0059"}
    for k, (ex_id, gold) in enumerate(g):
        if ex_id in missing_ft:  # the candidate is right where the baseline has no record
            cand_preds[k] = gold
    keep = lambda recs, missing: [r for r in recs if r["id"] not in missing]  # noqa: E731
    sha = mr.sha("partial-baseline")
    mr.write_run(d("pb-base"), {"finetuned": keep(mr.records(g, preds), missing_ft),
                                "prompted": keep(mr.records(g, preds, arm="prompted"), missing_pr)},
                 dataset_sha=sha, status="interrupted")
    mr.write_run(d("pb-cand"), {"finetuned": mr.records(g, cand_preds)}, dataset_sha=sha)
    rc, out, err = fteval("compare", d("pb-base"), d("pb-cand"), "--margin", "0.5")
    check(rc == 0, "partial baseline: exit 0 (got %d: %s)" % (rc, err))
    res = load(os.path.join(d("pb-cand"), "compare.json"))
    ids = [x for x, _ in g]
    union = ([x for x in ids if x not in missing_ft] + [x for x in ids if x in missing_ft - missing_pr]
             + [x for x in ids if x in missing_pr])
    sa = {x: int(p == gold) for (x, gold), p in zip(g, preds) if x not in missing_ft}
    sb = {x: int(p == gold) for (x, gold), p in zip(g, cand_preds)}
    a = res["arms"][0]
    check(len(res["arms"]) == 1 and a["n"] == 60 and res["dataset"]["n_compared"] == 60,
          "partial baseline: the 60 ids of either run compared (%s)" % a["n"])
    check(a["n_missing_baseline"] == 3 and a["n_missing_candidate"] == 0,
          "partial baseline: missing counted")
    em = metric(res, "finetuned", "exact_match")
    check(abs(em["mean_baseline"] - sum(sa.values()) / 60) < 1e-12
          and abs(em["mean_candidate"] - sum(sb.values()) / 60) < 1e-12,
          "partial baseline: means over the union, missing = 0")
    broke = [x for x in union if sa.get(x, 0) == 1 and sb[x] == 0]
    fixed = [x for x in union if sa.get(x, 0) == 0 and sb[x] == 1]
    check(em["n_broke"] == len(broke) and em["n_fixed"] == len(fixed),
          "partial baseline: discordant pairs %s/%s, want %d/%d"
          % (em["n_broke"], em["n_fixed"], len(broke), len(fixed)))
    for what, want in (("broke", broke), ("fixed", fixed)):
        got = a[what]["examples"]
        check([e["id"] for e in got] == want and a[what]["count"] == len(want),
              "partial baseline: the %s list in union order" % what)
        check(all(e["baseline_status"] == ("missing" if e["id"] in missing_ft else "ok")
                  and e["candidate_status"] == "ok"
                  and e["candidate_prediction"] == cand_preds[ids.index(e["id"])]
                  and e["baseline_score"] == sa.get(e["id"], 0) for e in got),
              "partial baseline: each %s example from its own records" % what)
    check({"pb-0005", "pb-0007", "pb-0059"} <= set(fixed), "partial baseline: scenario lists "
          "the examples the baseline lacks")

    # clusters (records' "cluster", the baseline's else the candidate's) reach the statistics:
    # paired examples are not independent any more, so a binary metric's p is the cluster
    # bootstrap's, not exact McNemar's (docs/statistics.md p_adjusted_source)
    def clustered(recs):
        for r in recs:
            r["cluster"] = "c%d" % (int(r["id"][3:]) // 4)
        return recs
    mr.write_run(d("pbc-base"), {"finetuned": clustered(keep(mr.records(g, preds), missing_ft))},
                 dataset_sha=sha)
    mr.write_run(d("pbc-cand"), {"finetuned": clustered(mr.records(g, cand_preds))},
                 dataset_sha=sha)
    rc, out, err = fteval("compare", d("pbc-base"), d("pbc-cand"), "--margin", "0.5")
    em_c = metric(load(os.path.join(d("pbc-cand"), "compare.json")), "finetuned", "exact_match")
    check(rc == 0 and em["p_method"] == "p_mcnemar" and em_c["p_method"] == "p_bootstrap"
          and em_c["p"] == em_c["p_bootstrap"] and em_c["delta"] == em["delta"],
          "clusters: the binary metric's p from the cluster bootstrap (%s, %s)"
          % (em["p_method"], em_c["p_method"]))


if __name__ == "__main__":
    sys.exit(main())
