#!/usr/bin/env python3
"""Golden outputs: summary.json, report.md, report.html, history, compare.json and JUnit XML of
fixed run directories must stay byte-identical (volatile fields masked) while the code that
writes them is restructured.

Inputs are deterministic: tests/fixtures/report/make_run.py (every scenario) and
tests/fixtures/compare/make_runs.py, with fixed seeds. For each report scenario:
  given/    `fteval report` on the fixture (its own summary.json)
  rebuilt/  outputs_tool (= fe_outputs_write, the last step of `fteval run`): summary.json with
            the decision, history.jsonl, report.md/html and the per-arm table, from the records
plus the full fixture with a bare config (decision defaults), a three-run history (trend chart, `fteval history`), and `fteval compare` (gate, same, A/B)
with compare.json, JUnit XML and the text report.

Masked: the temporary directory's path, history's "recorded_at" and JUnit's timestamp
(wall-clock time).
The expected files are tests/fixtures/golden/<case>/<file>. To accept a deliberate change of
the outputs, run with FTEVAL_GOLDEN_UPDATE=1 and review the diff of tests/fixtures/golden/.
"""
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("FTEVAL_SRC", os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("FTEVAL_BUILD", "")
FTEVAL = os.environ.get("FTEVAL")
TOOL = os.path.join(BUILD, "outputs_tool")
GOLDEN = os.path.join(SRC, "tests", "fixtures", "golden")
UPDATE = os.environ.get("FTEVAL_GOLDEN_UPDATE") == "1"
MAKE_RUN = os.path.join(SRC, "tests", "fixtures", "report", "make_run.py")
sys.path.insert(0, os.path.join(SRC, "tests", "fixtures", "compare"))
import make_runs as mr  # noqa: E402

SCENARIOS = ["full", "one_arm", "empty", "unknown_prices", "all_errors", "no_comparisons",
             "no_summary"]
failures = []
seen = set()


def mask(text, tmp):
    # the temporary folder, also as Markdown spells it (a '_' in the random part is escaped)
    text = text.replace(tmp, "<TMP>").replace(tmp.replace("_", "\\_"), "<TMP>")
    text = re.sub(r'"recorded_at":\s*"[^"]*"', '"recorded_at": "<masked>"', text)
    return re.sub(r' timestamp="[^"]*"', ' timestamp="<masked>"', text)


def check_file(case, name, text, tmp):
    """Compares text (masked) with tests/fixtures/golden/case/name, or writes it in update mode."""
    text = mask(text, tmp)
    path = os.path.join(GOLDEN, case, name)
    seen.add(os.path.relpath(path, GOLDEN))
    if UPDATE:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return
    try:
        with open(path, encoding="utf-8", newline="") as f:
            want = f.read()
    except OSError:
        failures.append("%s/%s: no golden file" % (case, name))
        print("FAIL: %s/%s: no golden file (FTEVAL_GOLDEN_UPDATE=1 writes it)" % (case, name))
        return
    if want != text:
        failures.append("%s/%s" % (case, name))
        diff = difflib.unified_diff(want.splitlines(), text.splitlines(), "golden", "now",
                                    lineterm="", n=1)
        print("FAIL: %s/%s differs:\n%s" % (case, name, "\n".join(list(diff)[:40])))


def read(path):
    with open(path, encoding="utf-8", newline="", errors="surrogateescape") as f:
        return f.read()


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, errors="surrogateescape")
    return "exit %d\n--- stdout\n%s--- stderr\n%s" % (p.returncode, p.stdout, p.stderr)


def check_dir(case, d, names, tmp):
    for name in names:
        path = os.path.join(d, name)
        check_file(case, name, read(path) if os.path.exists(path) else "(absent)\n", tmp)


