#!/usr/bin/env python3
"""data_banking77_test.py — `fteval data check` and `data split` on a real customer-support set.

banking77 train (10,003 rows, 77 intents) must check clean of PII (no false positives on card-
or phone-like text), exit 0, and split stratified and disjoint. Skipped (77), or failed under CI, when
FTEVAL_SHARED is absent.
"""
import collections
import json
import math
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


def shingles(text):
    """docs/data.md: character (byte) 5-grams of the normalised prompt; shorter: one shingle."""
    b = norm(text).encode("utf-8")
    return {b} if len(b) < 5 else {b[i:i + 5] for i in range(len(b) - 4)}


def prompt(row):
    return row["input"] + ("\n" + row["context"] if row.get("context") else "")


def leakage(train_path, heldout_path, t=0.9):
    """(exact, near) held-out rows: normalised prompt equal to a training one, else Jaccard >= t of
    the 5-gram sets with some training prompt. Exhaustive: a prefix filter (rarest shingles first)
    only skips pairs that cannot reach t."""
    train = [prompt(json.loads(l)) for l in lines(train_path)]
    held = [prompt(json.loads(l)) for l in lines(heldout_path)]
    tnorm = {norm(x) for x in train}
    tsets = [shingles(x) for x in train]
    post, freq = collections.defaultdict(list), collections.Counter()
    for i, sh in enumerate(tsets):
        for g in sh:
            post[g].append(i)
            freq[g] += 1
    exact = near = 0
    for h in held:
        if norm(h) in tnorm:
            exact += 1
            continue
        a = shingles(h)
        need = math.ceil(t * len(a) - 1e-9)
        prefix = sorted(a, key=lambda g: (freq[g], g))[:len(a) - need + 1]
        cands = {i for g in prefix for i in post.get(g, ())}
        if any(len(a & tsets[i]) / len(a | tsets[i]) >= t for i in cands):
            near += 1
    return exact, near


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
    # the leakage recomputed here from the data and docs/data.md (brute force Jaccard with a
    # prefix filter instead of fteval's MinHash): 11 exact + 11 near in the public split
    exact, near = leakage(b77, test)
    print(f"banking77 test vs train, recomputed: {exact} exact, {near} near")
    check(exact == 11 and near == 11, f"the public split leaks 11 + 11 rows (recomputed {exact} + {near})")
    check(rep["leakage"]["exact"] == exact and rep["leakage"]["near"] == near,
          f"fteval's leakage {rep['leakage']} == recomputed {exact} exact, {near} near")
    check(p.returncode == 1 and rep["blocking"] is True, f"leakage blocks: exit 1 (got {p.returncode})")

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
