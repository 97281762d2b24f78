#!/usr/bin/env python3
"""Position bias and its swap correction over many seeds (issue 12): the coverage of the swapped
win rate's 95 % interval of the true win rate, and the bias of the un-swapped one.

Per seed: 200 examples whose two outputs (arms "ft" and "base", replayed from files) fall in one
of four cases drawn with probabilities 0.3 / 0.2 / 0.4 / 0.1: ft equals the reference and base
does not (ft should win), the reverse (ft should lose), both differ from the reference and are
equally far from it (the judge is unsure: a tie in truth), identical outputs (a tie, no call).
The true win rate of the population is 0.3 + 0.5 * (0.4 + 0.1) = 0.55. A simulated judge
(`fteval sim`, "judge": {"accuracy": 1, "position_bias": 0.3}) answers "A" 30 % of the time when
unsure. Two pairwise judges of one run grade the same pairs: "once" (swap false: ft always in
position A) and "swapped" (swap true). Reports, over the seeds: mean win rates, their bias, and
how often each interval covers 0.55.

    python3 bench/judges/coverage.py [--seeds 200] [--n 200] [--fteval build/fteval]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

P = (0.3, 0.2, 0.4, 0.1)
TRUE = P[0] + 0.5 * (P[2] + P[3])


def sim_start(fteval, profile, seed):
    p = subprocess.Popen([fteval, "sim", "--host", "127.0.0.1", "--port", "0", "--profile", profile, "--seed", str(seed)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit("sim did not start: " + line)
    return p, line[len("listening on "):]


def one(fteval, work, seed, n, profile):
    rng = random.Random(seed)
    rows, ft, base = [], [], []
    for i in range(n):
        ref = f"order {seed}-{i} ships within three business days with free tracking"
        u = rng.random()
        case = 0 if u < P[0] else 1 if u < P[0] + P[1] else 2 if u < P[0] + P[1] + P[2] else 3
        a, b = {0: (ref, f"sorry we lost case {i}"), 1: (f"sorry we lost case {i}", ref),
                2: (f"please wait for ticket {i} alpha", f"please wait for ticket {i} bravo"), 3: (ref, ref)}[case]
        if case == 2:  # equally far from the reference: F1 0 for both
            a, b = f"contact desk {i} alpha", f"contact desk {i} bravo"
        rows.append({"id": f"x{i:04d}", "input": f"When does order {i} ship?", "gold": ref})
        ft.append({"id": f"x{i:04d}", "prediction": a})
        base.append({"id": f"x{i:04d}", "prediction": b})
    d = os.path.join(work, str(seed))
    os.makedirs(d)
    for name, data in (("data", rows), ("ft", ft), ("base", base)):
        with open(os.path.join(d, name + ".jsonl"), "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in data)
    sim, url = sim_start(fteval, profile, seed)
    judge = {"type": "pairwise", "provider": "sim", "model": "judge-biased", "against": "base"}
    cfg = {"name": "cov", "dataset": "data.jsonl", "task": {"metrics": ["judge:swapped", "judge:once"]},
           "defaults": {"concurrency": 16, "max_tokens": 32},
           "providers": {"sim": {"type": "openai", "base_url": url}, "rb": {"type": "replay", "path": "base.jsonl"},
                         "rf": {"type": "replay", "path": "ft.jsonl"}},
           "arms": [{"name": "base", "provider": "rb", "model": "b"}, {"name": "ft", "provider": "rf", "model": "f"}],
           "judges": {"swapped": dict(judge, swap=True), "once": dict(judge, swap=False)},
           "stats": {"resamples": 100, "seed": 1}}
    with open(os.path.join(d, "c.json"), "w") as f:
        json.dump(cfg, f)
    p = subprocess.run([fteval, "run", os.path.join(d, "c.json"), "--out", os.path.join(d, "run"), "--quiet"],
                       capture_output=True, text=True)
    sim.terminate()
    sim.wait()
    if p.returncode != 0:
        raise SystemExit(f"seed {seed}: fteval run failed: {p.stderr[-500:]}")
    s = json.load(open(os.path.join(d, "run", "summary.json")))
    shutil.rmtree(d)
    return {k: s["judges"][k]["arms"]["ft"]["win_rate"] for k in ("swapped", "once")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--fteval", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "fteval"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="fteval-judge-cov-")
    profile = os.path.join(work, "profile.json")
    with open(profile, "w") as f:
        json.dump({"rules": [{"name": "judge", "model": "judge-biased", "latency_ms": 0,
                              "judge": {"accuracy": 1.0, "position_bias": 0.3}}]}, f)
    t0 = time.monotonic()
    res = {"swapped": [], "once": []}
    for seed in range(1, a.seeds + 1):
        r = one(a.fteval, work, seed, a.n, profile)
        for k in res:
            res[k].append(r[k])
    shutil.rmtree(work)
    out = {"seeds": a.seeds, "n": a.n, "true_win_rate": TRUE, "seconds": round(time.monotonic() - t0, 1)}
    for k, v in res.items():
        mean = sum(x["win_rate"] for x in v) / len(v)
        cover = sum(1 for x in v if x["ci"][0] <= TRUE <= x["ci"][1]) / len(v)
        out[k] = {"mean_win_rate": round(mean, 4), "bias": round(mean - TRUE, 4), "coverage_95": round(cover, 4)}
    print(json.dumps(out, indent=1))
    return 0 if out["swapped"]["coverage_95"] >= 0.93 else 1


if __name__ == "__main__":
    sys.exit(main())
