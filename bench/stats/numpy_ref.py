#!/usr/bin/python3
"""The same computation as fteval's statistics, in vectorised numpy (the benchmark baseline).

Reads the stats_tool request JSON (bench/stats/gen_table.py) on stdin. For every non-baseline
arm and metric: delta, paired SE, paired t p; one shared index bootstrap (B x n indices, drawn in
chunks, every difference vector gathered with the same indices): shifted p, percentile CI, BCa;
random sign-flip permutation p (R = B) when more than 40 differences are non-zero (exact
enumeration is not attempted here); McNemar for binary metrics; Holm. Prints the seconds spent.
"""
import json
import sys
import time

import numpy as np
from scipy import stats

req = json.load(sys.stdin)
t0 = time.perf_counter()
B = req["resamples"]
rng = np.random.default_rng(req["seed"])
arms, base = req["arms"], req["baseline"]
ds, names, binary = [], [], []
for m in req["metrics"]:
    for a in arms:
        if a == base:
            continue
        x = np.asarray(req["scores"][a][m["name"]])
        y = np.asarray(req["scores"][base][m["name"]])
        ds.append(x - y)
        names.append((a, m["name"]))
        binary.append(m["binary"])
D = np.stack(ds)  # K x n
K, n = D.shape
delta = D.mean(axis=1)
boot = np.empty((K, B))
chunk = max(1, 2_000_000 // n)
for s in range(0, B, chunk):
    e = min(B, s + chunk)
    idx = rng.integers(0, n, size=(e - s, n))
    for j in range(K):
        boot[j, s:e] = D[j][idx].mean(axis=1)
out = []
for j in range(K):
    d, bs, dl = D[j], boot[j], delta[j]
    p_boot = 1.0 if dl == 0 else (1 + np.sum(np.abs(bs - dl) >= abs(dl))) / (B + 1)
    ci = np.percentile(bs, [2.5, 97.5])
    u = d - dl
    a_hat = np.sum(u ** 3) / (6 * np.sum(u ** 2) ** 1.5)
    z0 = stats.norm.ppf((np.sum(bs < dl) + np.sum(bs <= dl)) / (2 * B))
    zs = stats.norm.ppf([0.025, 0.975])
    lv = stats.norm.cdf(z0 + (z0 + zs) / (1 - a_hat * (z0 + zs)))
    bca = np.percentile(bs, 100 * lv)
    nz = d[d != 0]
    S = nz.sum()
    hits = 0
    cs = max(1, 2_000_000 // max(1, len(nz)))
    for s in range(0, B, cs):
        e = min(B, s + cs)
        signs = rng.integers(0, 2, size=(e - s, len(nz)), dtype=np.int8) * 2 - 1
        T = signs @ nz
        hits += np.sum(np.abs(T) >= abs(S) - 1e-10 * np.abs(nz).sum())
    p_perm = (1 + hits) / (B + 1)
    p_t = stats.ttest_rel(d, np.zeros(n)).pvalue
    rec = {"delta": dl, "ci": ci.tolist(), "ci_bca": bca.tolist(), "p_bootstrap": p_boot,
           "p_permutation": p_perm, "p_ttest": p_t}
    if binary[j]:
        b, c = int(np.sum(d > 0)), int(np.sum(d < 0))
        rec["p_mcnemar"] = stats.binomtest(min(b, c), b + c, 0.5).pvalue if b + c else 1.0
    out.append(rec)
t1 = time.perf_counter()
json.dump({"seconds": t1 - t0, "comparisons": out}, sys.stdout, indent=1, default=float)
print()
