#!/usr/bin/env python3
"""sim_ft_test — `fteval sim` files and fine-tuning endpoints end to end.

Upload (multipart), list/get/content/delete, job validation errors, status moving
validating_files -> queued -> running -> succeeded, events, checkpoints, cancel, metadata
filters and pagination, failed validation, and the new model (and its checkpoints) served by chat
completions. Runtime bounded; servers always die.
"""
import http.client
import json
import math
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from simtest import *  # noqa: E402,F401,F403  (check, Sim, SERVERS, FAILS, CHECKS, ...)




import time


def upload(s, name, data, purpose="fine-tune"):
    boundary = "----fteval-test-boundary"
    parts = []
    if purpose is not None:
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n%s\r\n" % (boundary, purpose)).encode())
    if data is not None:
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name)).encode() + data + b"\r\n")
    body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
    return s.request("POST", "/v1/files", body, {"Content-Type": "multipart/form-data; boundary=%s" % boundary})


def wait_job(s, jid, limit=10.0):
    seen = []
    t = time.time()
    while time.time() - t < limit:
        st, _, j = s.request("GET", "/v1/fine_tuning/jobs/" + jid)
        if not seen or seen[-1] != j["status"]:
            seen.append(j["status"])
        if j["status"] in ("succeeded", "failed", "cancelled"):
            return j, seen
        time.sleep(0.02)
    return j, seen


