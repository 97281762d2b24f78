"""Judges in batch mode (issues 12 and 14, docs/batch.md "Judges"), against `fteval sim`.

1. 2 arms x 640 examples (more than any internal window: batches of 300, concurrency 8), a rubric
   judge and a swapped pairwise judge: the batch run's final records equal the online judged run's
   on the same sim seed but for the volatile fields (latency, ids, generation cost and spend); the
   judgements are equal field for field, judge costs included (judges are asked online, at the full
   price); summary statistics (judge metrics included) and the judges block equal the online run's;
   the sim's log shows the judge requests online (chat completions of the judge model), exactly as
   many as the online run sent, and no generation request online.
2. kill -9 after every batch ended, while judging (a slow judge on its own sim, concurrency 1,
   --cache), then --resume: no batch create or upload twice (the generation sim's log), no judge
   request twice but the one in flight at the kill (the judge sim's logs of both sessions), and
   the final records equal the uninterrupted batch run's.
4. Batches that leave requests without a result (every round expires half) and no fallback: the
   judging sends nothing online for the batch arm (no generation request), judges the records
   there are, and the run is incomplete.
3. Budget: judge spend counts. With room for the batch generation and part of the judging, the run
   stops on the budget (exit 4, no verdict), the lines' spend sums to batch generation + judge cost
   exactly (prices written here), within budget.max_usd, and the unjudged records are pending.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N_EX, SPLIT = 640, 300
data = os.path.join(d, "data.jsonl")
rows = fte.plain_dataset(data, N_EX)
profile = os.path.join(d, "profile.json")
fte.write_json(profile, {"rules": [
    {"name": "judge", "model": "judge-m", "judge": {"accuracy": 0.9, "position_bias": 0.3}, "latency_ms": 0},
    {"name": "a", "model": "m-a", "accuracy": 0.55, "latency_ms": 0},
    {"name": "b", "model": "m-b", "accuracy": 0.7, "latency_ms": 0}]})
PRICES = {"m-a": (0.15, 0.6), "m-b": (0.3, 1.2), "judge-m": (2.0, 8.0)}
prices = {"currency": "USD", "unit": "per_1m_tokens",
          "models": {m: {"input": i, "output": o, "batch_multiplier": 0.5, "source": "test", "as_of": "2026-11-30"}
                     for m, (i, o) in PRICES.items()}}
ARMS = [{"name": "a", "provider": "sim", "model": "m-a"}, {"name": "b", "provider": "sim", "model": "m-b"}]
VOLATILE = {"latency_ms", "request_id", "batch_id", "cost_usd", "spend_usd", "attempt_costs_usd", "spend_estimated",
            "request_sha256"}
METRICS = ["exact_match", "judge:q", "judge:q.pass", "judge:p"]


def judges(model, provider="sim"):
    return {"q": {"type": "rubric", "provider": provider, "model": model, "scale": [1, 5], "pass_at": 4},
            "p": {"type": "pairwise", "provider": provider, "model": model, "against": "a", "swap": True}}


def make(name, url, judge_url=None, model="judge-m", **extra):
    prov = {"sim": {"type": "openai", "base_url": url, "batch_max_requests": SPLIT, "batch_poll_s": 0.05}}
    jprov = "sim"
    if judge_url:
        prov["jsim"] = {"type": "openai", "base_url": judge_url}
        jprov = "jsim"
    return fte.config(os.path.join(d, name), data, url, ARMS, providers=prov, prices=prices,
                      baseline_arm="a", candidate_arm="b", judges=judges(model, jprov),
                      task={"template": "{input}", "metrics": METRICS, "primary_metric": "exact_match"},
                      defaults=extra.pop("defaults", {"temperature": 0, "max_tokens": 16, "timeout_s": 10,
                                                      "max_retries": 4, "concurrency": 8}),
                      stats={"resamples": 300, "seed": 3}, **extra)


def final(run_dir, arm):
    last = {}
    for r in fte.read_jsonl(os.path.join(run_dir, f"{arm}.jsonl")):
        last[r["id"]] = r
    return last


def strip(r):
    return {k: v for k, v in r.items() if k not in VOLATILE}


def stats_view(run_dir):
    s = json.load(open(os.path.join(run_dir, "summary.json")))

    def mask(node):
        if isinstance(node, dict):
            return {k: mask(v) for k, v in node.items()
                    if "latency" not in k and k not in ("usd", "generation_usd", "total_usd", "per_example_usd",
                                                        "usd_per_1k", "spend_usd", "batch_usd")}
        if isinstance(node, list):
            return [mask(v) for v in node]
        return node
    return mask({"arms": {a: {k: v for k, v in x.items() if k != "cost"} for a, x in s["arms"].items()},
                 "comparisons": s["comparisons"], "metrics": s["metrics"], "judges": s.get("judges")})


def log_of(path):
    return fte.read_jsonl(path) if os.path.exists(path) else []


def count(log, method, path, model=None):
    return sum(1 for e in log if e["method"] == method and e["path"] == path
               and (model is None or (isinstance(e.get("body"), dict) and e["body"].get("model") == model)))


def judge_bodies(log, model):
    return [json.dumps(e["body"]["messages"], sort_keys=True) for e in log
            if e["path"] == "/v1/chat/completions" and isinstance(e.get("body"), dict) and e["body"].get("model") == model]


# ---- 1. batch + judges = online + judges -----------------------------------------------------------
log1 = os.path.join(d, "sim1.log")
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=log1)
cfg = make("c.json", sim.url)
online = os.path.join(d, "online")
p = fte.run("run", cfg, "--out", online, "--quiet")
t(p.returncode == 0, f"online judged run: exit {p.returncode} {p.stderr[-400:]}")
online_judge_calls = count(log_of(log1), "POST", "/v1/chat/completions", "judge-m")
unique_judge_requests = len(set(judge_bodies(log_of(log1), "judge-m")))
open(log1, "w").close()
batch = os.path.join(d, "batch")
p = fte.run("run", cfg, "--out", batch, "--quiet", "--batch")
t(p.returncode == 0, f"batch judged run: exit {p.returncode} {p.stderr[-800:]}")
log = log_of(log1)
n_batches = 2 * -(-N_EX // SPLIT)
t(count(log, "POST", "/v1/batches") == n_batches and count(log, "POST", "/v1/files") == n_batches,
  f"{n_batches} batches: {count(log, 'POST', '/v1/batches')} creates")
t(count(log, "POST", "/v1/chat/completions", "m-a") + count(log, "POST", "/v1/chat/completions", "m-b") == 0,
  "no generation went online")
jc = count(log, "POST", "/v1/chat/completions", "judge-m")
t(jc == online_judge_calls and jc > N_EX, f"judge requests online: {jc} = the online run's {online_judge_calls}")
for arm in ("a", "b"):
    on, ba = final(online, arm), final(batch, arm)
    t(set(on) == set(ba) == {r["id"] for r in rows}, f"arm {arm}: a final record per example")
    diff = [i for i in on if strip(on[i]) != strip(ba[i])]
    t(not diff, f"arm {arm}: final records equal online but for volatile fields ({len(diff)} differ, e.g. "
      f"{diff[:1] and (strip(on[diff[0]]), strip(ba[diff[0]]))})")
    t(all(r["batch_id"].startswith("batch_") and r["latency_ms"] is None for r in ba.values()),
      f"arm {arm}: batch_id and null latency kept on the judged records")
    names = ["q"] + (["p"] if arm == "b" else [])
    t(all(set(r["judgements"]) == set(names) and not any(j.get("pending") for j in r["judgements"].values())
          for r in ba.values()), f"arm {arm}: judgements {names} on every record, none pending")
    pin, pout = PRICES["judge-m"]
    bad = [i for i, r in ba.items() for n in names
           if r["judgements"][n]["usage"] and abs(r["judgements"][n]["cost_usd"] - (r["judgements"][n]["usage"]["prompt_tokens"] * pin
                                                    + r["judgements"][n]["usage"]["completion_tokens"] * pout) / 1e6)
           > 1e-12]
    t(not bad, f"arm {arm}: judge cost = judge usage x the full price ({len(bad)} differ)")
    # the lines' spend: the batch generation (half price) + the judge calls (full price)
    gen = sum(0.5 * (r["usage"]["prompt_tokens"] * PRICES["m-" + arm][0] + r["usage"]["completion_tokens"]
                     * PRICES["m-" + arm][1]) / 1e6 for r in ba.values())
    jcost = sum(j["cost_usd"] for r in ba.values() for j in r["judgements"].values())
    lines = sum(r["spend_usd"] for r in fte.read_jsonl(os.path.join(batch, f"{arm}.jsonl")))
    t(abs(lines - gen - jcost) < 1e-9, f"arm {arm}: lines' spend {lines} = batch generation {gen} + judges {jcost}")
t(stats_view(online) == stats_view(batch), "summary statistics and the judges block equal the online run's")
so, sb = (json.load(open(os.path.join(x, "summary.json"))) for x in (online, batch))
t(all(abs(so["arms"][a]["cost"]["judge_usd"] - sb["arms"][a]["cost"]["judge_usd"]) < 1e-12 for a in ("a", "b")),
  "cost.judge_usd equals the online run's (judges are asked online)")
t(sb["status"] == "complete" and sb.get("batch", {}).get("recorded") == 2 * N_EX,
  f"batch run complete: {sb['status']} {json.dumps({k: v for k, v in sb.get('batch', {}).items() if k != 'batches'})}")
sim.stop()

# ---- 2. kill -9 while judging, --resume ------------------------------------------------------------
# the judge on its own sim: slow (25 ms an answer, one request at a time) in the killed session
slow = os.path.join(d, "slow.json")
fte.write_json(slow, {"rules": [{"name": "judge", "model": "judge-m", "judge": {"accuracy": 0.9, "position_bias": 0.3},
                                 "latency_ms": 25}]})
logg, logj1, logj2 = (os.path.join(d, n) for n in ("gen.log", "judge1.log", "judge2.log"))
gsim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=logg)
jsim = fte.Sim("--dataset", data, "--profile", slow, "--seed", "5", log=logj1)
cfgk = make("ck.json", gsim.url, jsim.url,
            defaults={"temperature": 0, "max_tokens": 16, "timeout_s": 10, "max_retries": 4, "concurrency": 1})
kdir = os.path.join(d, "killed")
proc = subprocess.Popen([fte.FTEVAL, "run", cfgk, "--out", kdir, "--quiet", "--batch", "--cache"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
deadline = time.time() + 120
while time.time() < deadline and len(judge_bodies(log_of(logj1), "judge-m")) < 40:
    time.sleep(0.02)
proc.send_signal(signal.SIGKILL)
proc.wait()
jsim.stop()
ev = fte.read_jsonl(os.path.join(kdir, "batch.journal"))
first = judge_bodies(log_of(logj1), "judge-m")
t(sum(e["event"] == "end" for e in ev) == n_batches and len(first) >= 40,
  f"killed while judging: {sum(e['event'] == 'end' for e in ev)} batches ended, {len(first)} judge requests")
# the same port: the cache key names the judge's base URL, so the answers cached before the kill are hits
port = jsim.url.rsplit(":", 1)[1].split("/")[0]
jsim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--port", port, log=logj2)
p = fte.run("run", cfgk, "--out", kdir, "--quiet", "--batch", "--cache", "--resume", timeout=300)
t(p.returncode == 0, f"resume: exit {p.returncode} {p.stderr[-600:]}")
glog = log_of(logg)
t(count(glog, "POST", "/v1/batches") == n_batches and count(glog, "POST", "/v1/files") == n_batches,
  f"no batch twice: {count(glog, 'POST', '/v1/batches')} creates, {count(glog, 'POST', '/v1/files')} uploads")
second = judge_bodies(log_of(logj2), "judge-m")
twice = [b for b in second if b in set(first)]
t(len(set(second)) == len(second) and len(set(first)) == len(first), "no judge request twice within a session")
t(twice in ([], [first[-1]]), f"no judge request twice but the one in flight at the kill ({len(twice)} sent again: "
  f"{[first.index(b) - len(first) for b in twice]})")
t(len(set(first) | set(second)) == unique_judge_requests,
  f"every distinct judge request once over both sessions: {len(set(first) | set(second))} of {unique_judge_requests}")
for arm in ("a", "b"):
    ba, kr = final(batch, arm), final(kdir, arm)

    def judged(r):
        return {k: v for k, v in strip(r).items() if k != "judgements"} | {
            "judgements": {n: {k: v for k, v in j.items() if k not in ("model", "cost_usd", "calls", "cache_hits")}
                           for n, j in r["judgements"].items()}}
    diff = [i for i in ba if judged(ba[i]) != judged(kr.get(i, ba[i] | {"judgements": {}}))]
    t(not diff and set(kr) == set(ba), f"arm {arm}: resumed records equal the uninterrupted run's ({len(diff)} differ)")
gsim.stop()
jsim.stop()

# ---- 3. budget: judge spend counts ------------------------------------------------------------------
log3 = os.path.join(d, "sim3.log")
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=log3)
gen_all = sum(r["spend_usd"] for arm in ("a", "b") for r in fte.read_jsonl(os.path.join(batch, f"{arm}.jsonl"))
              if "judgements" not in r)
judge_all = sum(j["cost_usd"] for arm in ("a", "b") for r in final(batch, arm).values() for j in r["judgements"].values())
budget = gen_all * 1.0 + judge_all * 0.5
MAXTOK = 16
worst = sum(0.5 * (fte.estimate_request_tokens([r["input"]]) * PRICES[m][0] + MAXTOK * PRICES[m][1]) / 1e6
            for m in ("m-a", "m-b") for r in rows)
budget = max(budget, worst * 1.0001)  # every batch fits its worst case; the judging does not
t(budget < gen_all + judge_all, f"budget {budget} below the full run's {gen_all + judge_all}")
cfgb = make("cb.json", sim.url, budget={"max_usd": budget})
out = os.path.join(d, "budget")
p = fte.run("run", cfgb, "--out", out, "--quiet", "--batch")
t(p.returncode == 4 and "budget" in p.stderr, f"budget: exit {p.returncode} {p.stderr[-300:]}")
lines = [r for arm in ("a", "b") for r in fte.read_jsonl(os.path.join(out, f"{arm}.jsonl"))]
fin = [r for arm in ("a", "b") for r in final(out, arm).values()]
gen = sum(0.5 * (r["usage"]["prompt_tokens"] * PRICES[r["model"]][0] + r["usage"]["completion_tokens"]
                 * PRICES[r["model"]][1]) / 1e6 for r in fin)
jcost = sum(j.get("cost_usd") or 0 for r in fin for j in r.get("judgements", {}).values())
spend = sum(r["spend_usd"] for r in lines)
t(count(log_of(log3), "POST", "/v1/batches") == n_batches, "every batch submitted (their worst case fits)")
t(jcost > 0 and abs(spend - gen - jcost) < 1e-9 and spend <= budget + 1e-12,
  f"budget: spend {spend} = generation {gen} + judges {jcost} <= {budget}")
pending = sum(1 for r in fin for j in r.get("judgements", {}).values() if j.get("pending"))
want = {"a": ["q"], "b": ["q", "p"]}
t(all(sorted(final(out, arm)[i]["judgements"]) == sorted(want[arm]) for arm in want for i in final(out, arm)),
  "budget: every record has its judgements, made or pending")
s = json.load(open(os.path.join(out, "summary.json")))
t(pending > 0 and sum(s["judges"][n]["pending"] for n in ("q", "p")) == pending, f"budget: {pending} judgements pending, as summary.json counts")
t(json.load(open(os.path.join(out, "manifest.json")))["status"] == "incomplete", "budget stop: the run is incomplete")
sim.stop()

# ---- 4. no result after the rounds, no fallback: judged, nothing generated online ---------------
small = os.path.join(d, "small.jsonl")
fte.plain_dataset(small, 40)
log4 = os.path.join(d, "sim4.log")
sim = fte.Sim("--dataset", small, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05",
              "--batch-fault", "expire:first=3", log=log4)
cfg4 = fte.config(os.path.join(d, "c4.json"), small, sim.url, [ARMS[0]], prices=prices,
                  providers={"sim": {"type": "openai", "base_url": sim.url, "batch": True, "batch_poll_s": 0.05}},
                  judges={"q": judges("judge-m")["q"]},
                  task={"template": "{input}", "metrics": ["exact_match", "judge:q"], "primary_metric": "exact_match"})
out = os.path.join(d, "expired")
p = fte.run("run", cfg4, "--out", out, "--quiet")
log = log_of(log4)
recs = final(out, "a")
t(count(log, "POST", "/v1/batches") == 3 and count(log, "POST", "/v1/chat/completions", "m-a") == 0,
  f"3 rounds of batches, no generation online: {count(log, 'POST', '/v1/batches')} creates, "
  f"{count(log, 'POST', '/v1/chat/completions', 'm-a')} online")
t(len(recs) == 35 and all("pending" not in r["judgements"]["q"] for r in recs.values())
  and count(log, "POST", "/v1/chat/completions", "judge-m") == 35,
  f"the 35 records there are judged ({len(recs)} records, {count(log, 'POST', '/v1/chat/completions', 'judge-m')} judge calls)")
t(json.load(open(os.path.join(out, "manifest.json")))["status"] != "complete"
  or json.load(open(os.path.join(out, "summary.json")))["status"] == "incomplete",
  "5 examples without a result: the run is incomplete")
sim.stop()
t.done()
