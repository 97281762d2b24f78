"""Resume (issue 4): a run killed with SIGKILL mid-way and continued with --resume ends with the
same records, ids and summary statistics as an uninterrupted run: nothing lost, nothing duplicated,
no completed example re-sent. Also: Ctrl-C (SIGINT) stops gracefully and prints the resume command,
and a torn last line left by a crash is dropped."""
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
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, 300)
profile = os.path.join(d, "profile.json")
fte.write_json(profile, {"rules": [{"name": "all", "model": "*", "accuracy": 0.6, "latency_ms": 15}]})
log = os.path.join(d, "sim.log")
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "9", log=log)
arms = [{"name": "a", "provider": "sim", "model": "m-a"}, {"name": "b", "provider": "sim", "model": "m-b"}]
cfg = fte.config(os.path.join(d, "c.json"), data, sim.url, arms, defaults={"concurrency": 4})


def records(out, arm):
    return fte.read_jsonl(os.path.join(out, f"{arm}.jsonl"))


def wait_for_records(out, arm, at_least, limit_s=60):
    """Waits until the arm's file has at least that many lines (the run is mid-way)."""
    path = os.path.join(out, f"{arm}.jsonl")
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if os.path.exists(path) and sum(1 for _ in open(path, "rb")) >= at_least:
            return True
        time.sleep(0.01)
    return False


def stable(rec):
    return {k: rec[k] for k in ("id", "prediction", "gold", "scores", "status", "usage", "cost_usd",
                                "request_sha256")}


# The reference: one uninterrupted run.
ref = os.path.join(d, "ref")
p = fte.run("run", cfg, "--out", ref, "--quiet")
t(p.returncode == 0, f"reference run: exit {p.returncode} {p.stderr}")

# Killed with SIGKILL after ~1/3 of the work, then resumed (twice: a second kill mid-resume).
out = os.path.join(d, "killed")
env = dict(os.environ)
for at_least in (60, 120):
    args = [fte.FTEVAL, "run", cfg, "--out", out, "--quiet"] + (["--resume"] if os.path.exists(out) else [])
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t(wait_for_records(out, "a", at_least), f"the run got to {at_least} records before the kill")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
partial = sum(len(records(out, a)) for a in ("a", "b"))
t(0 < partial < 600, f"the kills left a partial run ({partial} records)")
# Simulate a torn line, as a power loss mid-append would leave.
with open(os.path.join(out, "a.jsonl"), "a") as f:
    f.write('{"id": "ex-00299", "arm": "a", "predic')
n_before = len(fte.read_jsonl(log))
p = fte.run("run", cfg, "--out", out, "--resume", "--quiet")
t(p.returncode == 0, f"resume: exit {p.returncode} {p.stderr}")
t("torn last line" in p.stderr, "resume reports the torn line it dropped")
for arm in ("a", "b"):
    got = records(out, arm)
    ids = [r["id"] for r in got]
    t(len(ids) == 300 and len(set(ids)) == 300, f"{arm}: 300 records, no duplicate ids ({len(ids)})")
    want = {r["id"]: stable(r) for r in records(ref, arm)}
    t({r["id"]: stable(r) for r in got} == want, f"{arm}: records equal the uninterrupted run's")
resent = len(fte.read_jsonl(log)) - n_before
t(resent <= 600 - partial + 8, f"resume sent {resent} requests for {600 - partial} missing records")
s_ref = json.load(open(os.path.join(ref, "summary.json")))
s_out = json.load(open(os.path.join(out, "summary.json")))
t(s_ref["comparisons"] == s_out["comparisons"], "comparisons identical to the uninterrupted run")
t(all(s_ref["arms"][a]["metrics"] == s_out["arms"][a]["metrics"] for a in ("a", "b")), "per-arm metrics identical")
m = json.load(open(os.path.join(out, "manifest.json")))
t(m["status"] == "complete" and len(m.get("resumed_at", [])) >= 2, "manifest: complete, resumes recorded")

# Ctrl-C: graceful stop, the resume command printed, exit 4; then resume completes.
out2 = os.path.join(d, "sigint")
proc = subprocess.Popen([fte.FTEVAL, "run", cfg, "--out", out2], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
t(wait_for_records(out2, "a", 30), "the run started before Ctrl-C")
proc.send_signal(signal.SIGINT)
so, se = proc.communicate(timeout=60)
t(proc.returncode == 4, f"SIGINT: exit {proc.returncode}")
t(f"resume with: fteval run {cfg} --resume --out {out2}" in se, f"SIGINT: resume command printed: {se}")
t(json.load(open(os.path.join(out2, "manifest.json")))["status"] == "interrupted", "SIGINT: manifest interrupted")
p = fte.run("run", cfg, "--out", out2, "--resume", "--quiet")
t(p.returncode == 0 and len({r["id"] for r in records(out2, "a")}) == 300, "SIGINT: resume completes")

# --resume on a directory that holds no run yet starts one (the nightly recipe's first try).
fresh = os.path.join(d, "fresh")
p = fte.run("run", cfg, "--out", fresh, "--resume", "--quiet")
t(p.returncode == 0 and len(records(fresh, "a")) == 300, f"--resume on an empty --out starts a run: {p.stderr}")

# Resume refuses a changed dataset.
with open(data, "a") as f:
    f.write('{"id": "new", "input": "question new", "gold": "x"}\n')
p = fte.run("run", cfg, "--out", out2, "--resume", "--quiet")
t(p.returncode == 3 and "dataset changed" in p.stderr, f"changed dataset refused: {p.returncode} {p.stderr}")
sim.stop()
t.done()
