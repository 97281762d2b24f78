"""Issue 11 §5 against the adversarial server (tests/lib/advserver.py): no unbounded wait, no hang.

- quota stop on a dataset far larger than the read-ahead window (2*concurrency+16): the run ends,
  exit 4, the true number of unsent requests, and a resume completes it without re-sending;
- Retry-After: 999999, x-ratelimit-reset-requests: 17h22m9.6s and "inf": every wait capped at
  max_wait_s, said on stderr, and the provider given up after 3 such asks (exit 4, resumable);
- a short server-requested wait is honoured and said on stderr.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import adv  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 500
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, N)
QUOTA = {"status": 429, "error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                                  "type": "insufficient_quota", "code": "insufficient_quota"}}


def run(name, script, concurrency=8, max_wait_s=None, extra_args=(), port=0, resume=False):
    srv = adv.Adv(d, name + ("-resume" if resume else ""), script, port=port)
    cfg = os.path.join(d, f"{name}.json")
    prov = {"max_wait_s": max_wait_s} if max_wait_s is not None else {}
    if not resume:
        fte.config(cfg, data, srv.url, defaults={"concurrency": concurrency, "max_retries": 3, "timeout_s": 10},
                   providers={"sim": prov})
    out = os.path.join(d, name)
    args = ["run", cfg, "--out", out, "--quiet", *extra_args] + (["--resume"] if resume else [])
    p = fte.run(*args, timeout=240)
    srv.stop()
    recs = fte.read_jsonl(os.path.join(out, "base.jsonl")) if os.path.exists(os.path.join(out, "base.jsonl")) else []
    return p, recs, srv.log(), out, srv


# ---- quota stop with 500 examples at concurrency 8: used to hang forever ---------------------
p, recs, log, out, srv = run("quota", {"rules": [{"when": {"from": 41}, "do": QUOTA}]})
t(p.returncode == 4, f"quota: exit {p.returncode}, want 4: {p.stderr[-500:]}")
t(p.elapsed < 60, f"quota: took {p.elapsed:.1f}s (a hang would hit the timeout)")
ok = [r for r in recs if r["status"] == "ok"]
quota_errs = [r for r in recs if r["status"] == "error"]
t(len(ok) == 40, f"quota: {len(ok)} answered, want the 40 the server answered")
t(all(r["error"]["kind"] == "insufficient_quota" and r["attempts"] == 1 for r in quota_errs),
  "quota: quota errors are never retried")
t(len(log) == len(recs), f"quota: server saw {len(log)} requests, {len(recs)} records: one record per request")
t(len(log) <= 40 + 8, f"quota: server saw {len(log)} requests, want at most 40 + the 8 in flight")
not_sent = N - len(recs)
t(f"{not_sent} request(s) not sent" in p.stderr, f"quota: the true unsent count {not_sent} in: {p.stderr[-400:]}")
t(f"resume with: fteval run {os.path.join(d, 'quota.json')} --resume --out {out}" in p.stderr, "quota: resume command")
m = json.load(open(os.path.join(out, "manifest.json")))
t(m["status"] == "incomplete", f"quota: manifest status {m['status']}")

# the quota comes back (same base_url: it is part of the run's fingerprint): resume completes
p, recs2, log2, out, _ = run("quota", {}, port=srv.port, resume=True)
t(p.returncode == 0, f"quota resume: exit {p.returncode}: {p.stderr[-500:]}")
final = {}
for r in recs2:
    final[r["id"]] = r
t(len(final) == N and all(r["status"] == "ok" for r in final.values()), "quota resume: every example answered")
t(len(log2) == N - 40, f"quota resume: server saw {len(log2)} requests, want {N - 40} (nothing answered is re-sent)")
sent_ids = [e["user"] for e in log2]
t(len(set(sent_ids)) == len(sent_ids), "quota resume: no example sent twice")

# ---- Retry-After: 999999 on every answer: capped at max_wait_s, given up after 3 asks ---------------
p, recs, log, out, _ = run("retry_after", {"default": {"status": 429, "headers": {"Retry-After": "999999"},
                                                        "error": {"message": "slow down", "type": "requests",
                                                                  "code": "rate_limit_exceeded"}}},
                           max_wait_s=1)
t(p.returncode == 4, f"retry_after: exit {p.returncode}, want 4: {p.stderr[-500:]}")
t(p.elapsed < 20, f"retry_after: took {p.elapsed:.1f}s: waits must be capped at max_wait_s=1")
t(len(log) == 3, f"retry_after: server saw {len(log)} requests, want 3 (the first request alone, given up on the 3rd ask)")
t("retry-after: 999999" in p.stderr and "max_wait_s" in p.stderr, f"retry_after: says why it waits: {p.stderr[-600:]}")
t("giving up" in p.stderr and "resume with: fteval run" in p.stderr, "retry_after: gives up, resumable")
t(len(recs) == 1 and recs[0]["error"]["kind"] == "rate_limit" and recs[0]["attempts"] == 3,
  f"retry_after: the one example tried is recorded with its 3 attempts: {recs}")

# ---- x-ratelimit-reset-requests 17h on every success, and "inf" -----------------------------
for name, value in (("reset_17h", "17h22m9.6s"), ("reset_inf", "inf")):
    p, recs, log, out, _ = run(name, {"default": {"headers": {"x-ratelimit-remaining-requests": "0",
                                                                "x-ratelimit-reset-requests": value}}},
                               max_wait_s=1)
    t(p.returncode == 4, f"{name}: exit {p.returncode}, want 4: {p.stderr[-500:]}")
    t(p.elapsed < 20, f"{name}: took {p.elapsed:.1f}s")
    # the first request alone (1st ask, 1 s pause), then the 8 the concurrency allows start together
    # after the pause; the 3rd ask among their answers gives the provider up
    t(len(log) == 9 and len(recs) == 9 and all(r["status"] == "ok" for r in recs),
      f"{name}: 1 + 8 answered requests before giving up, got {len(log)} requests / {len(recs)} records")
    t(f"x-ratelimit-reset-requests: {value}" in p.stderr, f"{name}: names the header: {p.stderr[-600:]}")
    m = json.load(open(os.path.join(out, "manifest.json")))
    t(m["status"] == "incomplete" and "max_wait_s" in m["last_session"]["stop_reason"],
      f"{name}: manifest says why: {m['last_session']}")

# ---- a short wait is honoured and said --------------------------------------------------------
small = os.path.join(d, "small.jsonl")
fte.plain_dataset(small, 20)
srv = adv.Adv(d, "short", {"rules": [{"when": {"from": 2, "to": 2}, "do": {
    "status": 429, "headers": {"retry-after": "1"},
    "error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}}]})
cfg = fte.config(os.path.join(d, "short.json"), small, srv.url, defaults={"concurrency": 1})
p = fte.run("run", cfg, "--out", os.path.join(d, "short"), "--quiet")
srv.stop()
t(p.returncode == 0, f"short wait: exit {p.returncode}: {p.stderr[-400:]}")
t(p.elapsed >= 1.0, f"short wait: took {p.elapsed:.2f}s, must wait the 1 s asked")
t("waiting 1 s because the server asked (retry-after: 1)" in p.stderr, f"short wait: said on stderr: {p.stderr}")
t(len(srv.log()) == 21, f"short wait: {len(srv.log())} requests, want 21")

# ---- the progress line (stderr on a terminal) says why the run waits ----------------------------
srv = adv.Adv(d, "progress", {"rules": [{"when": {"from": 2, "to": 2}, "do": {
    "status": 429, "headers": {"retry-after": "2"},
    "error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}}]})
cfg = fte.config(os.path.join(d, "progress.json"), small, srv.url, defaults={"concurrency": 1})
master, slave = os.openpty()
proc = subprocess.Popen([fte.FTEVAL, "run", cfg, "--out", os.path.join(d, "progress")], stdout=subprocess.PIPE,
                        stderr=slave, text=True)
fte._procs.append(proc)
os.close(slave)
tty = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not chunk:
        break
    tty += chunk
proc.wait(timeout=60)
os.close(master)
srv.stop()
tty = tty.decode("utf-8", "replace")
t(proc.returncode == 0, f"progress: exit {proc.returncode}")
t("| waiting " in tty and "sim: server asked (retry-after: 2)" in tty, f"progress line: {tty[-600:]!r}")
t.done()
