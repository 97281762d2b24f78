#!/usr/bin/env python3
"""End-to-end test of `fteval history` (and `history --append`) on fixture run directories."""
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


def fteval(*args, cwd=None):
    p = subprocess.run([FTEVAL] + list(args), capture_output=True, text=True, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def main():
    if not FTEVAL or not os.path.exists(FTEVAL):
        skip_or_fail("FTEVAL (run through ctest)")
    tmp = tempfile.mkdtemp(prefix="fteval-history-", dir=os.environ.get("FTEVAL_BUILD"))
    try:
        g = mr.golds(200, seed=1)
        accs = [0.80, 0.85, 0.90]
        for i, acc in enumerate(accs):
            run = os.path.join(tmp, "results", "demo", "r%d" % i)
            mr.write_run(run, {"finetuned": mr.records(g, mr.predict(g, acc, seed=10 + i))},
                         run_id="run-%d" % i, started_at="2026-11-2%dT02:00:00Z" % (i + 1))
            rc, out, err = fteval("history", "--append", run)
            check(rc == 0 and "run-%d" % i in out, "append r%d (%d: %s)" % (i, rc, err))
        # re-recording a run keeps one entry per run id
        fteval("history", "--append", os.path.join(tmp, "results", "demo", "r1"))
        rc, out, err = fteval("history", "demo", cwd=tmp)
        check(rc == 0, "history by name: exit 0 (%d: %s)" % (rc, err))
        check(out.count("run-") == 3 and "trend" in out and "exact_match" in out,
              "history table: 3 runs and a trend line\n" + out)
        check("\u2581" in out and "\u2588" in out, "sparkline spans min..max")
        rc, out, err = fteval("history", os.path.join(tmp, "results", "demo"), "--json")
        hist = json.loads(out)
        check([h["run_id"] for h in hist] == ["run-0", "run-1", "run-2"], "json: chronological")
        means = [h["arms"]["finetuned"]["metrics"]["exact_match"]["mean"] for h in hist]
        check(means[0] < means[2], "json: means")
        h = hist[0]
        check(h["schema"] == "fteval.history/1" and h["dataset_sha256"]
              and h["arms"]["finetuned"]["model"].startswith("ft:")
              and h["arms"]["finetuned"]["cost_per_inference_usd"] == 0.000014
              and len(h["arms"]["finetuned"]["metrics"]["exact_match"]["ci"]) == 2,
              "json: entry fields")
        rc, out, err = fteval("history", os.path.join(tmp, "results", "demo", "r0"), "--metric", "f1",
                              "--last", "2")
        check(rc == 0 and "metric f1" in out and out.count("run-") == 2, "--metric, --last, run dir")
        rc, out, err = fteval("history", os.path.join(tmp, "nothing"))
        check(rc == 3, "no history: exit 3")
        rc, out, err = fteval("history")
        check(rc == 2, "no argument: exit 2")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
