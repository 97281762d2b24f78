#!/usr/bin/env python3
"""data_banking77_test.py — `fteval data check` and `data split` on a real customer-support set.

banking77 train (10,003 rows, 77 intents) must check clean of PII (no false positives on card-
or phone-like text), exit 0, and split stratified and disjoint. Skipped (77), or failed under CI, when
FTEVAL_SHARED is absent.
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402  (missing dependency: skipped, or failed under CI)

FTEVAL = os.environ.get("FTEVAL")
SHARED = os.environ.get("FTEVAL_SHARED")
failures = 0
passed = 0


def check(cond, what):
    global failures, passed
    if cond:
        passed += 1
    else:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def norm(s):
    s = "".join(c.lower() if c.isascii() and c.isalpha() else c for c in s)
    s = "".join(" " if (c.isascii() and (c.isspace() or ord(c) < 32)) else c for c in s)
    s = "".join(c for c in s if not (c.isascii() and not c.isalnum() and c != " "))
    return re.sub(" +", " ", s).strip()


def lines(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")[:-1]


def main():
    if not FTEVAL or not os.path.exists(FTEVAL):
        skip_or_fail("FTEVAL (run through ctest)")
    b77 = os.path.join(SHARED or "", "datasets", "banking77", "train.jsonl")
    if not SHARED or not os.path.exists(b77):
        skip_or_fail("../shared/datasets/banking77/train.jsonl ($FTEVAL_SHARED)")
    tmp = tempfile.mkdtemp(prefix="fteval-data-b77-")
    j = os.path.join(tmp, "report.json")

    t0 = time.monotonic()
    p = subprocess.run([FTEVAL, "data", "check", b77, "--json", j], capture_output=True)
    secs = time.monotonic() - t0
    with open(j, encoding="utf-8") as f:
        rep = json.load(f)
    print(f"banking77 train: data check of {rep['examples']} rows in {secs:.2f} s")
    check(p.returncode == 0, f"exit 0 (got {p.returncode})")
    check(rep["blocking"] is False, "nothing blocks")
    check(sum(rep["pii"].values()) == 0, f"zero PII findings {rep['pii']}")
    check(not [f for f in rep["findings"] if f["check"] in ("pii", "format", "leakage")], "no PII/format findings")
    check(rep["examples"] == 10003 and rep["shapes"]["plain"] == 10003, "10003 plain rows")
    check(rep["labels"]["source"] == "label" and rep["labels"]["n_labels"] == 77, "77 labels")
    check(secs < 30, "fast enough")

    # the test split against the train split: no leakage
    test = os.path.join(SHARED, "datasets", "banking77", "test.jsonl")
    p = subprocess.run([FTEVAL, "data", "check", b77, "--against", test, "--json", j], capture_output=True)
    with open(j, encoding="utf-8") as f:
        rep = json.load(f)
    print(f"banking77 test vs train: {rep['leakage']}")
    check(rep["leakage"]["heldout_examples"] == 3080, "held-out rows read")

    tr, te = os.path.join(tmp, "train.jsonl"), os.path.join(tmp, "test.jsonl")
    t0 = time.monotonic()
    p = subprocess.run([FTEVAL, "data", "split", b77, "--test-fraction", "0.2", "--seed", "20261124",
                        "--train", tr, "--test", te], capture_output=True)
    print(f"banking77 train: data split in {time.monotonic() - t0:.2f} s")
    check(p.returncode == 0, f"split exit 0 ({p.stderr.decode()})")
    src = collections.Counter(json.loads(l)["label"] for l in lines(b77))
    got = collections.Counter(json.loads(l)["label"] for l in lines(te))
    worst = max(abs(got[k] - 0.2 * n) for k, n in src.items())
    # near-duplicate pairs are kept together, which may move a label by one more
    check(worst <= 2, f"every label within 2 of its 20% share (worst {worst:.1f})")
    check(len(lines(tr)) + len(lines(te)) == 10003, "no row lost")
    tr_norm = {norm(json.loads(l)["input"]) for l in lines(tr)}
    te_norm = {norm(json.loads(l)["input"]) for l in lines(te)}
    check(not (tr_norm & te_norm), "normalised inputs disjoint")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
