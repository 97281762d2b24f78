#!/usr/bin/python3
"""Writes the benchmark score table (stats_tool request JSON) to stdout.
n paired examples, 3 arms, two metrics: exact_match (binary) and f1 (continuous)."""
import json
import sys

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
B = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
g = np.random.default_rng(2026)
base = (g.random(n) < 0.62).astype(float)
arms = {"base": base,
        "prompted": np.where(g.random(n) < 0.85, base, (g.random(n) < 0.66).astype(float)),
        "finetuned": np.where(g.random(n) < 0.80, base, (g.random(n) < 0.72).astype(float))}
scores = {}
for k, em in arms.items():
    f1 = np.clip(0.6 * em + 0.4 * g.random(n), 0, 1)
    scores[k] = {"exact_match": em.tolist(), "f1": f1.tolist()}
json.dump({"arms": list(arms), "metrics": [{"name": "exact_match", "binary": True},
                                           {"name": "f1", "binary": False}],
           "scores": scores, "baseline": "base", "seed": 20261124, "resamples": B,
           "alpha": 0.05, "time": True}, sys.stdout)
