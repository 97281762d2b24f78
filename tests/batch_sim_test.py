"""Batch mode against `fteval sim` (issue 14, docs/batch.md).

1. 2 arms x 1,000 examples with batch_max_requests 300 (4 batches an arm): every record equals the
   online run's on the same sim seed but for the volatile fields (latency, request/batch ids,
   cost), carries batch_id and latency null; cost_usd is usage x price x batch_multiplier,
   computed here from the price table; the summary's statistics (arms without cost/latency,
   comparisons) equal the online run's; the sim's request log shows exactly 8 uploads and 8
   batch creates, each with at most 300 lines of one model.
2. kill -9 while polling, then the last "batch" event of the journal removed (a crash after the
   create was sent, before its id was journaled), then --resume: no second batch (the log shows
   exactly the creates of the first session; the lost one is found by listing), all records.
3. An expired batch (every second request answered) resubmits exactly the requests without a
   result (their custom_ids, read from the uploaded file in the sim's log); with
   --batch-fallback online they go online instead (chat requests in the log, no batch_id).
4. --batch-fault error_lines:6: exactly 6 error records, 3 bad_request (400) and 3 server_error
   (500), all other records ok.
4b. batch_max_bytes 2048: every uploaded input file is within it (several files), none left on disk.
5. Validation failure: a clear error, exit 4, no summary (no verdict).
6. Budget: a batch whose worst case (prompt estimates + max_tokens at the batch price, written
   here from docs/batch.md) does not fit is not submitted: with room for one batch of two,
   exactly one create, exit 4, the records of that batch only.
7. Anthropic Message Batches: records equal the OpenAI online run's for the same model.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N_EX, SPLIT = 1000, 300
data = os.path.join(d, "data.jsonl")
rows = fte.plain_dataset(data, N_EX)
profile = os.path.join(d, "profile.json")
fte.write_json(profile, {"rules": [{"name": "a", "model": "m-a", "accuracy": 0.55, "latency_ms": 1},
                                   {"name": "b", "model": "m-b", "accuracy": 0.7, "latency_ms": 1}]})
PRICES = {"m-a": (0.15, 0.6), "m-b": (0.3, 1.2)}
prices = {"currency": "USD", "unit": "per_1m_tokens",
          "models": {m: {"input": i, "output": o, "batch_multiplier": 0.5, "source": "test", "as_of": "2026-11-30"}
                     for m, (i, o) in PRICES.items()}}
ARMS = [{"name": "a", "provider": "sim", "model": "m-a"}, {"name": "b", "provider": "sim", "model": "m-b"}]
VOLATILE_REC = {"latency_ms", "request_id", "batch_id", "cost_usd", "spend_usd", "attempt_costs_usd",
                "spend_estimated"}


def sim_log_entries(path):
    return fte.read_jsonl(path) if os.path.exists(path) else []


def count(log, method, path):
    return sum(1 for e in log if e["method"] == method and e["path"] == path)


def uploaded_cids(log):
    """custom_ids of every batch file uploaded, in order (parsed from the logged multipart body)."""
    out = []
    for e in log:
        if e["method"] == "POST" and e["path"] == "/v1/files":
            body = e["body"] if isinstance(e["body"], str) else ""
            lines = [json.loads(l) for l in body.splitlines() if l.startswith("{\"custom_id\"")]
            out.append(lines)
    return out


def make(name, url, arms=ARMS, **extra):
    prov = {"sim": {"type": "openai", "base_url": url, "batch_max_requests": SPLIT, "batch_poll_s": 0.05}}
    prov["sim"].update(extra.pop("prov", {}))
    return fte.config(os.path.join(d, name), data, url, arms, providers=prov, prices=prices,
                      baseline_arm=arms[0]["name"], candidate_arm=arms[-1]["name"],
                      stats={"resamples": 300, "seed": 3}, **extra)


def records(run_dir, arm):
    return {r["id"]: r for r in fte.read_jsonl(os.path.join(run_dir, f"{arm}.jsonl"))}


def strip(r):
    return {k: v for k, v in r.items() if k not in VOLATILE_REC}


def stats_view(run_dir):
    s = json.load(open(os.path.join(run_dir, "summary.json")))

    def mask(node):
        if isinstance(node, dict):
            return {k: mask(v) for k, v in node.items() if "latency" not in k and "cost" not in k and k != "usd"}
        if isinstance(node, list):
            return [mask(v) for v in node]
        return node
    return mask({"arms": s["arms"], "comparisons": s["comparisons"], "metrics": s["metrics"]})


# ---- 1. batch = online ------------------------------------------------------------------------
log1 = os.path.join(d, "sim1.log")
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=log1)
cfg = make("c.json", sim.url)
online = os.path.join(d, "online")
p = fte.run("run", cfg, "--out", online, "--quiet")
t(p.returncode == 0, f"online run: exit {p.returncode} {p.stderr[-400:]}")
open(log1, "w").close()  # the batch run's requests only
batch = os.path.join(d, "batch")
p = fte.run("run", cfg, "--out", batch, "--quiet", "--batch")
t(p.returncode == 0, f"batch run: exit {p.returncode} {p.stderr[-800:]}")
log = sim_log_entries(log1)
n_batches = 2 * -(-N_EX // SPLIT)
t(count(log, "POST", "/v1/batches") == n_batches and count(log, "POST", "/v1/files") == n_batches,
  f"{n_batches} uploads and creates: {count(log, 'POST', '/v1/files')} / {count(log, 'POST', '/v1/batches')}")
t(count(log, "POST", "/v1/chat/completions") == 0, "nothing went online")
files = uploaded_cids(log)
t(all(0 < len(f) <= SPLIT and len({l["body"]["model"] for l in f}) == 1 for f in files)
  and sorted(len(f) for f in files) == sorted([SPLIT] * 6 + [N_EX - 3 * SPLIT] * 2),
  f"files of at most {SPLIT} lines, one model each: {[len(f) for f in files]}")
t(all(l["method"] == "POST" and l["url"] == "/v1/chat/completions" for f in files for l in f),
  "every line is {custom_id, method POST, url /v1/chat/completions, body}")
for arm in ("a", "b"):
    on, ba = records(online, arm), records(batch, arm)
    t(set(on) == set(ba) == {r["id"] for r in rows}, f"arm {arm}: one record per example")
    diff = [i for i in on if strip(on[i]) != strip(ba[i])]
    t(not diff, f"arm {arm}: records equal online but for volatile fields ({len(diff)} differ, e.g. "
      f"{diff[:1] and (strip(on[diff[0]]), strip(ba[diff[0]]))})")
    t(all(r["latency_ms"] is None and r["batch_id"].startswith("batch_") for r in ba.values()),
      f"arm {arm}: latency null and batch_id on every record")
    pin, pout = PRICES["m-" + arm]
    want = {i: 0.5 * (r["usage"]["prompt_tokens"] * pin + r["usage"]["completion_tokens"] * pout) / 1e6
            for i, r in ba.items()}
    bad = [i for i, r in ba.items() if abs(r["cost_usd"] - want[i]) > 1e-12 or abs(r["spend_usd"] - want[i]) > 1e-12]
    t(not bad, f"arm {arm}: cost_usd = usage x price x 0.5 ({len(bad)} differ)")
    t(all(abs(ba[i]["cost_usd"] - 0.5 * on[i]["cost_usd"]) < 1e-12 for i in on), f"arm {arm}: half the online cost")
t(stats_view(online) == stats_view(batch), "summary statistics equal the online run's")
bsum = json.load(open(os.path.join(batch, "summary.json")))
bb = bsum.get("batch", {})
t(bb.get("created") == n_batches and bb.get("recorded") == 2 * N_EX and bb.get("pending") == 0
  and all(x["status"] == "completed" for x in bb.get("batches", [])),
  f"summary batch block: {json.dumps({k: v for k, v in bb.items() if k != 'batches'})}")
t("batch" not in json.load(open(os.path.join(online, "summary.json"))), "an online run has no batch block")
t(json.load(open(os.path.join(batch, "manifest.json")))["last_session"].get("batches_created") == n_batches,
  "the manifest counts the batches this session created")
totals = []
for extra in ([], ["--batch"]):
    p = fte.run("run", cfg, "--dry-run", *extra)
    m = re.search(r"worst-case total: \$([0-9.]+)", p.stdout)
    totals.append(float(m.group(1)) if m else None)
t(None not in totals and totals[0] > 0 and abs(totals[1] - totals[0] / 2) <= 0.0001,
  f"--dry-run --batch estimates at the batch price: {totals}")
sim.stop()

# ---- 2. kill -9 while polling, lost create answer, --resume ----------------------------------
log2 = os.path.join(d, "sim2.log")
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--batch-step-s", "3", log=log2)
cfg2 = make("c2.json", sim.url)
kdir = os.path.join(d, "killed")
proc = subprocess.Popen([fte.FTEVAL, "run", cfg2, "--out", kdir, "--quiet", "--batch"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
journal = os.path.join(kdir, "batch.journal")
deadline = time.time() + 60
while time.time() < deadline:
    ev = fte.read_jsonl(journal) if os.path.exists(journal) else []
    if sum(e["event"] == "batch" for e in ev) == n_batches:
        break
    time.sleep(0.05)
time.sleep(0.3)  # polling now
proc.send_signal(signal.SIGKILL)
proc.wait()
ev = fte.read_jsonl(journal)
created = count(sim_log_entries(log2), "POST", "/v1/batches")
t(created == n_batches and sum(e["event"] == "batch" for e in ev) == n_batches and not any(e["event"] == "end" for e in ev),
  f"killed while polling: {created} creates, journal {[e['event'] for e in ev]}")
# a crash right after the last create was sent: its answer (the id) never reached the journal
last = max(i for i, e in enumerate(ev) if e["event"] == "batch")
with open(journal, "w") as f:
    f.writelines(json.dumps(e) + "\n" for i, e in enumerate(ev) if i != last)
p = fte.run("run", cfg2, "--out", kdir, "--batch", "--resume", timeout=120)
t(p.returncode == 0, f"resume: exit {p.returncode} {p.stderr[-600:]}")
log = sim_log_entries(log2)
t(count(log, "POST", "/v1/batches") == n_batches and count(log, "POST", "/v1/files") == n_batches,
  f"no second submission: {count(log, 'POST', '/v1/batches')} creates, {count(log, 'POST', '/v1/files')} uploads")
t(any(e["method"] == "GET" and e["path"] == "/v1/batches" for e in log), "the lost create was looked up by listing")
for arm in ("a", "b"):
    on, ba = records(online, arm), records(kdir, arm)
    for r in list(on.values()) + list(ba.values()):
        r.pop("request_sha256")  # hashes the base URL, and this sim listens on another port
    t(len(fte.read_jsonl(os.path.join(kdir, f"{arm}.jsonl"))) == N_EX and set(ba) == set(on)
      and all(strip(on[i]) == strip(ba[i]) for i in on),
      f"arm {arm}: every example once, as online ({len(fte.read_jsonl(os.path.join(kdir, f'{arm}.jsonl')))} lines, "
      f"{len(set(ba) ^ set(on))} ids differ, {sum(strip(on[i]) != strip(ba.get(i, {})) for i in on)} records differ)")
t("reattaching" in p.stderr, f"resume says it reattaches: {p.stderr[:300]}")
sim.stop()

# ---- 3. expiry: only the missing requests again -------------------------------------------------
small = os.path.join(d, "small.jsonl")
srows = fte.plain_dataset(small, 40)
for fallback in (False, True):
    log3 = os.path.join(d, f"sim3{fallback}.log")
    sim = fte.Sim("--dataset", small, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05",
                  "--batch-fault", "expire:first=1", log=log3)
    cfg3 = fte.config(os.path.join(d, "c3.json"), small, sim.url, [ARMS[0]], prices=prices,
                      providers={"sim": {"batch": True, "batch_poll_s": 0.05}})
    out = os.path.join(d, f"expire{fallback}")
    p = fte.run("run", cfg3, "--out", out, "--quiet", *(["--batch-fallback", "online"] if fallback else []))
    t(p.returncode == 0, f"expiry (fallback {fallback}): exit {p.returncode} {p.stderr[-500:]}")
    log = sim_log_entries(log3)
    files = uploaded_cids(log)
    first = [l["custom_id"] for l in files[0]]
    missing = sorted(first[1::2])  # the sim answers every second request of an expiring batch
    recs = records(out, "a")
    t(len(recs) == 40 and all(r["status"] == "ok" for r in recs.values()), f"fallback {fallback}: 40 ok records")
    if not fallback:
        t(len(files) == 2 and sorted(l["custom_id"] for l in files[1]) == missing,
          f"the second batch carries exactly the {len(missing)} requests without a result: "
          f"{[len(f) for f in files]}")
        bids = {r["batch_id"] for i, r in recs.items() if i in missing}
        t(len(bids) == 1 and bids != {recs[first[0]]["batch_id"]}, "their records name the second batch")
    else:
        chats = [e for e in log if e["path"] == "/v1/chat/completions"]
        t(len(files) == 1 and sorted(e["example"] for e in chats) == missing,
          f"fallback online: the {len(missing)} missing requests went online ({len(chats)} chat requests)")
        t(all(("batch_id" in r) == (i not in missing) for i, r in recs.items())
          and all(r["latency_ms"] is not None for i, r in recs.items() if i in missing),
          "online records have a latency and no batch_id")
    sim.stop()

# ---- 4. per-line errors ------------------------------------------------------------------------
log4 = os.path.join(d, "sim4.log")
sim = fte.Sim("--dataset", small, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05",
              "--batch-fault", "error_lines:6", log=log4)
cfg4 = fte.config(os.path.join(d, "c4.json"), small, sim.url, [ARMS[0]], prices=prices, max_error_rate=0.5,
                  providers={"sim": {"batch": True, "batch_poll_s": 0.05}})
out = os.path.join(d, "errlines")
p = fte.run("run", cfg4, "--out", out, "--quiet")
t(p.returncode == 0, f"error lines: exit {p.returncode} {p.stderr[-500:]}")
recs = records(out, "a")
first = [l["custom_id"] for l in uploaded_cids(sim_log_entries(log4))[0]]
errs = {i: r["error"] for i, r in recs.items() if r["status"] == "error"}
want = {first[k]: ("bad_request", 400) if k % 2 == 0 else ("server_error", 500) for k in range(6)}
t({i: (e["kind"], e["http_status"]) for i, e in errs.items()} == want,
  f"exactly the 6 failed lines are error records with their kinds: {errs}")
t(len(recs) == 40 and count(sim_log_entries(log4), "POST", "/v1/batches") == 1, "40 records, one batch")
sim.stop()

# ---- 4b. batch_max_bytes splits the input files (written line by line, never held) ----------------
log4b = os.path.join(d, "sim4b.log")
sim = fte.Sim("--dataset", small, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=log4b)
cfg4b = fte.config(os.path.join(d, "c4b.json"), small, sim.url, [ARMS[0]], prices=prices,
                   providers={"sim": {"batch": True, "batch_poll_s": 0.05, "batch_max_bytes": 2048}})
out = os.path.join(d, "maxbytes")
p = fte.run("run", cfg4b, "--out", out, "--quiet")
sizes = []
for e in sim_log_entries(log4b):
    if e["method"] == "POST" and e["path"] == "/v1/files":
        sizes.append(sum(len(l.encode()) + 1 for l in e["body"].splitlines() if l.startswith("{\"custom_id\"")))
recs = records(out, "a")
t(p.returncode == 0 and len(recs) == 40 and all(r["status"] == "ok" for r in recs.values()),
  f"batch_max_bytes: 40 ok records (exit {p.returncode})")
t(len(sizes) >= 4 and all(0 < z <= 2048 for z in sizes) and not os.path.exists(os.path.join(out, "batch-input.jsonl")),
  f"batch_max_bytes 2048: every input file within it, none left behind: {sizes}")
sim.stop()

# ---- 5. validation failure ---------------------------------------------------------------------
sim = fte.Sim("--dataset", small, "--profile", profile, "--batch-step-s", "0.05", "--batch-fault", "invalid")
cfg5 = fte.config(os.path.join(d, "c5.json"), small, sim.url, [ARMS[0]],
                  providers={"sim": {"batch": True, "batch_poll_s": 0.05}})
out = os.path.join(d, "invalid")
p = fte.run("run", cfg5, "--out", out, "--quiet")
t(p.returncode == 4 and "failed validation" in p.stderr and "invalid_request" in p.stderr,
  f"validation failure: exit {p.returncode}, {p.stderr[-400:]}")
t(not os.path.exists(os.path.join(out, "summary.json")), "no summary, so no verdict")
t(json.load(open(os.path.join(out, "manifest.json")))["status"] == "aborted", "the run is aborted")
sim.stop()

# ---- 6. budget ---------------------------------------------------------------------------------
log6 = os.path.join(d, "sim6.log")
sim = fte.Sim("--dataset", small, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=log6)
MAXTOK = 16
pin, pout = PRICES["m-a"]
worst = [0.5 * (fte.estimate_request_tokens([r["input"]]) * pin + MAXTOK * pout) / 1e6 for r in srows]
w1, w2 = sum(worst[:20]), sum(worst[20:])
for budget, n_created in ((w1 * 0.999, 0), (w1 + w2 * 0.5, 1)):
    cfg6 = fte.config(os.path.join(d, "c6.json"), small, sim.url, [ARMS[0]], prices=prices,
                      budget={"max_usd": budget}, providers={"sim": {"batch": True, "batch_poll_s": 0.05,
                                                                    "batch_max_requests": 20}})
    open(log6, "w").close()
    out = os.path.join(d, f"budget{n_created}")
    p = fte.run("run", cfg6, "--out", out, "--quiet")
    log = sim_log_entries(log6)
    t(p.returncode == 4 and "budget" in p.stderr, f"budget ${budget:.8f}: exit {p.returncode} {p.stderr[-300:]}")
    t(count(log, "POST", "/v1/batches") == n_created and count(log, "POST", "/v1/files") == n_created,
      f"budget ${budget:.8f}: {n_created} batch(es) created, got {count(log, 'POST', '/v1/batches')}")
    n_rec = len(fte.read_jsonl(os.path.join(out, "a.jsonl")))
    t(n_rec == 20 * n_created, f"budget: {n_rec} records, want {20 * n_created}")
    s = json.load(open(os.path.join(out, "summary.json")))
    verdict = s.get("decision", {}).get("verdict")
    t(verdict in (None, "incomplete", "invalid") and s["status"] == "incomplete",
      f"budget stop: no verdict ({verdict}, {s['status']})")
sim.stop()

# ---- 7. Anthropic Message Batches ------------------------------------------------------------------
log7 = os.path.join(d, "sim7.log")
sim = fte.Sim("--dataset", small, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=log7)
os.environ["FTEVAL_TEST_ANTHROPIC_KEY"] = "sk-ant-test-not-a-key"
cfg7 = fte.config(os.path.join(d, "c7.json"), small, sim.url,
                  [{"name": "ant", "provider": "claude", "model": "m-b"}, {"name": "oai", "provider": "sim", "model": "m-b"}],
                  providers={"claude": {"type": "anthropic", "base_url": sim.url, "batch": True, "batch_poll_s": 0.05,
                                        "batch_max_requests": 15, "api_key_env": "FTEVAL_TEST_ANTHROPIC_KEY"}},
                  baseline_arm="oai", candidate_arm="ant")
out = os.path.join(d, "anthropic")
p = fte.run("run", cfg7, "--out", out, "--quiet")
t(p.returncode == 0, f"anthropic: exit {p.returncode} {p.stderr[-500:]}")
log = sim_log_entries(log7)
t(count(log, "POST", "/v1/messages/batches") == 3, f"3 message batches of <= 15: {count(log, 'POST', '/v1/messages/batches')}")
creates = [e for e in log if e["path"] == "/v1/messages/batches"]
t(all(set(r) == {"custom_id", "params"} and r["params"]["model"] == "m-b" for e in creates for r in e["body"]["requests"]),
  "requests are {custom_id, params} with the online body")
ant, oai = records(out, "ant"), records(out, "oai")
t(len(ant) == 40 and all(ant[i]["prediction"] == oai[i]["prediction"] and ant[i]["status"] == "ok" for i in oai),
  "Anthropic batch answers equal the online answers of the same model")
t(all(r["batch_id"].startswith("msgbatch_") for r in ant.values()) and all("batch_id" not in r for r in oai.values()),
  "only the batch arm's records carry batch_id")
t("sk-ant-test-not-a-key" not in open(log7).read() and all(not open(os.path.join(out, f)).read().count("sk-ant-test")
                                                          for f in os.listdir(out) if os.path.isfile(os.path.join(out, f))),
  "the API key is written nowhere")

# ---- 8. the sim's cancel (Anthropic shape, plain HTTP) ------------------------------------------
import urllib.request  # noqa: E402


def call(method, path, body=None):
    req = urllib.request.Request(sim.url.rsplit("/v1", 1)[0] + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


reqs = [{"custom_id": f"r{k}", "params": {"model": "m-b", "max_tokens": 8,
                                          "messages": [{"role": "user", "content": srows[k]["input"]}]}}
        for k in range(4)]
b = json.loads(call("POST", "/v1/messages/batches", {"requests": reqs}))
c = json.loads(call("POST", f"/v1/messages/batches/{b['id']}/cancel"))
t(b["processing_status"] == "in_progress" and c["processing_status"] == "canceling", f"cancel: {c}")
time.sleep(0.15)
e = json.loads(call("GET", f"/v1/messages/batches/{b['id']}"))
res = [json.loads(l) for l in call("GET", f"/v1/messages/batches/{b['id']}/results").splitlines()]
t(e["processing_status"] == "ended" and e["request_counts"]["canceled"] == 2 and e["request_counts"]["succeeded"] == 2
  and sorted((r["custom_id"], r["result"]["type"]) for r in res)
  == [("r0", "succeeded"), ("r1", "canceled"), ("r2", "succeeded"), ("r3", "canceled")],
  f"a cancelled batch ends with every second request canceled: {e['request_counts']}")
sim.stop()
t.done()