def report_cases(tmp):
    for sc in SCENARIOS:
        given = os.path.join(tmp, "given", sc)
        subprocess.run([sys.executable, MAKE_RUN, given, "--scenario", sc, "--n", "120"],
                       check=True)
        check_file("given-" + sc, "cli.txt", run([FTEVAL, "report", given]), tmp)
        check_dir("given-" + sc, given, ["report.md", "report.html"], tmp)

        rebuilt = os.path.join(tmp, "rebuilt", sc, "run")
        subprocess.run([sys.executable, MAKE_RUN, rebuilt, "--scenario", sc, "--n", "120"],
                       check=True)
        if os.path.exists(os.path.join(rebuilt, "summary.json")):
            os.unlink(os.path.join(rebuilt, "summary.json"))
        check_file("rebuilt-" + sc, "cli.txt", run([TOOL, rebuilt]), tmp)
        check_dir("rebuilt-" + sc, rebuilt, ["summary.json", "report.md", "report.html"], tmp)
        check_dir("rebuilt-" + sc, os.path.dirname(rebuilt), ["history.jsonl"], tmp)


def bare_config_case(tmp):
    """The full fixture without traffic, training, budget, evidence or a baseline_arm: the
    decision's defaults and every "not set" branch of the reports."""
    d = os.path.join(tmp, "bare", "run")
    subprocess.run([sys.executable, MAKE_RUN, d, "--n", "120"], check=True)
    os.unlink(os.path.join(d, "summary.json"))
    mpath = os.path.join(d, "manifest.json")
    with open(mpath) as f:
        m = json.load(f)
    for k in ("traffic", "training", "budget", "evidence", "baseline_arm", "candidate_arm"):
        m["config"].pop(k, None)
    for k in ("baseline_arm", "candidate_arm", "config_path"):
        m.pop(k, None)
    m["config"]["decision"] = {"margin": 0.05, "min_relative_saving": 0.5}
    with open(mpath, "w") as f:
        json.dump(m, f, indent=2)
    check_file("rebuilt-bare", "cli.txt", run([TOOL, d]), tmp)
    check_dir("rebuilt-bare", d, ["summary.json", "report.md", "report.html"], tmp)


def trend_case(tmp):
    parent = os.path.join(tmp, "trend")
    for i, n in enumerate((100, 120, 140)):
        d = os.path.join(parent, "r%d" % i)
        subprocess.run([sys.executable, MAKE_RUN, d, "--n", str(n)], check=True)
        os.unlink(os.path.join(d, "summary.json"))
        mpath = os.path.join(d, "manifest.json")
        with open(mpath) as f:
            m = json.load(f)
        m["run_id"] = "2026112%dT050102Z-3f2a" % (5 + i)
        m["started_at"] = "2026-11-2%dT05:01:02Z" % (5 + i)
        m["ended_at"] = "2026-11-2%dT05:09:40Z" % (5 + i)
        with open(mpath, "w") as f:
            json.dump(m, f, indent=2)
        out = run([TOOL, d])
    check_file("trend", "cli.txt", out, tmp)
    check_dir("trend", d, ["summary.json", "report.md", "report.html"], tmp)
    check_dir("trend", parent, ["history.jsonl"], tmp)
    check_file("trend", "history.txt", run([FTEVAL, "history", parent]), tmp)
    check_file("trend", "history-f1.txt", run([FTEVAL, "history", d, "--metric", "f1",
                                                  "--last", "2"]), tmp)
    check_file("trend", "history.json", run([FTEVAL, "history", parent, "--json"]), tmp)


