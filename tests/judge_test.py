"""Issue 12 (judges), end to end against `fteval sim` judge models and the adversarial server:

- config: the judges object is strict; every error names the file and the field (unknown judge,
  against not an arm, invalid scale, pass_at outside the scale, .pass of a pairwise judge);
  the default prompts are configs/prompts/judge_*.md (manifest prompt_sha256);
- position bias: a simulated judge answering "A" 30 % of the time when unsure makes the
  un-swapped win rate biased (its CI misses the true win rate, known from the data); with swap
  the CI covers it; identical outputs are ties without a call (exact judge request counts);
- rubric: judge:NAME = (score - min) / (max - min) and .pass = score >= pass_at, checked against
  the simulated judge's definition (token F1 to the reference, written here);
- unparsable judge answers: one retry, then an error on that judgement only (exact request
  counts against the in-process adversarial server; the generation stays ok);
- budget: judge calls count: the run stops, the records' spend is the priced judge usage exactly
  and stays within budget.max_usd;
- resume: SIGTERM mid-judging, --resume: the final records equal an uninterrupted run's, and the
  judge requests over both sessions equal the uninterrupted run's (nothing judged twice).
"""
import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import advserver  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
SRC = os.environ["FTEVAL_SRC"]
N = 200
WIN, LOSS, UNSURE_A, UNSURE_B, SAME = range(5)


def gold(i):
    return f"refund {i} arrives within five business days of approval"


def wrong(i, k):
    return f"please contact our team about case {i} variant {k}" if k else f"we cannot help with case {i} today"


def outputs(i):
    """(ft, base) predictions of example i: the category is i % 5."""
    c = i % 5
    if c == WIN:
        return gold(i), wrong(i, 0)
    if c == LOSS:
        return wrong(i, 0), gold(i)
    if c in (UNSURE_A, UNSURE_B):  # both as far from the reference (F1 0): the judge is unsure
        return wrong(i, 1), wrong(i, 2)
    return gold(i), gold(i)


def true_value(i):
    return {WIN: 1.0, LOSS: 0.0}.get(i % 5, 0.5)


rows = [{"id": f"r{i:04d}", "input": f"Customer {i}: when will my refund arrive?", "gold": gold(i)} for i in range(N)]
DATA = os.path.join(d, "data.jsonl")
fte.write_jsonl(DATA, rows)
fte.write_jsonl(os.path.join(d, "ft_pred.jsonl"), [{"id": r["id"], "prediction": outputs(i)[0]} for i, r in enumerate(rows)])
fte.write_jsonl(os.path.join(d, "base_pred.jsonl"), [{"id": r["id"], "prediction": outputs(i)[1]} for i, r in enumerate(rows)])
PROFILE = os.path.join(d, "profile.json")
fte.write_json(PROFILE, {"rules": [
    {"name": "judge-biased", "model": "judge-biased", "judge": {"accuracy": 1.0, "position_bias": 0.3}, "latency_ms": 0},
    {"name": "judge-slow", "model": "judge-slow", "judge": {"accuracy": 1.0, "position_bias": 0.3}, "latency_ms": 40},
    {"name": "other", "model": "*", "accuracy": 0.7, "latency_ms": 0}]})


def config(name, judges, metrics, url, **extra):
    cfg = {
        "name": name, "dataset": DATA,
        "task": {"metrics": metrics, "primary_metric": metrics[0]},
        "defaults": {"temperature": 0, "max_tokens": 32, "timeout_s": 10, "max_retries": 2, "concurrency": 8},
        "providers": {"sim": {"type": "openai", "base_url": url},
                      "rb": {"type": "replay", "path": "base_pred.jsonl"},
                      "rf": {"type": "replay", "path": "ft_pred.jsonl"}},
        "arms": [{"name": "base", "provider": "rb", "model": "base-model"},
                 {"name": "ft", "provider": "rf", "model": "ft:base-model:org::x"}],
        "judges": judges,
        "stats": {"resamples": 200, "seed": 1},
    }
    cfg.update(extra)
    path = os.path.join(d, name + ".json")
    fte.write_json(path, cfg)
    return path


