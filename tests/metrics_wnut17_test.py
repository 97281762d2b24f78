"""json_exact and field_f1 on the real WNUT-17 test set and the seven shared-task team outputs:
`fteval score` against a reference written here from docs/metrics.md §3 (pairs of (key,
normalize(value)) as multisets; normalize = the official SQuAD normalize_answer, imported from
tools/gen_normalize_cases.py where it is copied verbatim). Every team's two means must agree to
1e-12, and the reference values are also pinned in tests/test_metrics_data.c.
Needs ../shared: skipped (77) outside CI, a failure under CI."""
import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from skip import skip_or_fail, shared, need_env  # noqa: E402
from gen_normalize_cases import normalize_answer  # noqa: E402

TEAMS = ["Arcada", "Drexel-CCI", "FLYTXT", "MIC-CIS", "SJTU-Adapt", "SpinningBytes", "UH-RiTUAL"]


def value_texts(v):
    """docs/metrics.md §3: a string is a one-element list, a list one pair per element; numbers
    their shortest round-trip text, booleans true/false, nested values compact JSON; null gives none."""
    if v is None:
        return []
    if isinstance(v, list):
        return [json.dumps(e, separators=(",", ":"), ensure_ascii=False) if isinstance(e, (list, dict)) else t
                for e in v for t in ([None] if isinstance(e, (list, dict)) else value_texts(e))]
    if isinstance(v, bool):
        return ["true" if v else "false"]
    if isinstance(v, (int, float)):
        return [repr(v) if isinstance(v, float) and not v.is_integer() else str(int(v))]
    if isinstance(v, dict):
        return [json.dumps(v, separators=(",", ":"), ensure_ascii=False)]
    return [v]


def pairs(obj):
    out = collections.Counter()
    for k, v in obj.items():
        for t in value_texts(v):
            n = normalize_answer(t)
            if n:
                out[(k, n)] += 1
    return out


def scores(pred, gold):
    p, g = pairs(pred), pairs(gold)
    exact = 1.0 if p == g else 0.0
    if not p and not g:
        return exact, 1.0
    c = sum((p & g).values())
    if not p or not g or c == 0:
        return exact, 0.0
    P, R = c / sum(p.values()), c / sum(g.values())
    return exact, 2 * P * R / (P + R)


def main():
    fteval = need_env("FTEVAL")
    test = shared("datasets", "wnut17", "test.jsonl")
    golds = [json.loads(l) for l in open(test, encoding="utf-8")]
    tmp = tempfile.mkdtemp(prefix="fteval-wnut-")
    args, ref = [], {}
    for team in TEAMS:
        preds = [json.loads(l) for l in open(shared("datasets", "wnut17", "predictions", team + ".jsonl"),
                                             encoding="utf-8")]
        assert [p["id"] for p in preds] == [g["id"] for g in golds], team
        s = [scores(p["prediction"], g["gold"]) for p, g in zip(preds, golds)]
        ref[team] = (sum(x for x, _ in s) / len(s), sum(f for _, f in s) / len(s))
        path = os.path.join(tmp, team + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for p in preds:
                f.write(json.dumps({"id": p["id"], "prediction": json.dumps(p["prediction"], ensure_ascii=False)},
                                   ensure_ascii=False) + "\n")
        args += ["--pred", f"{team}={path}"]
    out = os.path.join(tmp, "run")
    p = subprocess.run([fteval, "score", "--dataset", test, *args, "--metrics", "json_exact,field_f1",
                        "--resamples", "200", "--out", out], capture_output=True, text=True)
    fails = []
    if p.returncode != 0:
        fails.append(f"fteval score exit {p.returncode}: {p.stderr}")
    else:
        summ = json.load(open(os.path.join(out, "summary.json")))
        for team in TEAMS:
            m = summ["arms"][team]["metrics"]
            got = (m["json_exact"]["mean"], m["field_f1"]["mean"])
            print(f"wnut17 {team:<13} json_exact {ref[team][0]:.17g} field_f1 {ref[team][1]:.17g}")
            if abs(got[0] - ref[team][0]) > 1e-12 or abs(got[1] - ref[team][1]) > 1e-12:
                fails.append(f"{team}: fteval {got}, reference {ref[team]}")
    subprocess.run(["rm", "-rf", tmp])
    for f in fails:
        print("FAIL", f)
    print(f"{len(TEAMS) * 2 - len(fails)} passed, {len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
