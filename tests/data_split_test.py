#!/usr/bin/env python3
"""data_split_test.py — `fteval data split`: determinism, stratification, disjointness, groups.

Inputs are generated here; banking77 is covered by data_banking77_test.py.
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402  (missing dependency: skipped, or failed under CI)

FTEVAL = os.environ.get("FTEVAL")
failures = 0
passed = 0


def check(cond, what):
    global failures, passed
    if cond:
        passed += 1
    else:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def run(*args):
    p = subprocess.run([FTEVAL, "data", "split", *args], capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def norm(s):
    """The split's normalisation: ASCII lowercase, ASCII punctuation removed, whitespace collapsed."""
    s = "".join(c.lower() if c.isascii() and c.isalpha() else c for c in s)
    s = "".join(" " if (c.isascii() and (c.isspace() or ord(c) < 32)) else c for c in s)
    s = "".join(c for c in s if not (c.isascii() and not c.isalnum() and c != " "))
    return re.sub(" +", " ", s).strip()


def read_bytes_lines(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")[:-1]


def main():
    if not FTEVAL or not os.path.exists(FTEVAL):
        skip_or_fail("FTEVAL (run through ctest)")
    tmp = tempfile.mkdtemp(prefix="fteval-data-split-")

    # 1000 distinct rows, 3 unbalanced labels (500/300/200), unique texts
    words = ["card", "transfer", "fee", "pending", "refund", "atm", "pin", "app", "rate", "cash", "top", "up"]
    rows = []
    for i in range(1000):
        label = "a" if i < 500 else ("b" if i < 800 else "c")
        text = f"{words[i % 12]} {words[(i * 7) % 12]} question {i} about {words[(i * 5) % 12]} number {i * 31 % 997}"
        rows.append({"id": f"r{i}", "input": text, "gold": label, "label": label})
    src = os.path.join(tmp, "rows.jsonl")
    with open(src, "wb") as f:
        for i, r in enumerate(rows):
            line = json.dumps(r, ensure_ascii=(i % 2 == 0)).encode()
            f.write(line + (b"\r\n" if i == 5 else b"\n"))
        f.write(b"\n")  # a blank line is dropped

    def split(path, seed, tag, *extra):
        tr, te = os.path.join(tmp, f"{tag}-train.jsonl"), os.path.join(tmp, f"{tag}-test.jsonl")
        rc, out, err = run(path, "--test-fraction", "0.2", "--seed", str(seed), "--train", tr, "--test", te, *extra)
        return rc, out, err, tr, te

    rc, out, err, tr1, te1 = split(src, 7, "a")
    check(rc == 0, f"split exit 0 ({rc}: {err})")
    rc, out2, err, tr2, te2 = split(src, 7, "b")
    check(open(tr1, "rb").read() == open(tr2, "rb").read() and open(te1, "rb").read() == open(te2, "rb").read(),
          "determinism: same seed gives byte-identical files")
    rc, out3, err, tr3, te3 = split(src, 8, "c")
    check(open(te1, "rb").read() != open(te3, "rb").read(), "another seed gives another split")

    src_lines = [l for l in read_bytes_lines(src) if l.strip()]
    tr_lines, te_lines = read_bytes_lines(tr1), read_bytes_lines(te1)
    check(collections.Counter(tr_lines + te_lines) == collections.Counter(src_lines),
          "every line copied byte for byte (\\r and non-ASCII kept), none lost")
    check(len(te_lines) == 200, f"test size round(0.2 * 1000) = 200 ({len(te_lines)})")
    # order preserved
    order = {l: i for i, l in enumerate(src_lines)}
    check([order[l] for l in te_lines] == sorted(order[l] for l in te_lines), "original order kept")
    te_labels = collections.Counter(json.loads(l)["label"] for l in te_lines)
    for lab, n in (("a", 500), ("b", 300), ("c", 200)):
        check(abs(te_labels[lab] - 0.2 * n) <= 1, f"stratified: label {lab} {te_labels[lab]} ~ {0.2 * n}")
    check("stratified by label" in out, "summary names the strata source")

    # odd sizes: each stratum within one example of its share
    odd = [r for r in rows[:437]] + rows[500:583] + rows[800:811]
    odd_src = os.path.join(tmp, "odd.jsonl")
    with open(odd_src, "w") as f:
        for r in odd:
            f.write(json.dumps(r) + "\n")
    rc, out, err, tr, te = split(odd_src, 3, "odd", "--stratify-by", "label")
    te_labels = collections.Counter(json.loads(l)["label"] for l in read_bytes_lines(te))
    for lab, n in (("a", 437), ("b", 83), ("c", 11)):
        check(abs(te_labels[lab] - 0.2 * n) < 1 + 1e-9, f"stratify-by: label {lab} {te_labels[lab]} ~ {0.2 * n:.1f}")

    # duplicates, near duplicates and shared ids stay together
    grp = []
    for i in range(300):
        grp.append({"id": f"g{i}", "input": f"unique question {i} on {words[i % 12]} and {words[(i * 3) % 12]} {i * 17}",
                    "gold": "x", "label": "x" if i % 2 else "y"})
    planted = []
    for k in range(20):
        base = grp[k * 10]["input"]
        grp.append({"id": f"dup{k}", "input": base.upper() + "!!", "gold": "x", "label": "x"})      # exact (normalised)
        grp.append({"id": f"near{k}", "input": base + " ok", "gold": "x", "label": "y"})            # near duplicate
        planted.append((grp[k * 10]["id"], f"dup{k}", f"near{k}"))
    grp.append({"id": "g1", "input": "same id as row g1 but other text entirely zzz", "gold": "x", "label": "x"})
    grp_src = os.path.join(tmp, "groups.jsonl")
    with open(grp_src, "w") as f:
        for r in grp:
            f.write(json.dumps(r) + "\n")
    for seed in range(5):
        rc, out, err, tr, te = split(grp_src, seed, f"g{seed}")
        check(rc == 0, f"groups: exit 0 ({err})")
        tr_rows = [json.loads(l) for l in read_bytes_lines(tr)]
        te_rows = [json.loads(l) for l in read_bytes_lines(te)]
        side = {}
        for r in tr_rows:
            side.setdefault(r["id"], set()).add("train")
        for r in te_rows:
            side.setdefault(r["id"], set()).add("test")
        check(all(len(s) == 1 for s in side.values()), f"seed {seed}: ids disjoint")
        tr_norm = {norm(r["input"]) for r in tr_rows}
        te_norm = {norm(r["input"]) for r in te_rows}
        check(not (tr_norm & te_norm), f"seed {seed}: normalised content disjoint")
        for ids in planted:
            sides = set().union(*(side[i] for i in ids))
            check(len(sides) == 1, f"seed {seed}: near-duplicate group {ids} on one side")
        check(len(te_rows) + len(tr_rows) == len(grp), "groups: nothing lost")
        check(abs(len(te_rows) - 0.2 * len(grp)) <= 3, f"groups: test size near 20% ({len(te_rows)})")

    # usage and input errors
    rc, out, err = run(src, "--test-fraction", "0.2", "--train", tr1, "--test", te1)
    check(rc == 2, "missing --seed: exit 2")
    rc, out, err = run(src, "--test-fraction", "1.5", "--seed", "1", "--train", tr1, "--test", te1)
    check(rc == 2, "bad fraction: exit 2")
    rc, out, err = run(src, "--test-fraction", "0.2", "--seed", "1", "--train", tr1, "--test", tr1)
    check(rc == 2, "same outputs: exit 2")
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"id": 1, "input": "a", "gold": "b"}\n{oops\n')
    rc, out, err = run(bad, "--test-fraction", "0.2", "--seed", "1", "--train", tr1, "--test", te1)
    check(rc == 3 and "bad.jsonl:2" in err, f"invalid line: exit 3 naming file:line ({rc}, {err})")
    rc, out, err = run(os.path.join(tmp, "absent.jsonl"), "--test-fraction", "0.2", "--seed", "1",
                       "--train", tr1, "--test", te1)
    check(rc == 3 and "absent.jsonl" in err, "unreadable input: exit 3")

    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
