"""Batch custom_ids of ids the APIs do not take as they are (docs/batch.md, batch_index.c).

A custom_id is the example id when it matches [A-Za-z0-9_-]{1,64}, else "h-" and the first 32 hex
digits of the id's sha256 (computed here from that definition). Against `fteval sim`:
1. Ids with spaces, slashes, non-ASCII and over 64 characters, mixed with plain ones, and an
   expiring first batch (the sim answers every second request): the uploaded custom_ids are
   exactly the definition's; the second batch carries exactly the requests without a result;
   the batch journal's "file" and "batch" events list the uploaded custom_ids in upload order;
   one ok record per example, each with the answer the sim gives its own example.
2. A plain id equal to another example's hashed custom_id: the run refuses (exit 3 or 4, the
   message names both), nothing is uploaded.
3. Resume over records (the ids of the arm's journal, as bits over the examples): after a run
   whose batch answered 6 lines with errors (3 of them retryable server_error), `--resume`
   submits nothing (an example with a record, whatever its status, is not sent by the batch
   phase again: docs/batch.md) and the records stay as they were.
"""
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
WORDS = ["alpha", "bravo", "charlie", "delta"]


def cid(i):
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i):
        return i
    return "h-" + hashlib.sha256(i.encode()).hexdigest()[:32]


def dataset(path, ids):
    rows = [{"id": i, "input": f"question {k}: which word is number {k % 4}?", "gold": WORDS[k % 4]}
            for k, i in enumerate(ids)]
    fte.write_jsonl(path, rows)
    return rows


def uploads(log):
    out = []
    for e in fte.read_jsonl(log) if os.path.exists(log) else []:
        if e["method"] == "POST" and e["path"] == "/v1/files":
            body = e["body"] if isinstance(e["body"], str) else ""
            out.append([json.loads(l)["custom_id"] for l in body.splitlines() if l.startswith('{"custom_id"')])
    return out


profile = os.path.join(d, "profile.json")
fte.write_json(profile, {"rules": [{"name": "a", "model": "m-a", "accuracy": 1.0, "latency_ms": 1}]})
ARMS = [{"name": "a", "provider": "sim", "model": "m-a"}]

# ---- 1. hashed custom_ids through an expiry ------------------------------------------------------
ids = []
for k in range(30):
    ids.append([f"plain-{k}", f"q {k}/x", f"é{k}", "long" + "x" * 70 + str(k), f"h-{k}"][k % 5])
data = os.path.join(d, "data.jsonl")
rows = dataset(data, ids)
log = os.path.join(d, "sim1.log")
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05",
              "--batch-fault", "expire:first=1", log=log)
cfg = fte.config(os.path.join(d, "c.json"), data, sim.url, ARMS,
                 providers={"sim": {"batch": True, "batch_poll_s": 0.05}})
out = os.path.join(d, "run")
p = fte.run("run", cfg, "--out", out, "--quiet")
t(p.returncode == 0, f"batch run: exit {p.returncode} {p.stderr[-600:]}")
files = uploads(log)
want = [cid(i) for i in ids]
t(len(files) == 2 and files[0] == want, f"the first upload carries every example's custom_id, in order: {files[:1]}")
missing = sorted(files[0][1::2])  # the sim answers every second request of an expiring batch
t(len(files) == 2 and sorted(files[1]) == missing,
  f"the second upload carries exactly the {len(missing)} requests without a result: {files[1:]}")
events = fte.read_jsonl(os.path.join(out, "batch.journal"))
listed = [e["custom_ids"] for e in events if e["event"] in ("file", "batch")]
t(listed == [files[0], files[0], files[1], files[1]],
  f"the journal's file and batch events list the uploaded custom_ids ({[len(x) for x in listed]})")
recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "a.jsonl"))}
t(len(fte.read_jsonl(os.path.join(out, "a.jsonl"))) == len(ids) and set(recs) == set(ids),
  f"one record per example ({len(recs)} of {len(ids)})")
t(all(recs[r["id"]]["status"] == "ok" and recs[r["id"]]["prediction"] == r["gold"] for r in rows),
  "each record holds its own example's answer (accuracy 1.0: the gold)")
bids = [e["batch_id"] for e in events if e["event"] == "batch"]
t(len(bids) == 2 and all(recs[i]["batch_id"] == (bids[1] if cid(i) in missing else bids[0]) for i in ids),
  "the resubmitted examples' records name the second batch, the others the first")
sim.stop()

# ---- 2. a plain id that is another example's hashed custom_id -----------------------------------
clash = os.path.join(d, "clash.jsonl")
dataset(clash, ["a b", "ok-1", cid("a b")])
log2 = os.path.join(d, "sim2.log")
sim = fte.Sim("--dataset", clash, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05", log=log2)
cfg2 = fte.config(os.path.join(d, "c2.json"), clash, sim.url, ARMS,
                  providers={"sim": {"batch": True, "batch_poll_s": 0.05}})
p = fte.run("run", cfg2, "--out", os.path.join(d, "clash"), "--quiet")
t(p.returncode in (3, 4) and f"example '{cid('a b')}': its batch custom_id {cid('a b')} is taken by another "
  "example" in p.stderr, f"refused: exit {p.returncode} {p.stderr[-400:]}")
t(uploads(log2) == [], "nothing uploaded")
sim.stop()

# ---- 3. resume: examples with a record are not sent again ---------------------------------------
log3 = os.path.join(d, "sim3.log")
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--batch-step-s", "0.05",
              "--batch-fault", "error_lines:6", log=log3)
cfg3 = fte.config(os.path.join(d, "c3.json"), data, sim.url, ARMS, max_error_rate=0.5,
                  providers={"sim": {"batch": True, "batch_poll_s": 0.05}})
out3 = os.path.join(d, "resume")
p = fte.run("run", cfg3, "--out", out3, "--quiet")
before = open(os.path.join(out3, "a.jsonl"), "rb").read()
kinds = sorted(r["error"]["kind"] for r in fte.read_jsonl(os.path.join(out3, "a.jsonl")) if r["status"] == "error")
t(p.returncode == 0 and kinds == ["bad_request"] * 3 + ["server_error"] * 3 and len(uploads(log3)) == 1,
  f"first session: exit {p.returncode}, one upload, 6 error records {kinds} {p.stderr[-300:]}")
open(log3, "w").close()
p = fte.run("run", cfg3, "--out", out3, "--quiet", "--resume")
t(p.returncode == 0 and uploads(log3) == [], f"--resume: exit {p.returncode}, no upload ({len(uploads(log3))})")
t(open(os.path.join(out3, "a.jsonl"), "rb").read() == before, "--resume: the records are unchanged")
sim.stop()
t.done()
