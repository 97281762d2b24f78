"""Issue 11 §3 against the adversarial server: the budget is a promise about the run.

Invariant asserted in every case (also: answers cut mid-body): the sum, over every attempt the server saw in every session of
the run, of what it billed (its own token counts, priced by the test from configs/prices.json) is
<= budget.max_usd. Cases (500 examples each, larger than the read-ahead window): missing usage,
invalid usage, unparsable 200s that are retried, timed-out attempts, a server that ignores
max_tokens (flagged usage_over_cap, reservations adapt), absurd usage 1e15 (an error record, not
a spend), and three resumes that must not each get a fresh budget (spend seeded from the records).
fteval's own account is checked too: sum of spend_usd over the records >= what the server billed
(worst cases are estimates from above) and <= max_usd.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import adv  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 500
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, N)
MODEL = "gpt-4o-mini-2024-07-18"
MAX_USD = 0.0003   # about 100 honest answers of this dataset, 25 worst cases
EPS = 1e-12


def run(name, script, max_usd=MAX_USD, defaults=None, port=0, resume=False, cfg_name=None):
    srv = adv.Adv(d, f"{name}{'-r' + str(port) if resume else ''}", script, port=port)
    cfg = os.path.join(d, f"{cfg_name or name}.json")
    if not resume:
        fte.config(cfg, data, srv.url, [{"name": "base", "provider": "sim", "model": MODEL}],
                   defaults={"concurrency": 8, "max_retries": 2, "timeout_s": 10, **(defaults or {})},
                   prices=os.path.join(fte.SRC, "configs", "prices.json"), budget={"max_usd": max_usd})
    out = os.path.join(d, cfg_name or name)
    p = fte.run("run", cfg, "--out", out, "--quiet", *(["--resume"] if resume else []), timeout=300)
    srv.stop()
    recs = fte.read_jsonl(os.path.join(out, "base.jsonl")) if os.path.exists(os.path.join(out, "base.jsonl")) else []
    return p, recs, srv.log(), out, srv


def invariant(name, logs, recs, max_usd=MAX_USD):
    billed = adv.billed_usd([e for log in logs for e in log], MODEL)
    spend = sum(r.get("spend_usd", 0) for r in recs)
    t(billed <= max_usd + EPS, f"{name}: the server billed ${billed:.7f} > max_usd ${max_usd}")
    t(spend <= max_usd + EPS, f"{name}: fteval recorded ${spend:.7f} > max_usd ${max_usd}")
    t(spend + EPS >= billed, f"{name}: fteval's account ${spend:.7f} is below what was billed ${billed:.7f}")
    n_attempts = sum(len(r.get("attempt_costs_usd", [])) for r in recs)
    n_requests = sum(len(log) for log in logs)
    t(n_attempts == n_requests, f"{name}: {n_attempts} attempts on record, the server saw {n_requests}")
    print(f"{name}: {n_requests} requests, server billed ${billed:.7f}, fteval recorded ${spend:.7f}, "
          f"max_usd ${max_usd}", flush=True)
    return billed, spend


# ---- an honest server: the cap stops the run, the records account for every attempt ----------
p, recs, log, out, _ = run("honest", {})
t(p.returncode == 4 and "budget exhausted" in p.stderr, f"honest: exit {p.returncode}: {p.stderr[-300:]}")
invariant("honest", [log], recs)
t(100 <= len(log) < N, f"honest: {len(log)} requests within the budget (about 106 fit)")

# ---- missing / invalid usage: each answer settles at its reserved worst case -----------------
for mode in ("missing", "invalid"):
    p, recs, log, out, _ = run(f"usage_{mode}", {"default": {"usage": mode}})
    t(p.returncode == 4, f"usage_{mode}: exit {p.returncode}")
    invariant(f"usage_{mode}", [log], recs)
    t(len(log) < 40, f"usage_{mode}: {len(log)} requests (a $0 count would send all {N})")
    t(all(r["usage"] is None and r["cost_usd"] is None and r["spend_estimated"] and r["spend_usd"] > 0 for r in recs),
      f"usage_{mode}: unknown cost is null, the spend an estimate")

# ---- unparsable 200s, retried: every attempt counts ----------------------------------------
p, recs, log, out, _ = run("unparsable", {"default": {"body": "{\"choices\": [tru"}})
t(p.returncode == 4, f"unparsable: exit {p.returncode}")
invariant("unparsable", [log], recs)
t(all(r["status"] == "error" and r["error"]["kind"] == "malformed_response" for r in recs), "unparsable: errors")
t(any(len(r["attempt_costs_usd"]) == 3 for r in recs), "unparsable: retried attempts carry their costs")

# ---- answers cut mid-body (every third request), retried: the cut attempts were billed ------------
p, recs, log, out, _ = run("cut", {"rules": [{"when": {"every": 3}, "do": {"close_mid_body": True, "name": "cut"}}]})
t(p.returncode == 4 and "budget exhausted" in p.stderr, f"cut: exit {p.returncode}: {p.stderr[-300:]}")
invariant("cut", [log], recs)
n_cut = sum(1 for e in log if e["action"] == "cut")
worst = [c for r in recs for c in r["attempt_costs_usd"] if c > 1e-5]  # worst case ~1.2e-5, an answer ~2.7e-6
t(n_cut > 0 and len(worst) == n_cut, f"cut: {len(worst)} attempts at their worst case, {n_cut} cut by the server")

# ---- timed-out attempts (every other request hangs): the server ran (and billed) them ----------
p, recs, log, out, _ = run("timeout", {"rules": [{"when": {"every": 2}, "do": {"hang": 3}}]},
                           defaults={"timeout_s": 0.5, "max_retries": 1})
t(p.returncode == 4 and "budget exhausted" in p.stderr, f"timeout: exit {p.returncode}: {p.stderr[-300:]}")
invariant("timeout", [log], recs)
t(any(r["spend_estimated"] and r["error"] and r["error"]["kind"] == "timeout" for r in recs),
  "timeout: timed-out attempts are counted at their worst case")

# ---- a server that ignores max_tokens: flagged, later reservations adapt --------------------
p, recs, log, out, _ = run("over_cap", {"default": {"usage": "over"}})
t(p.returncode == 4, f"over_cap: exit {p.returncode}")
invariant("over_cap", [log], recs)
t(all(r.get("usage_over_cap") is True for r in recs), "over_cap: every record flagged usage_over_cap")
t("usage_over_cap" in p.stderr, f"over_cap: warned: {p.stderr[-300:]}")

# ---- absurd usage: an error, not $1e9 -----------------------------------------------------------
p, recs, log, out, _ = run("absurd", {"rules": [{"when": {"every": 5}, "do": {"usage": "absurd"}}]})
invariant("absurd", [log], recs)
bad = [r for r in recs if r["status"] == "error"]
t(bad and all(r["error"]["kind"] == "malformed_response" and "not believed" in r["error"]["message"]
              and r["cost_usd"] is None for r in bad), f"absurd: error records: {bad[:1]}")
s = json.load(open(os.path.join(out, "summary.json")))
t(s["arms"]["base"]["cost"]["total_usd"] < MAX_USD, f"absurd: summary cost {s['arms']['base']['cost']}")

# ---- resumes never get a fresh budget ------------------------------------------------------------
logs, recs_all = [], []
p, recs, log, out, srv = run("resume", {"default": {"usage": "missing"}})
logs.append(log)
port = srv.port
codes = [p.returncode]
for i in range(3):
    p, recs, log, out, _ = run("resume", {}, port=port, resume=True, cfg_name="resume")
    logs.append(log)
    codes.append(p.returncode)
t(codes == [4, 4, 4, 4], f"resume: exit codes {codes}")
billed, spend = invariant("resume x3", logs, recs)
t(sum(len(x) for x in logs[1:]) <= 2, f"resume: later sessions sent {[len(x) for x in logs[1:]]} requests")
m = json.load(open(os.path.join(out, "manifest.json")))
t(m["last_session"]["run_spent_usd"] <= MAX_USD + EPS, f"resume: manifest run_spent_usd {m['last_session']}")
t.done()