def compare_cases(tmp):
    g = mr.golds(400, seed=1)
    base = os.path.join(tmp, "cmp", "base")
    mr.write_run(base, {"finetuned": mr.records(g, mr.predict(g, 0.85, seed=2)),
                        "prompted": mr.records(g, mr.predict(g, 0.80, seed=5), arm="prompted",
                                               model="gpt-4o-mini")})
    errs = {g[i][0] for i in range(0, 400, 37)}
    finish = {g[i][0]: "length" for i in range(5, 400, 41)}
    cands = {
        "degraded": {"finetuned": mr.records(g, mr.predict(g, 0.70, seed=3), errors=errs,
                                             finish=finish),
                     "prompted": mr.records(g, mr.predict(g, 0.80, seed=5), arm="prompted",
                                            model="gpt-4o-mini")},
        "same": {"finetuned": mr.records(g, mr.predict(g, 0.85, seed=2)),
                 "prompted": mr.records(g, mr.predict(g, 0.81, seed=6), arm="prompted",
                                        model="gpt-4o-mini")},
        "drift": {"finetuned": mr.records(g, mr.predict(g, 0.86, seed=4,
                                                         wrong_labels=["refund", "other"])),
                  "prompted": mr.records(g, mr.predict(g, 0.80, seed=5), arm="prompted",
                                         model="gpt-4o-mini")},
    }
    for name, arms in cands.items():
        d = os.path.join(tmp, "cmp", name)
        mr.write_run(d, arms, system_sha="ab" * 32 if name == "drift" else None)
        out = os.path.join(tmp, "cmp", name + "-out")
        junit = os.path.join(out, "junit.xml")
        os.makedirs(out)
        check_file("compare-" + name, "cli.txt",
                   run([FTEVAL, "compare", base, d, "--out", out, "--junit", junit,
                        "--resamples", "2000", "--show", "3"]), tmp)
        check_dir("compare-" + name, out, ["compare.json", "junit.xml"], tmp)
        out2 = os.path.join(tmp, "cmp", name + "-out2")
        os.makedirs(out2)
        check_file("compare-" + name, "cli-failon.txt",
                   run([FTEVAL, "compare", base, d, "--out", out2, "--junit",
                        os.path.join(out2, "junit.xml"), "--resamples", "2000",
                        "--fail-on", "inconclusive,drift", "--metric", "exact_match"]), tmp)
        check_file("compare-" + name, "junit-failon.xml", read(os.path.join(out2, "junit.xml")),
                   tmp)
    # the A/B check on one run, and a refused dataset change
    ab = os.path.join(tmp, "given", "full")
    out = os.path.join(tmp, "cmp", "ab-out")
    os.makedirs(out)
    check_file("compare-ab", "cli.txt",
               run([FTEVAL, "compare", ab, "--a", "prompted", "--b", "finetuned", "--out", out,
                    "--junit", os.path.join(out, "junit.xml"), "--resamples", "2000"]), tmp)
    check_dir("compare-ab", out, ["compare.json", "junit.xml"], tmp)
    other = os.path.join(tmp, "cmp", "other")
    g2 = mr.golds(380, seed=1)
    mr.write_run(other, {"finetuned": mr.records(g2, mr.predict(g2, 0.85, seed=2))})
    out = os.path.join(tmp, "cmp", "refused-out")
    os.makedirs(out)
    check_file("compare-refused", "cli.txt",
               run([FTEVAL, "compare", base, other, "--out", out, "--json"]), tmp)
    check_file("compare-refused", "cli-allowed.txt",
               run([FTEVAL, "compare", base, other, "--out", out, "--allow-dataset-change",
                    "--resamples", "2000", "--json"]), tmp)


def main():
    if not FTEVAL or not os.path.exists(FTEVAL) or not os.path.exists(TOOL):
        print("skipped: FTEVAL or FTEVAL_BUILD/outputs_tool not available")
        return 77
    tmp = tempfile.mkdtemp(prefix="fteval-golden-", dir=BUILD or None)
    try:
        report_cases(tmp)
        bare_config_case(tmp)
        trend_case(tmp)
        compare_cases(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not UPDATE:
        for root, _, files in os.walk(GOLDEN):
            for f in files:
                rel = os.path.relpath(os.path.join(root, f), GOLDEN)
                if rel not in seen:
                    failures.append(rel + ": golden file no longer produced")
                    print("FAIL: %s: golden file no longer produced" % rel)
    print("%d golden file(s), %d failure(s)" % (len(seen), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
