"""Issue 11 §4 against the adversarial server: one run directory, one writer, no dead journals.

- two processes on one run directory: the second exits 4 naming the holder's pid, nothing is sent
  twice (every id exactly once when the first finishes);
- SIGHUP is handled like SIGTERM (exit 4, interrupted, resumable);
- a resume whose config fingerprint differs (model, system prompt, temperature) is refused with
  exit 3 naming the first difference, before anything is sent;
- a transient ENOSPC mid-append (LD_PRELOAD shim tests/tools/write_fail_shim.c: half a line
  written, then ENOSPC): the journal is cut back to its last complete line, the run stops with
  exit 4 and a resume command, and the resume completes it;
- a malformed line in the middle of a journal: on resume it is moved to base.quarantine.jsonl
  with its line number, with a warning, and exactly that example is re-sent;
- a failing fdatasync ends the run with exit 4 instead of being ignored.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import adv  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 500
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, N)
SHIM = os.path.join(os.environ["FTEVAL_BUILD"], "write_fail_shim.so")
if not os.path.exists(SHIM):
    print(f"FAIL: {SHIM} is missing (built from tests/tools/write_fail_shim.c)")
    sys.exit(1)


def preload_env(**extra):
    """LD_PRELOAD the shim; a sanitizer build needs its runtime first in the list."""
    libs = []
    ldd = subprocess.run(["ldd", fte.FTEVAL], capture_output=True, text=True).stdout
    for line in ldd.splitlines():
        if "libasan" in line and "=>" in line:
            libs.append(line.split("=>")[1].split("(")[0].strip())
    return {"LD_PRELOAD": ":".join(libs + [SHIM]), **{k: str(v) for k, v in extra.items()}}


def records(out):
    p = os.path.join(out, "base.jsonl")
    return fte.read_jsonl(p) if os.path.exists(p) else []


def wait_records(out, n, proc, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline and proc.poll() is None:
        try:
            if sum(1 for _ in open(os.path.join(out, "base.jsonl"))) >= n:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def start(cfg, out, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.Popen([fte.FTEVAL, "run", cfg, "--out", out, "--quiet", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=e)
    fte._procs.append(p)
    return p


# ---- two processes, one directory -----------------------------------------------------------
srv = adv.Adv(d, "lock", {"default": {"hang": 0.01}})
cfg = fte.config(os.path.join(d, "lock.json"), data, srv.url, defaults={"concurrency": 2})
out = os.path.join(d, "lock")
a = start(cfg, out)
t(wait_records(out, 20, a), "lock: the first process is writing")
b = fte.run("run", cfg, "--resume", "--out", out, "--quiet")
c = fte.run("run", cfg, "--out", out, "--quiet")
a_out, a_err = a.communicate(timeout=240)
srv.stop()
for name, p in (("resume", b), ("fresh", c)):
    t(p.returncode == 4 and f"(pid {a.pid})" in p.stderr, f"lock/{name}: exit {p.returncode}, names pid {a.pid}: {p.stderr}")
recs = records(out)
ids = [r["id"] for r in recs]
t(a.returncode == 0 and len(ids) == N and len(set(ids)) == N, f"lock: {len(ids)} records, {len(set(ids))} ids")
t(len(srv.log()) == N, f"lock: the server saw {len(srv.log())} requests, want {N}")

# ---- SIGHUP is SIGTERM -------------------------------------------------------------------------
srv = adv.Adv(d, "hup", {"default": {"hang": 0.01}})
cfg = fte.config(os.path.join(d, "hup.json"), data, srv.url, defaults={"concurrency": 2})
out = os.path.join(d, "hup")
p = start(cfg, out)
wait_records(out, 20, p)
p.send_signal(signal.SIGHUP)
_, err = p.communicate(timeout=60)
srv.stop()
m = json.load(open(os.path.join(out, "manifest.json")))
t(p.returncode == 4 and "interrupted" in err and "resume with: fteval run" in err, f"hup: exit {p.returncode}: {err[-300:]}")
t(m["status"] == "interrupted" and len(records(out)) < N, f"hup: manifest status {m['status']}")

# ---- a resume with another config is refused, naming the first difference ------------------------
QUOTA = {"status": 429, "error": {"message": "You exceeded your current quota.", "type": "insufficient_quota",
                                  "code": "insufficient_quota"}}
srv = adv.Adv(d, "fp", {"rules": [{"when": {"from": 41}, "do": QUOTA}]})
cfg_path = os.path.join(d, "fp.json")
fte.config(cfg_path, data, srv.url)
out = os.path.join(d, "fp")
p = fte.run("run", cfg_path, "--out", out, "--quiet")
srv.stop()
t(p.returncode == 4, f"fp: the first session stops on quota: {p.returncode}")
orig = json.load(open(cfg_path))
srv = adv.Adv(d, "fp2", {}, port=srv.port)
for change, want in ((lambda c: c["arms"][0].update(model="gpt-4o-2024-08-06"),
                      "arms[0].model: 'gpt-4o-mini-2024-07-18' in the run, 'gpt-4o-2024-08-06' in the config"),
                     (lambda c: c["arms"][0].update(system="Answer in French."), "arms[0].system_sha256"),
                     (lambda c: c["defaults"].update(temperature=0.7), "arms[0].temperature: '0' in the run, '0.7'"),
                     (lambda c: c["task"].update(metrics=["exact_match"]), "task.metrics")):
    c = json.loads(json.dumps(orig))
    change(c)
    fte.write_json(cfg_path, c)
    p = fte.run("run", cfg_path, "--resume", "--out", out, "--quiet")
    t(p.returncode == 3 and "the config changed since the run started" in p.stderr and want in p.stderr,
      f"fp: exit {p.returncode}, want 3 naming {want!r}: {p.stderr}")
t(len(srv.log()) == 0, f"fp: refused resumes sent {len(srv.log())} requests")
fte.write_json(cfg_path, orig)
p = fte.run("run", cfg_path, "--resume", "--out", out, "--quiet")
srv.stop()
final = {r["id"]: r for r in records(out)}
t(p.returncode == 0 and len(final) == N and all(r["status"] == "ok" for r in final.values()),
  f"fp: the unchanged config resumes: {p.returncode} {p.stderr[-200:]}")
fp_log = srv.log()

# ---- a malformed line in the middle: quarantined on resume, that example re-sent ---------------------
lines = open(os.path.join(out, "base.jsonl")).read().splitlines(keepends=True)
ok_lines = [i for i, l in enumerate(lines) if json.loads(l)["status"] == "ok"]
victim = ok_lines[10]
victim_id = json.loads(lines[victim])["id"]
kept = [json.loads(l) for i, l in enumerate(lines) if i != victim and json.loads(l)["id"] == victim_id]
t(not [r for r in kept if r["status"] == "ok"], "quarantine: the victim's id has no other answer")
lines[victim] = lines[victim][: len(lines[victim]) // 2] + "\n"
open(os.path.join(out, "base.jsonl"), "w").writelines(lines)
srv = adv.Adv(d, "q", {}, port=srv.port)
p = fte.run("run", cfg_path, "--resume", "--out", out, "--quiet")
srv.stop()
t(p.returncode == 0, f"quarantine: resume exit {p.returncode}: {p.stderr[-300:]}")
t(f"base.jsonl:{victim + 1}: not a result record: moved to the quarantine file" in p.stderr,
  f"quarantine: warning names the line: {p.stderr[-300:]}")
q = fte.read_jsonl(os.path.join(out, "base.quarantine.jsonl"))
t(len(q) == 1 and q[0]["line"] == victim + 1 and q[0]["text"] == lines[victim].rstrip("\n"),
  f"quarantine: {q}")
log = srv.log()
t(len(log) == 1 and f"number {int(victim_id.split('-')[1]) % 8}?" in log[0]["user"],
  f"quarantine: exactly the lost example re-sent: {[e['user'] for e in log]}")
final = {r["id"]: r for r in records(out)}
t(len(final) == N and all(r["status"] == "ok" for r in final.values()), "quarantine: the run is whole again")
s = json.load(open(os.path.join(out, "summary.json")))
t(s["status"] == "complete", f"quarantine: summary {s['status']}")

# ---- ENOSPC mid-append: cut back to the last line, exit 4, resumable -----------------------------
srv = adv.Adv(d, "enospc", {})
cfg = fte.config(os.path.join(d, "enospc.json"), data, srv.url, defaults={"concurrency": 4})
out = os.path.join(d, "enospc")
p = fte.run("run", cfg, "--out", out, "--quiet", env=preload_env(FTEVAL_SHIM_WRITE_FAIL_AT=30))
t(p.returncode == 4 and "No space left on device" in p.stderr and f"resume with: fteval run {cfg} --resume --out {out}"
  in p.stderr, f"enospc: exit {p.returncode}: {p.stderr[-400:]}")
raw = open(os.path.join(out, "base.jsonl")).read()
t(raw.endswith("\n") and all(json.loads(l)["status"] for l in raw.splitlines()),
  "enospc: every line of the journal is a whole record (the torn half was cut off)")
n_first = len(raw.splitlines())
t(29 <= n_first < N, f"enospc: {n_first} records kept")
p = fte.run("run", cfg, "--resume", "--out", out, "--quiet")
srv.stop()
final = {r["id"]: r for r in records(out)}
t(p.returncode == 0 and len(final) == N and "quarantine" not in p.stderr,
  f"enospc: resume completes without quarantine: {p.returncode} {p.stderr[-300:]}")
t(len(srv.log()) == N + 1, f"enospc: the server saw {len(srv.log())} requests: {N} + the one whose record was cut")

# ---- fdatasync failing is an I/O error, not ignored --------------------------------------------
small = os.path.join(d, "small.jsonl")
fte.plain_dataset(small, 10)
srv = adv.Adv(d, "sync", {})
cfg = fte.config(os.path.join(d, "sync.json"), small, srv.url)
p = fte.run("run", cfg, "--out", os.path.join(d, "sync"), "--quiet", env=preload_env(FTEVAL_SHIM_FDATASYNC_FAIL=1))
srv.stop()
t(p.returncode == 4 and "fdatasync failed" in p.stderr, f"fdatasync: exit {p.returncode}: {p.stderr[-300:]}")
t.done()
