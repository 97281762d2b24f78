#!/usr/bin/env python3
"""ft_sim_test.py — `fteval ft` end to end against `fteval sim`: upload -> create -> wait ->
succeeded with --json outputs checked, then the duplicate protection of create against the
simulator's injected faults:

- `reset:first=1@POST:/v1/fine_tuning/jobs`: the job IS created, the connection is reset before
  the answer (ambiguous); fteval must find it by metadata and not create a second one;
- `stall:first=1@POST:/v1/fine_tuning/jobs` with `--request-timeout 1`: the same after a
  timeout;
- `server_error:first=1@POST:/v1/fine_tuning/jobs`: a 500 (also ambiguous to a client), nothing
  created; fteval looks, finds nothing, creates once;
- `reset:first=1@POST:/v1/files`: an ambiguous upload is reported, not silently repeated.

A simulator that does not start is a failure, never a skip.
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402  (missing dependency: skipped, or failed under CI)

FTEVAL = os.environ.get("FTEVAL")
if not FTEVAL or not os.path.exists(FTEVAL):
    skip_or_fail("FTEVAL (run through ctest)")

KEY = "sk-sim-secret-key-9191"
SERVERS = []
FAILS = []


def _timeout(signum, frame):
    raise TimeoutError("test took longer than 240 s")


signal.signal(signal.SIGALRM, _timeout)
signal.alarm(240)


class Sim:
    def __init__(self, *args):
        self.p = subprocess.Popen([FTEVAL, "sim", "--port", "0", "--ft-step-s", "0.1", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        SERVERS.append(self)
        ready, _, _ = select.select([self.p.stdout], [], [], 20)
        line = self.p.stdout.readline() if ready else ""
        m = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/v1)\n", line)
        if not m:
            self.stop()
            raise SystemExit("FAIL: fteval sim did not start: %r" % line)
        self.base = m.group(1)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def ft(sim, *args):
    env = dict(os.environ, FT_SIM_KEY=KEY)
    r = subprocess.run([FTEVAL, "ft", *args, "--base-url", sim.base, "--api-key-env", "FT_SIM_KEY"],
                       capture_output=True, text=True, env=env, timeout=120)
    if KEY in r.stdout or KEY in r.stderr:
        FAILS.append("API key printed by ft %s" % " ".join(args))
    return r


def check(cond, what, r=None):
    if cond:
        print("ok   " + what)
        return
    if r is not None:
        what += "\n  exit %d\n  stdout: %s\n  stderr: %s" % (r.returncode, r.stdout[:2000],
                                                             r.stderr[:2000])
    print("FAIL " + what)
    FAILS.append(what)


def as_json(r):
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {}


tmp = tempfile.mkdtemp(prefix="ft_sim.")
train = os.path.join(tmp, "train.jsonl")
with open(train, "w") as f:
    for i in range(20):
        f.write(json.dumps({"messages": [
            {"role": "system", "content": "You classify support tickets."},
            {"role": "user", "content": "Ticket %d: my card number %d was declined twice" % (i, i)},
            {"role": "assistant", "content": ["billing", "card", "other", "refund"][i % 4]}]}) + "\n")

try:
    # --- the lifecycle ------------------------------------------------------------------------
    sim = Sim()
    r = ft(sim, "upload", train, "--json")
    fobj = as_json(r)
    check(r.returncode == 0 and fobj.get("object") == "file" and fobj.get("purpose") == "fine-tune"
          and fobj.get("filename") == "train.jsonl" and fobj.get("bytes") == os.path.getsize(train),
          "upload --json: the file object", r)
    r = ft(sim, "create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", fobj.get("id", "?"),
           "--suffix", "tickets", "--n-epochs", "2", "--seed", "5", "--json")
    job = as_json(r)
    check(r.returncode == 0 and job.get("object") == "fine_tuning.job" and
          job.get("model") == "gpt-4o-mini-2024-07-18" and
          (job.get("metadata") or {}).get("fteval_client_id", "").startswith("fteval-"),
          "create --json: the job, tagged with fteval_client_id", r)
    jid = job.get("id", "?")
    r = ft(sim, "wait", jid, "--poll-interval", "0.2", "--timeout", "60", "--json")
    done = as_json(r)
    model = done.get("fine_tuned_model") or ""
    check(r.returncode == 0 and done.get("status") == "succeeded" and
          model.startswith("ft:gpt-4o-mini-2024-07-18:") and ":tickets:" in model and
          "Fine-tuning job started" in r.stderr, "wait --json: succeeded, events on stderr", r)
    r = ft(sim, "wait", jid)
    check(r.returncode == 0 and r.stdout.strip() == model, "wait prints the fine-tuned model", r)
    r = ft(sim, "status", jid, "--json")
    check(r.returncode == 0 and isinstance(as_json(r).get("trained_tokens"), int),
          "status --json: trained_tokens once succeeded", r)
    r = ft(sim, "checkpoints", jid, "--json")
    cps = as_json(r).get("data", [])
    check(r.returncode == 0 and cps and all(c["fine_tuned_model_checkpoint"].startswith(model +
          ":ckpt-step-") for c in cps), "checkpoints --json: checkpoint models of the job", r)
    r = ft(sim, "events", jid, "--limit", "3", "--json")
    check(r.returncode == 0 and len(as_json(r).get("data", [])) == 3, "events --limit 3 --json", r)
    r = ft(sim, "list", "--json")
    check(r.returncode == 0 and [j["id"] for j in as_json(r).get("data", [])] == [jid],
          "list --json: the one job", r)
    r = ft(sim, "create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", "file-missing")
    check(r.returncode == 4 and r.stderr.startswith("fteval: error: create job: 400 ") and
          "training_file" in r.stderr, "create with an unknown file: the API error, one line", r)
    r = ft(sim, "create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", fobj.get("id", "?"),
           "--suffix", "c")
    cjob = r.stdout.strip()
    r = ft(sim, "cancel", cjob)
    check(r.returncode == 0 and r.stdout.strip() == cjob + " cancelled", "cancel", r)
    r = ft(sim, "wait", cjob, "--poll-interval", "0.1")
    check(r.returncode == 1, "wait on a cancelled job exits 1", r)
    sim.stop()

    # --- create whose answer is lost after the job was made (connection reset) -----------------
    sim = Sim("--fault", "reset:first=1@POST:/v1/fine_tuning/jobs")
    fid = ft(sim, "upload", train).stdout.strip()
    r = ft(sim, "create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", fid)
    jobs = as_json(ft(sim, "list", "--json")).get("data", [])
    check(r.returncode == 0 and len(jobs) == 1 and r.stdout.strip() == jobs[0]["id"] and
          "found job" in r.stderr, "create after a reset finds the job instead of duplicating it", r)
    r = ft(sim, "wait", jobs[0]["id"] if jobs else "?", "--poll-interval", "0.2", "--timeout", "60")
    check(r.returncode == 0 and r.stdout.startswith("ft:"), "the deduplicated job succeeds", r)
    sim.stop()

    # --- create that times out after the job was made (server stalls): also found -----------
    sim = Sim("--fault", "stall:first=1@POST:/v1/fine_tuning/jobs")
    fid = ft(sim, "upload", train).stdout.strip()
    r = ft(sim, "create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", fid,
           "--request-timeout", "1")
    jobs = as_json(ft(sim, "list", "--json")).get("data", [])
    check(r.returncode == 0 and len(jobs) == 1 and r.stdout.strip() == jobs[0]["id"] and
          "found job" in r.stderr, "create after a timeout finds the job instead of duplicating it", r)
    sim.stop()

    # --- create answered 500 (nothing created): looked up, then created exactly once -----------
    sim = Sim("--fault", "server_error:first=1@POST:/v1/fine_tuning/jobs")
    fid = ft(sim, "upload", train).stdout.strip()
    r = ft(sim, "create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", fid)
    jobs = as_json(ft(sim, "list", "--json")).get("data", [])
    check(r.returncode == 0 and len(jobs) == 1 and r.stdout.strip() == jobs[0]["id"],
          "create after a 500 creates exactly one job", r)
    sim.stop()

    # --- ambiguous upload: reported, not repeated ----------------------------------------------
    sim = Sim("--fault", "reset:first=1@POST:/v1/files")
    r = ft(sim, "upload", train)
    r2 = ft(sim, "upload", train, "--json")  # (a second, deliberate upload works)
    check(r.returncode == 4 and "may still have happened" in r.stderr and r2.returncode == 0,
          "an ambiguous upload is reported, not retried", r)
    sim.stop()
finally:
    for s in SERVERS:
        s.stop()

print("%d failure(s)" % len(FAILS))
sys.exit(1 if FAILS else 0)
