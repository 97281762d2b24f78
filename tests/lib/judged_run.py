"""judged_run.py — a judged run directory for the human-rating tests, built the way a user gets
one: `fteval run` against `fteval sim` (real manifest, config and records), then every record
given the judgements the judge contract of issue 12 fixes (judgements.NAME with type, scale,
pass_at, against, score / outcome / value), deterministically from a seed. The records keep no
"input" unless with_input names arms that should carry one (the field inputs13 adds), so both
ways `rate export` finds an input are exercised.

make(d) -> dict(out=run dir, arms=[...], models=[...], truth=...)
"""
import json
import os
import random

import fte

ARMS = [
    {"name": "base_arm", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"},
    {"name": "tuned_arm", "provider": "sim", "model": "ft:gpt-4o-mini-2024-07-18:acme:voice:xyz1"},
]


def judge_records(out, arms, seed, n_skip_judgement=3, with_input=()):
    """Adds judgements.pref (pairwise tuned_arm vs base_arm) and judgements.quality (rubric 1..5)
    to every record; a few records get a failed judgement ("error"). Returns the judge truth:
    {(arm, id): {"pref": outcome or None, "quality": score or None}}."""
    rng = random.Random(seed)
    truth = {}
    for arm in arms:
        path = os.path.join(out, arm + ".jsonl")
        recs = fte.read_jsonl(path)
        for i, r in enumerate(recs):
            j = {}
            score = rng.randint(1, 5) if arm == "base_arm" else rng.choice([2, 3, 4, 4, 5, 5])
            if i < n_skip_judgement and arm == "tuned_arm":
                j["quality"] = {"type": "rubric", "model": "judge-model-x", "scale": [1, 5],
                                "pass_at": 4, "error": "unparsable judge answer"}
                score = None
            else:
                j["quality"] = {"type": "rubric", "model": "judge-model-x", "scale": [1, 5],
                                "pass_at": 4, "score": score, "value": (score - 1) / 4,
                                "reason": "ok"}
            outcome = None
            if arm == "tuned_arm":
                outcome = rng.choice(["win", "win", "tie", "loss"])
                j["pref"] = {"type": "pairwise", "model": "judge-model-x", "against": "base_arm",
                             "outcome": outcome,
                             "value": {"win": 1, "tie": 0.5, "loss": 0}[outcome],
                             "orders": [{"order": "AB", "winner": "A", "reason": "r"},
                                        {"order": "BA", "winner": "B", "reason": "r"}],
                             "reason": "ok"}
                r.setdefault("scores", {})["judge:pref"] = j["pref"]["value"]
            if score is not None:
                r.setdefault("scores", {})["judge:quality"] = (score - 1) / 4
            r["judgements"] = j
            if arm in with_input:
                r["input"] = "Q: " + r["id"] + " (as recorded)"
            truth[(arm, r["id"])] = {"pref": outcome, "quality": score}
        fte.write_jsonl(path, recs)
    return truth


def make(d, n=60, seed=5, primary="judge:pref", with_input=("tuned_arm",)):
    rows = fte.plain_dataset(os.path.join(d, "data.jsonl"), n)
    sim = fte.Sim("--dataset", os.path.join(d, "data.jsonl"), "--template", "Q: {input}",
                  "--seed", str(seed))
    cfg = fte.config(os.path.join(d, "c.json"), "data.jsonl", sim.url, ARMS,
                     task={"template": "Q: {input}"}, baseline_arm="base_arm")
    out = os.path.join(d, "run")
    p = fte.run("run", cfg, "--out", out, "--quiet")
    if p.returncode != 0:
        raise SystemExit(f"FAIL: fteval run: {p.returncode} {p.stderr}")
    sim.stop()
    truth = judge_records(out, [a["name"] for a in ARMS], seed, with_input=with_input)
    m = json.load(open(os.path.join(out, "manifest.json")))
    m["metrics"] = m["metrics"] + ["judge:pref", "judge:quality"]
    m["primary_metric"] = primary
    fte.write_json(os.path.join(out, "manifest.json"), m)
    return {"out": out, "rows": rows, "truth": truth, "arms": [a["name"] for a in ARMS],
            "models": sorted({a["model"] for a in ARMS}), "config": cfg}
