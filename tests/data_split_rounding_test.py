#!/usr/bin/env python3
"""data_split_rounding_test.py — `fteval data split` sizes the test set to the nearest whole
example (docs/data.md: round(test_fraction x rows)), not rounded down: 9 rows at 0.3 -> 3 (2.7),
7 rows at 0.25 -> 2 (1.75), 11 rows at 0.2 -> 2 (2.2). Rows are distinct and unlabelled (one
stratum), so no group or stratum moves the count. (mutant split-target-rounding of
tests/mutation/mutants.tsv)"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import need_env  # noqa: E402

FTEVAL = need_env("FTEVAL")
WORDS = ["card", "transfer", "fee", "pending", "refund", "atm", "pin", "app", "rate", "cash", "limit"]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


tmp = tempfile.mkdtemp(prefix="fteval-split-rounding-")
try:
    for n, frac, want in ((9, 0.3, 3), (7, 0.25, 2), (11, 0.2, 2)):
        src = os.path.join(tmp, f"rows{n}.jsonl")
        with open(src, "w") as f:
            for i in range(n):
                text = f"question {i}: why is my {WORDS[i % 11]} {WORDS[(i * 4 + 1) % 11]} late {i * 37}"
                f.write(json.dumps({"id": f"r{i}", "input": text, "gold": "g"}) + "\n")
        tr, te = os.path.join(tmp, f"tr{n}.jsonl"), os.path.join(tmp, f"te{n}.jsonl")
        p = subprocess.run([FTEVAL, "data", "split", src, "--test-fraction", str(frac), "--seed", "5",
                            "--train", tr, "--test", te], capture_output=True, text=True)
        check(p.returncode == 0, f"{n} rows at {frac}: exit {p.returncode} {p.stderr}")
        if p.returncode != 0:
            continue
        n_te = sum(1 for _ in open(te))
        n_tr = sum(1 for _ in open(tr))
        check(n_te == want, f"{n} rows at {frac}: {n_te} test rows, want {want}")
        check(n_tr == n - want, f"{n} rows at {frac}: {n_tr} train rows, want {n - want}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
