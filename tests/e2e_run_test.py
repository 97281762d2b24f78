"""End to end: `fteval run` against `fteval sim` with a three-arm config (base, prompted with
system prompt + few-shot, fine-tuned), both dataset shapes; the results directory is checked
field by field against the DESIGN contract and against what the simulator received."""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
log = os.path.join(d, "sim.log")

rows = fte.plain_dataset(os.path.join(d, "data.jsonl"), 150)
# chat-shape rows: the final assistant message is the gold and must never be sent
chat = [{"id": f"chat-{i}", "messages": [{"role": "user", "content": f"chat question {i}"},
                                          {"role": "assistant", "content": f"SECRETGOLD{i}"}]}
        for i in range(20)]
fte.write_jsonl(os.path.join(d, "all.jsonl"), rows + chat)
with open(os.path.join(d, "system.txt"), "w") as f:
    f.write("You are a support-intent classifier. Answer with one word.")
fte.write_jsonl(os.path.join(d, "few.jsonl"), [{"input": "question x: which word?", "gold": "alpha"},
                                               {"input": "question y: which word?", "gold": "bravo"}])
sim = fte.Sim("--dataset", os.path.join(d, "all.jsonl"), "--profile",
              os.path.join(fte.SRC, "configs", "demo", "sim_profile.json"), "--seed", "3", log=log)