def main(tmp):
    ds = os.path.join(tmp, "heldout.jsonl")
    with open(ds, "w") as f:
        for i in range(30):
            f.write(json.dumps({"id": "h%d" % i, "input": "ticket %d" % i, "gold": "label %d" % (i % 5)}) + "\n")
    profile = os.path.join(tmp, "profile.json")
    with open(profile, "w") as f:
        json.dump({"rules": [{"model": "gpt-4o-mini-2024-07-18", "accuracy": 1.0}]}, f)
    s = Sim("--dataset", ds, "--profile", profile, "--ft-step-s", "0.1")
    train = b"".join(json.dumps({"messages": [{"role": "user", "content": "ticket %d" % i},
                                              {"role": "assistant", "content": "label %d" % (i % 5)}]}).encode() + b"\n"
                     for i in range(200))

    st, _, f1 = upload(s, "train.jsonl", train)
    check(st == 200 and f1["object"] == "file" and f1["id"].startswith("file-"), "upload 200")
    check(f1["bytes"] == len(train) and f1["filename"] == "train.jsonl" and f1["purpose"] == "fine-tune", "file fields")
    st, _, f2 = upload(s, "batch.jsonl", b"{}\n", purpose="batch")
    check(st == 200, "second upload")
    st, _, b = upload(s, "x.jsonl", None)
    check(st == 400 and b["error"]["param"] == "file", "missing file part 400")
    st, _, b = upload(s, "x.jsonl", b"x", purpose=None)
    check(st == 400 and b["error"]["param"] == "purpose", "missing purpose 400")
    st, _, b = upload(s, "x.jsonl", b"x", purpose="nonsense")
    check(st == 400 and b["error"]["param"] == "purpose", "bad purpose 400")
    st, _, b = s.request("POST", "/v1/files", {"purpose": "fine-tune"})
    check(st == 415, "JSON upload 415")
    st, _, lst = s.request("GET", "/v1/files")
    check(st == 200 and lst["object"] == "list" and [x["id"] for x in lst["data"]] == [f2["id"], f1["id"]], "list desc")
    st, _, lst = s.request("GET", "/v1/files?purpose=fine-tune")
    check([x["id"] for x in lst["data"]] == [f1["id"]], "list by purpose")
    st, _, lst = s.request("GET", "/v1/files?limit=1&order=asc")
    check(len(lst["data"]) == 1 and lst["has_more"] and lst["first_id"] == f1["id"], "list limit/order")
    st, _, g = s.request("GET", "/v1/files/" + f1["id"])
    check(st == 200 and g["id"] == f1["id"], "get file")
    c = s.conn()
    c.request("GET", "/v1/files/%s/content" % f1["id"])
    r = c.getresponse()
    check(r.status == 200 and r.read() == train, "file content round trip")
    c.close()
    st, _, d = s.request("DELETE", "/v1/files/" + f2["id"])
    check(st == 200 and d == {"id": f2["id"], "object": "file", "deleted": True}, "delete file")
    st, _, b = s.request("GET", "/v1/files/" + f2["id"])
    check(st == 404 and b["error"]["type"] == "invalid_request_error", "deleted file 404")

    # job validation
    st, _, b = s.request("POST", "/v1/fine_tuning/jobs", {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-nope"})
    check(st == 400 and b["error"]["param"] == "training_file", "unknown training_file 400")
    st, _, b = s.request("POST", "/v1/fine_tuning/jobs", {"training_file": f1["id"]})
    check(st == 400 and b["error"]["param"] == "model", "missing model 400")
    st, _, b = s.request("GET", "/v1/fine_tuning/jobs/ftjob-nope")
    check(st == 404 and "error" in b, "unknown job 404")

    # a job that succeeds
    st, _, job = s.request("POST", "/v1/fine_tuning/jobs", {
        "model": "gpt-4o-mini-2024-07-18", "training_file": f1["id"], "suffix": "demo", "seed": 42,
        "metadata": {"fteval_run": "r1"},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}}})
    check(st == 200 and job["object"] == "fine_tuning.job" and job["id"].startswith("ftjob-"), "create job")
    check(job["status"] == "validating_files" and job["fine_tuned_model"] is None and job["seed"] == 42, "initial job")
    done, seen = wait_job(s, job["id"])
    check(seen[-1] == "succeeded", "job succeeded: %r" % seen)
    order = ["validating_files", "queued", "running", "succeeded"]
    check(all(x in order for x in seen) and seen == sorted(seen, key=order.index), "status order %r" % seen)
    check("running" in seen, "running observed")
    ftm = done["fine_tuned_model"]
    check(re.fullmatch(r"ft:gpt-4o-mini-2024-07-18:fteval-sim:demo:[A-Za-z0-9]+", ftm or ""), "model name %r" % ftm)
    check(done["trained_tokens"] and done["trained_tokens"] > 0 and done["finished_at"], "trained_tokens/finished_at")
    check(done["hyperparameters"]["n_epochs"] == 2, "hyperparameters resolved")
    st, _, ev = s.request("GET", "/v1/fine_tuning/jobs/%s/events" % job["id"])
    msgs = [e["message"] for e in ev["data"]]
    check(st == 200 and ev["object"] == "list" and any("successfully completed" in m for m in msgs), "events")
    check(all(e["object"] == "fine_tuning.job.event" for e in ev["data"]), "event objects")
    st, _, ev2 = s.request("GET", "/v1/fine_tuning/jobs/%s/events?limit=2" % job["id"])
    check(len(ev2["data"]) == 2 and ev2["has_more"], "events limit")
    st, _, ev3 = s.request("GET", "/v1/fine_tuning/jobs/%s/events?after=%s" % (job["id"], ev2["data"][1]["id"]))
    check([e["id"] for e in ev3["data"]] == [e["id"] for e in ev["data"][2:]], "events after")
    st, _, ck = s.request("GET", "/v1/fine_tuning/jobs/%s/checkpoints" % job["id"])
    check(st == 200 and len(ck["data"]) >= 2 and all(c["id"].startswith("ftckpt_") for c in ck["data"]), "checkpoints")
    ckm = [c["fine_tuned_model_checkpoint"] for c in ck["data"]]
    check(all(re.fullmatch(re.escape(ftm) + r":ckpt-step-\d+", m) for m in ckm), "checkpoint models %r" % ckm)
    check(all("train_loss" in c["metrics"] for c in ck["data"]), "checkpoint metrics")

    # the new model and its checkpoints are served (no ft:* rule: behaves like its base rule)
    for model in [ftm] + ckm:
        st, _, b = s.chat(model, "ticket 3")
        check(st == 200 and content((st, None, b)) == "label 3" and b["model"] == model, "serve %s" % model)
    st, _, b = s.chat("ft:gpt-4o-mini-2024-07-18:other::zzz", "ticket 3")
    check(st == 404, "unknown ft model without a rule 404")
    st, _, models = s.request("GET", "/v1/models")
    ids = [m["id"] for m in models["data"]]
    check(ftm in ids and all(m in ids for m in ckm), "models list has the new model")
    st, _, b = s.request("POST", "/v1/fine_tuning/jobs/%s/cancel" % job["id"])
    check(st == 400, "cancel a finished job 400")

    # a cancelled job
    st, _, j2 = s.request("POST", "/v1/fine_tuning/jobs", {"model": "gpt-4o-mini-2024-07-18", "training_file": f1["id"],
                                                          "metadata": {"fteval_run": "r2"}})
    st, _, c2 = s.request("POST", "/v1/fine_tuning/jobs/%s/cancel" % j2["id"])
    check(st == 200 and c2["status"] == "cancelled", "cancel")
    time.sleep(0.7)
    st, _, c2 = s.request("GET", "/v1/fine_tuning/jobs/" + j2["id"])
    check(c2["status"] == "cancelled" and c2["fine_tuned_model"] is None, "cancelled stays cancelled")

    # a job whose training file is invalid fails after validation
    st, _, bad = upload(s, "bad.jsonl", b"not json\n")
    st, _, j3 = s.request("POST", "/v1/fine_tuning/jobs", {"model": "gpt-4o-mini-2024-07-18", "training_file": bad["id"]})
    done3, seen3 = wait_job(s, j3["id"])
    check(done3["status"] == "failed" and done3["error"]["param"] == "training_file", "invalid file fails: %r" % seen3)

    # list: newest first, metadata filter, after/limit
    st, _, jl = s.request("GET", "/v1/fine_tuning/jobs")
    check([x["id"] for x in jl["data"]] == [j3["id"], j2["id"], job["id"]], "jobs newest first")
    st, _, jl = s.request("GET", "/v1/fine_tuning/jobs?metadata%5Bfteval_run%5D=r1")
    check([x["id"] for x in jl["data"]] == [job["id"]], "metadata filter")
    st, _, jl = s.request("GET", "/v1/fine_tuning/jobs?limit=1")
    check(len(jl["data"]) == 1 and jl["has_more"], "jobs limit")
    st, _, jl = s.request("GET", "/v1/fine_tuning/jobs?after=" + j3["id"])
    check([x["id"] for x in jl["data"]] == [j2["id"], job["id"]], "jobs after")
    s.stop()

    # path-scoped faults: an HTTP-level fault creates nothing; a reset after the create leaves
    # the object created (the ambiguous case: the client must list before re-creating)
    s = Sim("--fault", "server_error:first=1@POST:/v1/fine_tuning/jobs", "--fault", "reset:first=1@POST:/v1/files",
            "--ft-step-s", "0.01")
    try:
        upload(s, "train.jsonl", train)
        check(False, "upload with reset: connection should fail")
    except (ConnectionError, http.client.HTTPException):
        pass
    st, _, lst = s.request("GET", "/v1/files")
    check(st == 200 and len(lst["data"]) == 1, "reset after create: file exists (%d)" % len(lst["data"]))
    fid = lst["data"][0]["id"]
    st, _, b = upload(s, "train.jsonl", train)
    check(st == 200, "second upload attempt ok")
    body = {"model": "gpt-4o-mini-2024-07-18", "training_file": fid}
    st, _, b = s.request("POST", "/v1/fine_tuning/jobs", body)
    check(st == 500 and b["error"]["type"] == "server_error", "first job create 500")
    st, _, jl = s.request("GET", "/v1/fine_tuning/jobs")
    check(jl["data"] == [], "a 500 creates no job")
    st, _, b = s.request("POST", "/v1/fine_tuning/jobs", body)
    check(st == 200 and b["object"] == "fine_tuning.job", "retry creates the job")
    s.stop()


try:
    with tempfile.TemporaryDirectory() as tmp:
        main(tmp)
finally:
    for srv in SERVERS:
        srv.kill()

print("%s: %d checks, %d failures" % (os.path.basename(__file__), CHECKS[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