def sim_log_models(path):
    return [json.loads(l)["model"] for l in open(path) if l.strip()] if os.path.exists(path) else []


def final_records(out, arm):
    last = {}
    for r in fte.read_jsonl(os.path.join(out, arm + ".jsonl")):
        last[r["id"]] = r
    return last


# ---- 0. the simulated judge, asked directly ------------------------------------------------
import urllib.request  # noqa: E402


def ask(url, model, prompt):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}]}).encode()
    req = urllib.request.Request(url + "/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(json.loads(r.read())["choices"][0]["message"]["content"])


def pair_prompt(ref, a, b):
    return f"<reference>\n{ref}\n</reference>\n<output_a>\n{a}\n</output_a>\n<output_b>\n{b}\n</output_b>"


SIMPROF = os.path.join(d, "simjudges.json")
fte.write_json(SIMPROF, {"rules": [
    {"name": "always-a", "model": "j-a", "judge": {"position_bias": 1.0}, "latency_ms": 0},
    {"name": "longer", "model": "j-long", "judge": {"length_bias": 1.0, "position_bias": 0.0}, "latency_ms": 0},
    {"name": "wrong", "model": "j-wrong", "judge": {"accuracy": 0.0}, "latency_ms": 0},
    {"name": "half", "model": "j-half", "judge": {"accuracy": 1.0, "position_bias": 0.5}, "latency_ms": 0}]})
sim = fte.Sim("--profile", SIMPROF, "--seed", "5")
unsure = [pair_prompt("the parcel ships today", f"call desk {i} now", f"ring office {i} please soon") for i in range(40)]
t(all(ask(sim.url, "j-a", q)["winner"] == "A" for q in unsure), "sim judge: position_bias 1 answers A when unsure")
t(all(ask(sim.url, "j-long", q)["winner"] == "B" for q in unsure), "sim judge: length_bias 1 picks the longer when unsure")
sure = pair_prompt("the parcel ships today", "the parcel ships today", "call desk now")
t(ask(sim.url, "j-wrong", sure)["winner"] == "B" and ask(sim.url, "j-half", sure)["winner"] == "A",
  "sim judge: accuracy 0 prefers the farther output, accuracy 1 the closer")
firsts = [ask(sim.url, "j-half", q)["winner"] for q in unsure]
t(firsts == [ask(sim.url, "j-half", q)["winner"] for q in unsure] and 8 <= firsts.count("A") <= 32,
  f"sim judge: the same prompt gets the same verdict; unsure answers split ({firsts.count('A')} A of 40)")
rub = "<reference>\nthe parcel ships today\n</reference>\n<output>\nthe parcel ships today\n</output>\n" \
      "a whole number from 0 (worst) to 10 (best)"
t(ask(sim.url, "j-half", rub)["score"] == 10, "sim judge: rubric reads the scale and scores closeness")
sim.stop()

# ---- 1. config -------------------------------------------------------------------------------
PAIR = {"type": "pairwise", "provider": "sim", "model": "judge-biased", "against": "base"}
RUB = {"type": "rubric", "provider": "sim", "model": "judge-biased", "scale": [1, 5], "pass_at": 4}
bad = [
    ({"q": RUB}, ["judge:nope"], "task.metrics[0]", "names no judge"),
    ({"p": dict(PAIR, against="prompted")}, ["judge:p"], "judges.p.against", "not an arm"),
    ({"q": dict(RUB, scale=[5, 1])}, ["judge:q"], "judges.q.scale", "below max"),
    ({"q": dict(RUB, scale=[1, 2.5])}, ["judge:q"], "judges.q.scale", "two whole numbers"),
    ({"q": dict(RUB, pass_at=7)}, ["judge:q"], "judges.q.pass_at", "outside the scale"),
    ({"p": PAIR}, ["judge:p.pass"], "task.metrics[0]", "only a rubric judge"),
    ({"q": dict(RUB, pass_at=None)}, ["judge:q.pass"], "task.metrics[0]", "needs judges.q.pass_at"),
    ({"q": dict(RUB, typ="rubric")}, ["judge:q"], "judges.q.typ", "unknown key"),
    ({"q": dict(RUB, type="score")}, ["judge:q"], "judges.q.type", "rubric"),
    ({"q": dict(RUB, provider="rb")}, ["judge:q"], "judges.q.provider", "offline"),
    ({"q": dict(RUB, prompt="Grade {outptu}")}, ["judge:q"], "judges.q.prompt", "outptu"),
]
for judges, metrics, field, words in bad:
    path = config("bad", judges, metrics, "http://127.0.0.1:9/v1")
    p = fte.run("run", path, "--dry-run")
    t(p.returncode == 3 and f"{path}" in p.stderr and field in p.stderr and words in p.stderr,
      f"config error {field}: rc {p.returncode} {p.stderr.strip()[-300:]}")

# ---- 2. position bias: un-swapped vs swapped -------------------------------------------------
TRUE_WIN = sum(true_value(i) for i in range(N)) / N


def judged_run(name, swap, seed):
    log = os.path.join(d, f"{name}.log")
    sim = fte.Sim("--profile", PROFILE, "--seed", str(seed), log=log)
    cfg = config(name, {"pref": dict(PAIR, swap=swap)}, ["judge:pref"], sim.url)
    out = os.path.join(d, name)
    p = fte.run("run", cfg, "--out", out, "--quiet")
    sim.stop()
    return p, out, sim_log_models(log)


for seed in (1, 2):
    for swap in (False, True):
        name = f"bias-{seed}-{'swap' if swap else 'once'}"
        p, out, models = judged_run(name, swap, seed)
        if not t(p.returncode == 0, f"{name}: rc {p.returncode} {p.stderr[-400:]}"):
            continue
        s = json.load(open(os.path.join(out, "summary.json")))
        wr = s["judges"]["pref"]["arms"]["ft"]["win_rate"]
        n_pairs = sum(1 for i in range(N) if i % 5 != SAME)
        t(models.count("judge-biased") == n_pairs * (2 if swap else 1),
          f"{name}: {models.count('judge-biased')} judge requests, want {n_pairs * (2 if swap else 1)} (identical outputs: no call)")
        recs = final_records(out, "ft")
        same = [recs[f"r{i:04d}"]["judgements"]["pref"] for i in range(N) if i % 5 == SAME]
        t(all(j["outcome"] == "tie" and j["orders"] == [] and j["calls"] == 0 for j in same),
          f"{name}: identical outputs are ties without a call")
        base = final_records(out, "base")
        t(all("pref" not in r.get("judgements", {}) and r["scores"]["judge:pref"] == 0.5 for r in base.values()),
          f"{name}: the against arm carries no pairwise judgement and scores 0.5")
        vals = [recs[f"r{i:04d}"]["scores"]["judge:pref"] for i in range(N)]
        mean = sum(vals) / N
        t(abs(wr["win_rate"] - mean) < 1e-12 and wr["n"] == N, f"{name}: win rate {wr['win_rate']} vs records {mean}")
        sure = [i for i in range(N) if i % 5 in (WIN, LOSS)]
        t(all(recs[f"r{i:04d}"]["scores"]["judge:pref"] == true_value(i) for i in sure),
          f"{name}: a judge of accuracy 1 gets every decided pair right")
        lo, hi = wr["ci"]
        if swap:
            t(lo <= TRUE_WIN <= hi, f"{name}: swapped CI [{lo:.3f}, {hi:.3f}] covers the true win rate {TRUE_WIN}")
            pc = s["judges"]["pref"]["arms"]["ft"]["position_consistency"]
            cons = [recs[f"r{i:04d}"]["judgements"]["pref"]["consistent"] for i in range(N) if i % 5 != SAME]
            t(abs(pc - sum(cons) / len(cons)) < 1e-12 and pc < 1, f"{name}: position_consistency {pc}")
        else:
            t(hi < TRUE_WIN and wr["win_rate"] < TRUE_WIN - 0.05,
              f"{name}: un-swapped win rate {wr['win_rate']:.3f} CI [{lo:.3f}, {hi:.3f}] is biased below {TRUE_WIN}")
        cmp = [c for c in s["comparisons"] if c["metric"] == "judge:pref" and c["a"] == "ft"]
        t(len(cmp) == 1 and abs(cmp[0]["delta"] - (mean - 0.5)) < 1e-12,
          f"{name}: the paired comparison's delta is the win rate minus one half")
        st = wr["sign_test"]
        t(st["wins"] == sum(1 for v in vals if v == 1) and st["losses"] == sum(1 for v in vals if v == 0),
          f"{name}: sign test counts")

# ---- 3. rubric: normalised score and pass ---------------------------------------------------


def toks(s):
    return [w.lower() for w in re.findall(r"[A-Za-z0-9]+", s)]


def f1(a, ref):
    ta, tr = toks(a), toks(ref)
    common, pool = 0, list(tr)
    for w in ta:
        if w in pool:
            pool.remove(w)
            common += 1
    if not ta and not tr:
        return 1.0
    if common == 0:
        return 0.0
    p, r = common / len(ta), common / len(tr)
    return 2 * p * r / (p + r)


sim = fte.Sim("--profile", PROFILE, "--seed", "3")
cfg = config("rubric", {"q": dict(RUB, pass_at=5)}, ["judge:q", "judge:q.pass"], sim.url)  # scores here: 1 or 5
out = os.path.join(d, "rubric")
p = fte.run("run", cfg, "--out", out, "--quiet")
sim.stop()
if t(p.returncode == 0, f"rubric run: {p.stderr[-300:]}"):
    good = 0
    for arm in ("base", "ft"):
        for i, (rid, r) in enumerate(sorted(final_records(out, arm).items())):
            want = 1 + math.floor(f1(r["prediction"], r["gold"]) * 4 + 0.5)
            j = r["judgements"]["q"]
            good += (j["score"] == want and r["scores"]["judge:q"] == (want - 1) / 4
                     and r["scores"]["judge:q.pass"] == (1 if want >= 5 else 0) and j["scale"] == [1, 5])
    t(good == 2 * N, f"rubric: {good}/{2 * N} records with the sim's score, normalised value and pass")
    s = json.load(open(os.path.join(out, "summary.json")))
    cmp = [c for c in s["comparisons"] if c["metric"] == "judge:q.pass"]
    t(cmp and cmp[0]["binary"] is True and cmp[0]["p_adjusted_source"] == "p_mcnemar",
      "judge:q.pass is binary: McNemar in the paired comparison")
    m = json.load(open(os.path.join(out, "manifest.json")))
    prompts = {j["name"]: j["prompt_sha256"] for j in m["judges"]}
    want = hashlib.sha256(open(os.path.join(SRC, "configs", "prompts", "judge_rubric.md"), "rb").read()).hexdigest()
    t(prompts.get("q") == want, "the default rubric prompt is configs/prompts/judge_rubric.md")
    want = hashlib.sha256(open(os.path.join(SRC, "configs", "prompts", "judge_pairwise.md"), "rb").read()).hexdigest()
    mb = json.load(open(os.path.join(d, "bias-1-swap", "manifest.json")))
    t(mb["judges"][0]["prompt_sha256"] == want, "the default pairwise prompt is configs/prompts/judge_pairwise.md")

# ---- 3a. cache: a second run answers every judge call from the cache ------------------------
log = os.path.join(d, "cache.log")
sim = fte.Sim("--profile", PROFILE, "--seed", "3", log=log)
cfg = config("cached", {"q": RUB, "p": PAIR}, ["judge:q", "judge:p"], sim.url)
runs = []
for k in range(2):
    out = os.path.join(d, f"cached{k}")
    p = fte.run("run", cfg, "--out", out, "--quiet", "--limit", "20", "--cache")
    runs.append((p, final_records(out, "ft"), len(sim_log_models(log))))
sim.stop()
(p0, r0, n0), (p1, r1, n1) = runs
sent0 = sum(j["calls"] - j["cache_hits"] for arm in ("base", "ft") for r in final_records(os.path.join(d, "cached0"), arm).values()
            for j in r["judgements"].values())
calls0 = sum(j["calls"] for arm in ("base", "ft") for r in final_records(os.path.join(d, "cached0"), arm).values()
             for j in r["judgements"].values())
# identical outputs give identical rubric prompts for both arms: one of them may hit the cache already
t(p0.returncode == 0 and p1.returncode == 0 and calls0 == 20 * 2 + 16 * 2 and n0 == sent0 and n1 == n0,
  f"cache: {n0} judge requests the first time ({calls0} calls, {sent0} sent), {n1 - n0} the second")
t(all(r1[k]["judgements"][j]["cache_hits"] == r1[k]["judgements"][j]["calls"] and
      r1[k]["judgements"][j].get("score") == r0[k]["judgements"][j].get("score") and
      r1[k]["judgements"][j].get("outcome") == r0[k]["judgements"][j].get("outcome") for k in r0 for j in ("q", "p")),
  "cache: the cached verdicts equal the first run's")

# ---- 3b. self-preference: a judge of the family of a model under test is warned about -------
sim = fte.Sim("--profile", PROFILE, "--seed", "3")
cfg = config("selfpref", {"q": dict(RUB, model="base-model")}, ["judge:q"], sim.url)
out = os.path.join(d, "selfpref")
p = fte.run("run", cfg, "--out", out, "--quiet", "--limit", "2")
sim.stop()
m = json.load(open(os.path.join(out, "manifest.json")))
s = json.load(open(os.path.join(out, "summary.json")))
report = open(os.path.join(out, "report.md")).read()
t("self-preference" in p.stderr and "arm 'base'" in p.stderr, f"self-preference: warned on stderr: {p.stderr[-300:]}")
t(len(m.get("judge_warnings", [])) == 1 and m["judges"][0]["self_preference"] == "base",
  "self-preference: the manifest carries the warning")
t(s["judges"]["q"]["self_preference"] == "base" and "Warning: self-preference" in report,
  "self-preference: summary.json and report.md carry the warning")
cfg = config("selfpref2", {"q": dict(RUB, model="base-model-2025-01-01")}, ["judge:q"], "http://127.0.0.1:9/v1",
             arms=[{"name": "ft", "provider": "rf", "model": "ft:base-model:org::x"}])
p = fte.run("run", cfg, "--dry-run")
t("self-preference" in p.stderr and "arm 'ft'" in p.stderr, "self-preference: a dated snapshot of a fine-tune's base model")
bias_report = open(os.path.join(d, "bias-1-swap", "report.md")).read()
t("## Judges" in bias_report and "win rate (ties" in bias_report, "report.md has the Judges section")

# ---- 4. unparsable judge answers: one retry, then an error on that judgement only ----------
api = advserver.FakeAPI(lambda req: advserver.Reply(200, advserver.openai_answer("Answer A is clearly better.")))
cfg = config("unparsable", {"p": dict(PAIR, swap=True), "q": RUB}, ["judge:p", "judge:q"], api.url)
out = os.path.join(d, "unparsable")
p = fte.run("run", cfg, "--out", out, "--quiet", "--limit", "10")
api.stop()
# every judgement of the primary judge fails, so the run ends without a verdict (exit 1, "invalid")
if t(p.returncode == 1 and "decision: invalid" in p.stderr, f"unparsable run: rc {p.returncode} {p.stderr[-300:]}"):
    # 10 examples: pairwise 2 orders x 2 requests for the 8 that differ; rubric 2 arms x 2 requests
    t(len(api.requests) == 8 * 2 * 2 + 10 * 2 * 2, f"unparsable: {len(api.requests)} judge requests, want 72")
    retried = [r for r in api.requests if r.json["messages"][0]["content"].startswith("Your previous answer")]
    t(len(retried) == 36, f"unparsable: {len(retried)} retries, want one per first request (36)")
    t(all(r.json.get("response_format", {}).get("type") == "json_schema" for r in api.requests),
      "openai judges ask for response_format json_schema")
    recs = final_records(out, "ft")
    t(all(r["status"] == "ok" and "unparsable" in r["judgements"]["q"]["error"] and r["judgements"]["q"]["parse_failures"] == 2
          for r in recs.values()), "the generation stays ok; the judgement carries the error")
    s = json.load(open(os.path.join(out, "summary.json")))
    t(s["judges"]["q"]["parse_failures"] == 40 and s["judges"]["q"]["errors"] == 20,
      f"summary judges q: {s['judges']['q']['parse_failures']} parse failures, {s['judges']['q']['errors']} errors")
    # the decision stands on judge:p, and every one of its judgements failed: no verdict on 0s
    dec = s["decision"]
    t(dec["verdict"] == "invalid" and any("judgements by judge 'p' failed" in r and "arm 'ft'" in r
                                          for r in dec["reasons"]),
      f"failed judgements of the primary judge make the evidence invalid: {dec['verdict']} {dec.get('reasons')}")

# a judge model the provider does not have: its first request is refused and the run stops there
api = advserver.FakeAPI(lambda req: advserver.openai_error(404, "The model `judge-typo` does not exist", code="model_not_found"))
cfg = config("judge404", {"q": dict(RUB, model="judge-typo")}, ["judge:q"], api.url)
p = fte.run("run", cfg, "--out", os.path.join(d, "judge404"), "--quiet", "--limit", "10")
api.stop()
t(p.returncode != 0 and "judge-typo" in p.stderr and "404" in p.stderr and len(api.requests) == 1,
  f"judge 404: one request, the run stops naming the model (rc {p.returncode}, {len(api.requests)} requests)")

# ---- 5. budget: judge calls count ---------------------------------------------------------
PRICES = {"currency": "USD", "unit": "per_1m_tokens", "models": {
    "judge-biased": {"input": 1000.0, "output": 4000.0, "source": "test", "as_of": "2026-11-30"},
    "base-model": {"input": 0, "output": 0, "source": "test", "as_of": "2026-11-30"},
    "ft:base-model:org::x": {"input": 0, "output": 0, "source": "test", "as_of": "2026-11-30"}}}
log = os.path.join(d, "budget.log")
sim = fte.Sim("--profile", PROFILE, "--seed", "1", log=log)
cfg = config("budget", {"q": RUB}, ["judge:q"], sim.url, prices=PRICES, budget={"max_usd": 5.0})
p = fte.run("run", cfg, "--dry-run")
row = [l for l in p.stdout.splitlines() if l.startswith("judge:q ")]
# worst case: 2 arms x 200 calls, each at most 512 completion tokens ($4000 / 1M) = $819.2 alone
t(p.returncode == 1 and len(row) == 1 and "(400 calls)" in row[0] and " 204800 " in row[0]
  and "exceeds the budget" in p.stdout, f"dry run: the judge's worst case counts: {row} {p.stdout[-200:]}")
out = os.path.join(d, "budget")
p = fte.run("run", cfg, "--out", out, "--quiet")
sim.stop()
calls = sim_log_models(log).count("judge-biased")
recs = [r for arm in ("base", "ft") for r in fte.read_jsonl(os.path.join(out, arm + ".jsonl"))]
spend = sum(r["spend_usd"] for r in recs)
judge_cost = sum(r["judgements"]["q"]["cost_usd"] for r in recs if "q" in r.get("judgements", {}))
t(p.returncode != 0 and "budget" in p.stderr, f"budget: the run stops on the budget (rc {p.returncode})")
t(0 < calls < 2 * N and sum(r["judgements"]["q"]["calls"] for r in recs) == calls,
  f"budget: {calls} judge requests sent, all on the records")
t(abs(spend - judge_cost) < 1e-9 and spend <= 5.0 + 1e-12, f"budget: spend {spend} = judge cost {judge_cost} <= 5")
s = json.load(open(os.path.join(out, "summary.json"))) if os.path.exists(os.path.join(out, "summary.json")) else {}
jc = sum((a.get("cost") or {}).get("judge_usd") or 0 for a in s.get("arms", {}).values())
t(abs(jc - judge_cost) < 1e-9, f"budget: summary cost.judge_usd {jc} = {judge_cost}")

# ---- 6. resume mid-judging equals an uninterrupted run --------------------------------------
def resume_cfg(name, url):
    return config(name, {"p": dict(PAIR, model="judge-slow", swap=True),
                         "q": dict(RUB, model="judge-slow")}, ["judge:p", "judge:q", "judge:q.pass"], url,
                  defaults={"temperature": 0, "max_tokens": 32, "timeout_s": 10, "max_retries": 2, "concurrency": 4})


M = 40
full_log = os.path.join(d, "full.log")
sim = fte.Sim("--profile", PROFILE, "--seed", "4", log=full_log)
out_full = os.path.join(d, "full")
p = fte.run("run", resume_cfg("full", sim.url), "--out", out_full, "--quiet", "--limit", str(M))
sim.stop()
t(p.returncode == 0, f"uninterrupted: {p.stderr[-300:]}")
log1, log2 = os.path.join(d, "part1.log"), os.path.join(d, "part2.log")
sim = fte.Sim("--profile", PROFILE, "--seed", "4", log=log1)
out_res = os.path.join(d, "resumed")
cfg = resume_cfg("resumed", sim.url)
proc = subprocess.Popen([fte.FTEVAL, "run", cfg, "--out", out_res, "--quiet", "--limit", str(M)],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and sim_log_models(log1).count("judge-slow") < 30:
    time.sleep(0.02)
proc.send_signal(signal.SIGTERM)
_, err1 = proc.communicate(timeout=60)
sim.stop()
first = sim_log_models(log1).count("judge-slow")
recs1 = [r for arm in ("base", "ft") for r in fte.read_jsonl(os.path.join(out_res, arm + ".jsonl"))]
pending1 = sum(1 for r in recs1 for j in r.get("judgements", {}).values() if j.get("pending"))
full_calls = sim_log_models(full_log).count("judge-slow")
t(proc.returncode != 0 and 0 < first < full_calls, f"interrupted mid-judging: {first} of {full_calls} judge calls, rc {proc.returncode}")
sim = fte.Sim("--profile", PROFILE, "--seed", "4", log=log2)
fte.write_json(cfg, json.load(open(cfg)) | {"providers": json.load(open(cfg))["providers"] | {"sim": {"type": "openai", "base_url": sim.url}}})
p = fte.run("run", cfg, "--out", out_res, "--quiet", "--resume", "--limit", str(M))
sim.stop()
second = sim_log_models(log2).count("judge-slow")
t(p.returncode == 0, f"resume: rc {p.returncode} {p.stderr[-400:]}")
t(first + second == full_calls, f"resume: {first} + {second} judge calls = uninterrupted {full_calls} (pending before: {pending1})")


def comparable(r):
    keep = {k: r[k] for k in ("id", "prediction", "scores", "status")}
    keep["judgements"] = {n: {k: v for k, v in j.items()} for n, j in r.get("judgements", {}).items()}
    return keep


for arm in ("base", "ft"):
    a, b = final_records(out_full, arm), final_records(out_res, arm)
    diff = [k for k in a if comparable(a[k]) != comparable(b.get(k, {"id": k, "prediction": None, "scores": None, "status": None}))]
    t(not diff and len(a) == M == len(b), f"resume: {arm} final records equal the uninterrupted run's (differ: {diff[:3]})")
sp_full = sum(r["spend_usd"] for arm in ("base", "ft") for r in fte.read_jsonl(os.path.join(out_full, arm + ".jsonl")))
sp_res = sum(r["spend_usd"] for arm in ("base", "ft") for r in fte.read_jsonl(os.path.join(out_res, arm + ".jsonl")))
t(abs(sp_full - sp_res) < 1e-12, "resume: the lines' spend sums to the uninterrupted spend")
t.done()