arms = [
    {"name": "base", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"},
    {"name": "prompted", "provider": "sim", "model": "gpt-4o-mini-2024-07-18",
     "system": "@system.txt", "few_shot": "few.jsonl"},
    {"name": "finetuned", "provider": "sim", "model": "ft:gpt-4o-mini-2024-07-18:acme:e2e:abc"},
]
cfg = fte.config(os.path.join(d, "c.json"), "all.jsonl", sim.url, arms,
                 prices=os.path.join(fte.SRC, "configs", "prices.json"),
                 baseline_arm="prompted", training={"cost_usd": 1.0},
                 traffic={"requests_per_month": 100000})
out = os.path.join(d, "run")
p = fte.run("run", cfg, "--out", out, "--seed", "11", "--resamples", "1000")
t(p.returncode == 0, f"run exit {p.returncode}: {p.stderr}")
t("finetuned" in p.stdout and "decision:" in p.stdout, "the arms table is printed")
for f in ("manifest.json", "summary.json", "report.md", "report.html", "base.jsonl",
          "prompted.jsonl", "finetuned.jsonl"):
    t(os.path.exists(os.path.join(out, f)), f"{f} written")

m = json.load(open(os.path.join(out, "manifest.json")))
t(m["status"] == "complete" and m["command"] == "run", "manifest status/command")
for k in ("fteval_version", "started_at", "ended_at", "host", "run_id", "config", "dataset",
          "files_sha256", "arms", "metrics", "stats"):
    t(k in m, f"manifest has {k}")
t(m["dataset"]["examples"] == 170 and len(m["dataset"]["sha256"]) == 64, "manifest dataset")
t(m["stats"]["seed"] == 11 and m["stats"]["resamples"] == 1000, "--seed/--resamples recorded")
pa = {a["name"]: a for a in m["arms"]}
t(pa["prompted"]["system_sha256"] and pa["prompted"]["few_shot_sha256"], "prompt hashes recorded")
t(pa["base"]["system_sha256"] is None, "no hash for an arm without a system prompt")
t(any(k.endswith("system.txt") for k in m["files_sha256"]), "system file hashed")

prices = json.load(open(os.path.join(fte.SRC, "configs", "prices.json")))["models"]
RECORD_KEYS = {"id", "arm", "prediction", "gold", "scores", "status", "error", "finish_reason",
               "latency_ms", "attempts", "usage", "cost_usd", "request_sha256"}
for arm, model_row in (("base", "gpt-4o-mini-2024-07-18"), ("prompted", "gpt-4o-mini-2024-07-18"),
                       ("finetuned", "ft:gpt-4o-mini-2024-07-18")):
    recs = fte.read_jsonl(os.path.join(out, f"{arm}.jsonl"))
    t(len(recs) == 170 and len({r["id"] for r in recs}) == 170, f"{arm}: one record per example")
    t(all(RECORD_KEYS <= set(r) for r in recs), f"{arm}: every record has the contract fields")
    t(all(r["status"] == "ok" and r["error"] is None and r["attempts"] == 1 for r in recs), f"{arm}: all ok")
    em_ok = all(r["scores"]["exact_match"] == (1 if r["prediction"].strip().lower() ==
                                               (r["gold"] if isinstance(r["gold"], str) else r["gold"][0]).lower() else 0)
                for r in recs if isinstance(r["gold"], str) and r["gold"].isalnum())
    t(em_ok, f"{arm}: exact_match agrees with prediction == gold")
    price = prices[model_row]
    cost_ok = all(math.isclose(r["cost_usd"], ((r["usage"]["prompt_tokens"] - r["usage"]["cached_tokens"]) * price["input"]
                                               + r["usage"]["cached_tokens"] * price["cached_input"]
                                               + r["usage"]["completion_tokens"] * price["output"]) / 1e6,
                               rel_tol=1e-9, abs_tol=1e-15) for r in recs)
    t(cost_ok, f"{arm}: cost_usd = usage x price row {model_row}")
    t(all(r["arm"] == arm and r["finish_reason"] == "stop" for r in recs), f"{arm}: arm and finish_reason")

s = json.load(open(os.path.join(out, "summary.json")))
t(s["schema"] == "fteval.summary/1", "summary schema")
for arm in ("base", "prompted", "finetuned"):
    a = s["arms"][arm]
    recs = fte.read_jsonl(os.path.join(out, f"{arm}.jsonl"))
    t(a["n"] == 170 and a["n_errors"] == 0, f"{arm}: n, n_errors")
    for metric in ("exact_match", "f1"):
        mm = a["metrics"][metric]
        mean = sum(r["scores"][metric] for r in recs) / len(recs)
        t(abs(mm["mean"] - mean) < 1e-12, f"{arm}.{metric}: mean of the records")
        t(mm["ci"][0] <= mm["mean"] <= mm["ci"][1] and mm["se"] >= 0, f"{arm}.{metric}: se and ci")
    t(set(a["usage"]) >= {"prompt_tokens", "completion_tokens", "cached_tokens"}, f"{arm}: usage")
    t(set(a["cost"]) >= {"priced", "total_usd", "per_inference_usd", "per_1k_usd", "per_correct_usd"}, f"{arm}: cost")
    t(abs(a["cost"]["total_usd"] - sum(r["cost_usd"] for r in recs)) < 1e-12, f"{arm}: total cost")
    t(set(a["latency_ms"]) >= {"mean", "p50", "p90", "p95", "p99", "max"}, f"{arm}: latency")
t(s["arms"]["prompted"]["usage"]["prompt_tokens"] > s["arms"]["base"]["usage"]["prompt_tokens"],
  "the prompted arm sends more prompt tokens")
cmps = s["comparisons"]
t(len(cmps) == 4 and {(c["a"], c["b"]) for c in cmps} == {("base", "prompted"), ("finetuned", "prompted")},
  "comparisons: every arm vs the baseline, per metric")
for c in cmps:
    for k in ("metric", "n", "delta", "se_paired", "ci", "ci_method", "p_bootstrap", "p_permutation",
              "p_mcnemar", "p_adjusted", "adjustment", "significant", "resamples", "seed", "mde"):
        t(k in c, f"comparison has {k}")
    t(c["resamples"] == 1000 and c["seed"] == 11, "comparison settings")
dec = s["decision"]
t(dec["baseline_arm"] == "prompted" and dec["candidate_arm"] == "finetuned", "decision arms")
# The verdict, derived here from the records: finetuned vs prompted on exact_match (the primary
# metric). Rule 1 of docs/decision.md applies when the difference is positive and significant; the
# evidence is checked independently of fteval's statistics: the exact McNemar p on the discordant
# pairs (times 4, Holm's worst factor for the family of 4) and the cluster-robust z of the paired
# difference (the dataset has 25 clusters) both clear the bar by a wide margin.
ft = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "finetuned.jsonl"))}
bl = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "prompted.jsonl"))}
diff = {i: ft[i]["scores"]["exact_match"] - bl[i]["scores"]["exact_match"] for i in ft}
delta = sum(diff.values()) / len(diff)
nb, nc = sum(v > 0 for v in diff.values()), sum(v < 0 for v in diff.values())
p_mcnemar = min(1.0, 2 * sum(math.comb(nb + nc, k) for k in range(min(nb, nc) + 1)) / 2 ** (nb + nc))
clusters = {}
for r in rows:
    clusters.setdefault(r["cluster"], []).append(diff[r["id"]])
