"""Statistics of pairwise judges (metrics/stats_judge.h) against independent references:
- the exact sign test (wins against losses, ties ignored) equals scipy.stats.binomtest(w, w + l,
  0.5).pvalue (two-sided) to 1e-12 on every (w, l) with w + l <= 60 and on a few large counts;
- the win rate counts ties as one half, with the normal interval mean +- z_{0.975} se (ddof 1)
  clamped to [0, 1], written here from the definition with scipy's normal quantile.
Drives $FTEVAL_BUILD/judge_stats_tool (tests/tools/judge_stats_tool.c).
"""
import json
import math
import os
import random
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402

try:
    from scipy import stats
except ImportError as e:  # pragma: no cover
    skip_or_fail("scipy (%s; scripts/setup.sh --test)" % e)

TOOL = os.path.join(os.environ.get("FTEVAL_BUILD", "build"), "judge_stats_tool")
if not os.path.exists(TOOL):
    skip_or_fail("%s (the judge_stats_tool test tool; build the project)" % TOOL)
fails, checks = [], 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        fails.append(what)
        print("FAIL:", what)


def tool(req):
    p = subprocess.run([TOOL], input=json.dumps(req).encode(), capture_output=True, check=True)
    return json.loads(p.stdout)


pairs = [(w, l) for n in range(0, 61) for w in range(n + 1) for l in [n - w]]
pairs += [(480, 520), (1000, 1100), (3, 2000), (5000, 5000)]
got = tool({"sign": pairs})["sign"]
for (w, l), p in zip(pairs, got):
    want = 1.0 if w + l == 0 else stats.binomtest(w, w + l, 0.5).pvalue
    check(abs(p - want) <= 1e-12 * max(1.0, want), f"sign test w={w} l={l}: {p} vs scipy {want}")

rng = random.Random(12)
z = stats.norm.ppf(0.975)
for trial in range(50):
    n = rng.randint(2, 400)
    pw, pt = rng.random(), rng.random()
    v = [1.0 if u < pw * (1 - pt) else 0.5 if u < pw * (1 - pt) + pt else 0.0 for u in (rng.random() for _ in range(n))]
    out = tool({"values": v, "alpha": 0.05})
    mean = sum(v) / n
    se = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1) / n)
    lo, hi = max(0.0, mean - z * se), min(1.0, mean + z * se)
    w, t, l = v.count(1.0), v.count(0.5), v.count(0.0)
    check(out["n"] == n and (out["wins"], out["ties"], out["losses"]) == (w, t, l), f"trial {trial}: counts")
    check(abs(out["win_rate"] - mean) < 1e-12 and abs(out["se"] - se) < 1e-12, f"trial {trial}: win rate/se")
    check(abs(out["ci"][0] - lo) < 1e-9 and abs(out["ci"][1] - hi) < 1e-9, f"trial {trial}: ci {out['ci']} vs {lo, hi}")
    want = 1.0 if w + l == 0 else stats.binomtest(w, w + l, 0.5).pvalue
    check(abs(out["sign_test"]["p"] - want) <= 1e-12, f"trial {trial}: sign test")
print(f"{checks - len(fails)} passed, {len(fails)} failed")
sys.exit(1 if fails else 0)
