#!/usr/bin/env python3
"""ft_stub_test.py — `fteval ft` end to end against a scripted fine-tuning server on 127.0.0.1.

The stub keeps jobs in memory, advances their status on every GET, records every request and
injects faults on demand. It checks what Prism cannot: state (upload -> create -> wait ->
succeeded), dedupe of a create whose answer was lost (500 or connection reset AFTER the job was
recorded), retry rules (429 with retry-after-ms, insufficient_quota fails fast), error
formatting, pagination, exit codes, and that the API key never reaches any output.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402  (missing dependency: skipped, or failed under CI)

FTEVAL = os.environ.get("FTEVAL")
SRC = os.environ.get("FTEVAL_SRC", "")
if not FTEVAL or not os.path.exists(FTEVAL):
    skip_or_fail("FTEVAL (run through ctest)")

KEY = "sk-stub-secret-key-4242"
PAGE_CAP = 2  # the stub never returns more than this per page, to exercise pagination


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (method, path, headers, body)
        self.jobs = []  # newest last
        self.files = []
        self.faults = []  # queue of ("create", kind) consumed by the next matching request
        self.n = 0


S = State()

PROGRESS = ["validating_files", "queued", "running", "paused", "running", "succeeded"]


def job_view(j):
    return {k: v for k, v in j.items() if not k.startswith("_")}


def add_event(j, level, msg):
    S.n += 1
    j["_events"].append({"object": "fine_tuning.job.event", "id": "ftevent-%d" % S.n,
                         "created_at": int(time.time()), "level": level, "message": msg,
                         "type": "message", "data": {}})


def advance(j):
    if j["status"] in ("succeeded", "failed", "cancelled"):
        return
    kind = j["_kind"]
    j["_step"] += 1
    if kind == "stuck":
        j["status"] = "running"
        return
    if kind == "fail" and j["_step"] >= 2:
        j["status"] = "failed"
        j["error"] = {"code": "invalid_training_file", "message": "line 3 is not valid",
                      "param": "training_file"}
        j["finished_at"] = int(time.time())
        add_event(j, "error", "Job failed")
        return
    j["status"] = PROGRESS[min(j["_step"], len(PROGRESS) - 1)]
    add_event(j, "info", "Status: %s" % j["status"])
    if j["status"] == "succeeded":
        j["fine_tuned_model"] = "ft:%s:stub-org:%s:abc123" % (j["model"], j.get("suffix") or "")
        j["trained_tokens"] = 4321
        j["finished_at"] = int(time.time())


def paginate(items, q):
    limit = min(int(q.get("limit", ["20"])[0]), PAGE_CAP)
    after = q.get("after", [None])[0]
    start = 0
    if after:
        ids = [x["id"] for x in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    page = items[start:start + limit]
    out = {"object": "list", "data": page, "has_more": start + limit < len(items)}
    if page:
        out["first_id"], out["last_id"] = page[0]["id"], page[-1]["id"]
    return out


def parse_multipart(ctype, body):
    boundary = ctype.split("boundary=", 1)[1].strip().strip('"').encode()
    parts = {}
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        hdrs = {}
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        disp = hdrs.get("content-disposition", "")
        name = disp.split('name="', 1)[1].split('"', 1)[0]
        fn = disp.split('filename="', 1)[1].split('"', 1)[0] if 'filename="' in disp else None
        parts[name] = {"data": data, "filename": fn, "type": hdrs.get("content-type")}
    return parts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_stub_%d" % len(S.requests))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message, type_, param=None, code=None, headers=None):
        self.reply(status, {"error": {"message": message, "type": type_, "param": param,
                                      "code": code}}, headers)

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        p = url.path
        with S.lock:
            S.requests.append((method, self.path, dict(self.headers), body))
            if self.headers.get("Authorization") != "Bearer " + KEY:
                return self.error(401, "Incorrect API key provided: %s" %
                                  self.headers.get("Authorization", "").replace("Bearer ", ""),
                                  "invalid_request_error", code="invalid_api_key")
            if method == "POST" and p == "/v1/files":
                parts = parse_multipart(self.headers["Content-Type"], body)
                f = parts["file"]
                fid = "file-%d" % (len(S.files) + 1)
                obj = {"id": fid, "object": "file", "bytes": len(f["data"]),
                       "created_at": int(time.time()), "filename": f["filename"],
                       "purpose": parts["purpose"]["data"].decode(), "status": "processed",
                       "_type": f["type"]}
                S.files.append(obj)
                return self.reply(200, {k: v for k, v in obj.items() if k != "_type"})
            if method == "POST" and p == "/v1/fine_tuning/jobs":
                req = json.loads(body)
                fault = S.faults.pop(0) if S.faults else None
                if fault == "429":
                    return self.error(429, "Rate limit reached", "requests",
                                      code="rate_limit_exceeded", headers={"retry-after-ms": "100"})
                if fault == "quota":
                    return self.error(429, "You exceeded your current quota", "insufficient_quota",
                                      code="insufficient_quota")
                if req.get("training_file") == "file-bad":
                    return self.error(400, "invalid training file", "invalid_request_error",
                                      param="training_file")
                S.n += 1
                kind = "ok"
                if req.get("suffix") in ("fail", "stuck"):
                    kind = req["suffix"]
                j = {"id": "ftjob-%d" % S.n, "object": "fine_tuning.job",
                     "created_at": int(time.time()), "finished_at": None, "model": req["model"],
                     "fine_tuned_model": None, "organization_id": "org-stub",
                     "status": "validating_files", "error": None,
                     "hyperparameters": {"n_epochs": "auto"}, "method": req.get("method"),
                     "trained_tokens": None, "training_file": req["training_file"],
                     "validation_file": req.get("validation_file"), "result_files": [],
                     "seed": req.get("seed", 1), "suffix": req.get("suffix"),
                     "metadata": req.get("metadata"), "_kind": kind, "_step": 0, "_events": []}
                add_event(j, "info", "Created fine-tuning job")
                S.jobs.append(j)
                if fault == "500":
                    return self.error(500, "The server had an error", "server_error")
                if fault == "reset":
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return None
                return self.reply(200, job_view(j))
            if method == "GET" and p == "/v1/fine_tuning/jobs":
                items = list(reversed(S.jobs))
                for k, v in q.items():
                    if k.startswith("metadata[") and k.endswith("]"):
                        mk = k[len("metadata["):-1]
                        items = [j for j in items if (j.get("metadata") or {}).get(mk) == v[0]]
                return self.reply(200, paginate([job_view(j) for j in items], q))
            parts = p.split("/")
            if len(parts) >= 5 and p.startswith("/v1/fine_tuning/jobs/"):
                jid = parts[4]
                j = next((x for x in S.jobs if x["id"] == jid), None)
                if not j:
                    return self.error(404, "No such job: %s" % jid, "invalid_request_error",
                                      param="fine_tuning_job_id")
                tail = parts[5] if len(parts) > 5 else ""
                if method == "GET" and tail == "":
                    advance(j)
                    return self.reply(200, job_view(j))
                if method == "POST" and tail == "cancel":
                    if j["status"] not in ("succeeded", "failed", "cancelled"):
                        j["status"] = "cancelled"
                        add_event(j, "info", "Job cancelled")
                    return self.reply(200, job_view(j))
                if method == "GET" and tail == "events":
                    return self.reply(200, paginate(list(reversed(j["_events"])), q))
                if method == "GET" and tail == "checkpoints":
                    cps = [{"object": "fine_tuning.job.checkpoint", "id": "ftckpt_%d" % s,
                            "created_at": 1, "step_number": s,
                            "fine_tuned_model_checkpoint": "ft:%s:stub-org::abc123:ckpt-step-%d" %
                            (j["model"], s), "fine_tuning_job_id": jid,
                            "metrics": {"step": s, "train_loss": 1.0 / s}} for s in (30, 20, 10)]
                    return self.reply(200, paginate(cps, q))
            return self.error(404, "unknown path %s" % p, "invalid_request_error")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
BASE = "http://127.0.0.1:%d/v1" % server.server_address[1]
threading.Thread(target=server.serve_forever, daemon=True).start()

failures = []
ENV = dict(os.environ, FT_STUB_KEY=KEY)
ENV.pop("OPENAI_BASE_URL", None)


def ft(*args, env=None, timeout=60):
    cmd = [FTEVAL, "ft"] + list(args) + ["--base-url", BASE, "--api-key-env", "FT_STUB_KEY"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env or ENV, timeout=timeout)
    if KEY in r.stdout or KEY in r.stderr:
        failures.append("API key printed by: %s" % " ".join(args))
    return r


def check(cond, what, r=None):
    if cond:
        print("ok   " + what)
    else:
        extra = ""
        if r is not None:
            extra = "\n  exit %d\n  stdout: %s\n  stderr: %s" % (r.returncode, r.stdout, r.stderr)
        print("FAIL " + what + extra)
        failures.append(what)


def creates():
    return [r for r in S.requests if r[0] == "POST" and r[1] == "/v1/fine_tuning/jobs"]


tmp = tempfile.mkdtemp(prefix="ft_stub.")
train = os.path.join(tmp, "train.jsonl")
with open(train, "w") as f:
    for i in range(12):
        f.write(json.dumps({"messages": [
            {"role": "system", "content": "You answer arithmetic questions."},
            {"role": "user", "content": "What is %d plus %d?" % (i, 2 * i + 1)},
            {"role": "assistant", "content": str(3 * i + 1)}]}) + "\n")

# --- upload -------------------------------------------------------------------------------
r = ft("upload", train)
check(r.returncode == 0 and r.stdout.strip() == "file-1", "upload prints the file id", r)
f0 = S.files[0]
check(f0["filename"] == "train.jsonl" and f0["purpose"] == "fine-tune" and
      f0["_type"] == "application/octet-stream" and f0["bytes"] == os.path.getsize(train),
      "upload sends multipart file (filename, octet-stream) and purpose")
r = ft("upload", train, "--json")
try:
    obj = json.loads(r.stdout)
    check(r.returncode == 0 and obj["id"] == "file-2" and obj["object"] == "file",
          "upload --json prints the file object", r)
except ValueError:
    check(False, "upload --json prints JSON", r)

# data check refusal, only once the real data check is in the tree
dc = os.path.join(SRC, "harness", "data_check.c")
if os.path.exists(dc) and "PLACEHOLDER" not in open(dc).read():
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"messages": [{"role": "user", "content": "hi"}]}\nnot json\n')
    before = len(S.files)
    r = ft("upload", bad)
    check(r.returncode == 1 and "--force" in r.stderr and len(S.files) == before,
          "upload refuses blocking data-check findings (exit 1, nothing sent)", r)
    r = ft("upload", bad, "--force")
    check(r.returncode == 0 and len(S.files) == before + 1, "upload --force uploads anyway", r)
else:
    print("skip data-check refusal: data_check.c is still the placeholder")
r = ft("upload", os.path.join(tmp, "missing.jsonl"))
check(r.returncode != 0 and "missing.jsonl" in r.stderr, "upload of a missing file fails clearly", r)

# --- create -------------------------------------------------------------------------------
r = ft("create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", "file-1",
       "--n-epochs", "2", "--suffix", "demo", "--json")
job = json.loads(r.stdout) if r.returncode == 0 else {}
sent = json.loads(creates()[-1][3])
check(job.get("id") == S.jobs[-1]["id"] and job.get("object") == "fine_tuning.job",
      "create --json prints the job", r)
check(sent["method"] == {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}}
      and "hyperparameters" not in sent and sent["metadata"]["fteval_client_id"].startswith("fteval-"),
      "create body uses method{} and tags metadata.fteval_client_id")
first_job = job.get("id")

for fault in ("500", "reset"):
    n_jobs, n_creates = len(S.jobs), len(creates())
    S.faults.append(fault)
    r = ft("create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", "file-1")
    check(r.returncode == 0 and len(S.jobs) == n_jobs + 1 and len(creates()) == n_creates + 1
          and r.stdout.strip() == S.jobs[-1]["id"] and "found job" in r.stderr,
          "create after an ambiguous %s finds the recorded job instead of duplicating it" % fault, r)

n_creates = len(creates())
S.faults.append("429")
t0 = time.time()
r = ft("create", "--model", "m", "--training-file", "file-1")
check(r.returncode == 0 and len(creates()) == n_creates + 2 and time.time() - t0 < 5,
      "create retries a 429 after retry-after-ms", r)

n_creates = len(creates())
S.faults.append("quota")
r = ft("create", "--model", "m", "--training-file", "file-1")
check(r.returncode == 4 and len(creates()) == n_creates + 1 and "insufficient_quota" in r.stderr,
      "insufficient_quota fails fast (no retry, exit 4)", r)

r = ft("create", "--model", "m", "--training-file", "file-bad")
check(r.returncode == 4 and r.stderr.startswith(
    "fteval: error: create job: 400 invalid_request_error: invalid training file "
    "(param training_file)"), "API error is shown as status, type, message and param", r)

n_jobs = len(S.jobs)
r1 = ft("create", "--model", "m", "--training-file", "file-1", "--client-id", "my-run-7")
r2 = ft("create", "--model", "m", "--training-file", "file-1", "--client-id", "my-run-7")
check(r1.returncode == 0 and r2.returncode == 0 and r1.stdout == r2.stdout and
      len(S.jobs) == n_jobs + 1, "create --client-id is idempotent across invocations", r2)

for bad_args, what in ((["--model", "m"], "missing --training-file"),
                       (["--model", "m", "--training-file", "f", "--n-epochs", "0"], "n_epochs 0"),
                       (["--model", "m", "--training-file", "f", "--beta", "0.1"], "beta without dpo"),
                       (["--model", "m", "--training-file", "f", "--method", "rl"], "bad method")):
    n_creates = len(creates())
    r = ft("create", *bad_args)
    check(r.returncode == 2 and len(creates()) == n_creates, "usage error: " + what, r)

env = dict(ENV)
env.pop("FT_STUB_KEY")
r = ft("status", "ftjob-1", env=env)
check(r.returncode == 2 and "FT_STUB_KEY" in r.stderr, "unset key variable is a clear error", r)
env = dict(ENV, FT_STUB_KEY="sk-wrong-key-0000")
r = subprocess.run([FTEVAL, "ft", "status", "ftjob-1", "--base-url", BASE, "--api-key-env",
                    "FT_STUB_KEY"], capture_output=True, text=True, env=env)
check(r.returncode == 4 and "sk-wrong-key-0000" not in r.stderr and "[REDACTED]" in r.stderr,
      "a key echoed back in an error body is redacted", r)

# --- wait, status, events, checkpoints, cancel, list ----------------------------------------
r = ft("wait", first_job, "--poll-interval", "0.2", "--timeout", "30")
check(r.returncode == 0 and r.stdout.strip() ==
      "ft:gpt-4o-mini-2024-07-18:stub-org:demo:abc123", "wait prints the fine-tuned model", r)
check("Status: running" in r.stderr and "unknown status 'paused'" in r.stderr and
      r.stderr.count("Created fine-tuning job") == 1, "wait prints new events once and logs "
      "unknown statuses", r)
r = ft("status", first_job, "--json")
check(r.returncode == 0 and json.loads(r.stdout)["trained_tokens"] == 4321, "status --json", r)
r = ft("status", first_job)
check(r.returncode == 0 and "succeeded" in r.stdout and "4321" in r.stdout, "status text", r)
r = ft("events", first_job, "--limit", "5")
lines = r.stdout.strip().split("\n")
check(r.returncode == 0 and len(lines) == 5 and lines[-1].endswith("Status: succeeded"),
      "events --limit 5 pages through and prints oldest first", r)
r = ft("checkpoints", first_job)
rows = r.stdout.strip().split("\n")
check(r.returncode == 0 and len(rows) == 4 and rows[1].startswith("10\t"), "checkpoints (paged)", r)

r = ft("create", "--model", "m", "--training-file", "file-1", "--suffix", "fail")
r = ft("wait", r.stdout.strip(), "--poll-interval", "0.1", "--timeout", "30", "--json")
check(r.returncode == 1 and json.loads(r.stdout)["status"] == "failed" and
      "line 3 is not valid" in r.stderr, "wait on a failed job exits 1", r)
r = ft("create", "--model", "m", "--training-file", "file-1", "--suffix", "stuck")
stuck = r.stdout.strip()
r = ft("wait", stuck, "--poll-interval", "0.1", "--timeout", "0.5")
check(r.returncode == 4 and "timed out" in r.stderr, "wait timeout exits 4", r)
r = ft("cancel", stuck)
check(r.returncode == 0 and r.stdout.strip() == stuck + " cancelled", "cancel", r)
r = ft("wait", stuck, "--poll-interval", "0.1")
check(r.returncode == 1, "wait on a cancelled job exits 1", r)

n_get = len(S.requests)
r = ft("list", "--limit", "5", "--json")
lst = json.loads(r.stdout) if r.returncode == 0 else {}
ids = [j["id"] for j in lst.get("data", [])]
check(r.returncode == 0 and len(ids) == 5 and len(set(ids)) == 5 and lst["has_more"] and
      len(S.requests) - n_get == 3, "list --limit 5 follows the cursor over 3 pages", r)
r = ft("status", "ftjob-nope")
check(r.returncode == 4 and "404" in r.stderr and "ftjob-nope" in r.stderr, "unknown job: 404", r)

for m, _, h, _ in S.requests:
    if h.get("Authorization") not in ("Bearer " + KEY, "Bearer sk-wrong-key-0000"):
        failures.append("request without the bearer key: %s %s" % (m, h))
        break

server.shutdown()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