for i in range(20):
    clusters.setdefault(f"chat-{i}", []).append(diff[f"chat-{i}"])  # unclustered rows: their own cluster
N, G = len(diff), len(clusters)
se_cl = math.sqrt(G / (G - 1) * sum((sum(v) - len(v) * delta) ** 2 for v in clusters.values())) / N
t(delta > 0.1 and 4 * p_mcnemar < 0.001 and delta / se_cl > 3.5,
  f"the run's evidence: delta {delta:.4f}, McNemar p {p_mcnemar:.2g}, cluster z {delta / se_cl:.2f}")
t(abs(dec["lower_bound"] - delta) < 0.1 and dec["metric"] == "exact_match", "decision metric and bound")
t(dec["verdict"] == "ship_candidate", f"decision verdict {dec['verdict']}, want ship_candidate (rule 1)")
t(any("significantly better" in r for r in dec["reasons"]) and any(f"+{100 * delta:.1f} pts" in r for r in dec["reasons"]),
  f"decision reasons name the significant gain of {100 * delta:.1f} pts: {dec['reasons'][:2]}")
t(dec["rubric"]["max"] == 35 and len(dec["rubric"]["dimensions"]) == 7, "rubric")

# History: each run appends to <parent>/history.jsonl; the second run's report draws the trend.
p3 = fte.run("run", cfg, "--out", os.path.join(d, "run2"), "--quiet", "--resamples", "200")
t(p3.returncode == 0, f"second run: {p3.returncode}")
hist = fte.read_jsonl(os.path.join(d, "history.jsonl"))
t(len(hist) == 2 and {h["dir"] for h in hist} == {"run", "run2"}, "history.jsonl has one line per run")
html = open(os.path.join(d, "run2", "report.html")).read()
trend = html[html.find('id="chart-trend"'):]
trend = trend[:trend.find("</svg>")]
t(trend.count('fill="none"') == 3 and trend.count("<circle") == 6, "the trend chart draws 3 arms x 2 runs")
p4 = fte.run("history", d)
t(p4.returncode == 0 and "finetuned" in p4.stdout, f"fteval history: {p4.returncode} {p4.stderr}")

# What the simulator received: system + few-shot only on the prompted arm; golds never sent.
sim.stop()
reqs = [json.loads(l) for l in open(log)]
t(len(reqs) == 2 * 3 * 170, f"sim saw {len(reqs)} requests, want 1020 (two runs)")
bodies = [r["body"] for r in reqs]
t(not any("SECRETGOLD" in json.dumps(b) for b in bodies), "chat golds are never sent")
pr = [b for b in bodies if b["messages"][0]["role"] == "system"]
t(len(pr) == 340 and all(len(b["messages"]) == 6 for b in pr), "prompted: system + 2 few-shot pairs + example")
t(all(b["max_tokens"] == 16 and b["temperature"] == 0 for b in bodies), "request parameters")

# The reports re-render from the files alone.
p2 = fte.run("report", out)
t(p2.returncode == 0, "fteval report re-renders")
fte.Checks.done(t)
