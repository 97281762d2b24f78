"""Reliability end to end (issue 4): one case per fault kind injected by `fteval sim`, asserting
the outcome — success after retries with the right attempt count, waits of at least the advertised
retry-after, an exhausted quota never retried, errors recorded per example when retries run out,
and the RPM bucket keeping a run under its limit."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, 12)
profile = os.path.join(d, "profile.json")
fte.write_json(profile, {"rules": [{"name": "all", "model": "*", "accuracy": 0.9, "retry_after_ms": 300}]})


def case(name, faults, max_retries=4, timeout_s=10, concurrency=4, extra=None):
    log = os.path.join(d, f"{name}.log")
    args = ["--dataset", data, "--profile", profile, "--seed", "5"]
    for f in faults:
        args += ["--fault", f]
    sim = fte.Sim(*args, log=log)
    cfg = fte.config(os.path.join(d, f"{name}.json"), data, sim.url,
                     defaults={"max_retries": max_retries, "timeout_s": timeout_s, "concurrency": concurrency},
                     **(extra or {}))
    out = os.path.join(d, name)
    p = fte.run("run", cfg, "--out", out, "--quiet")
    sim.stop()
    recs = fte.read_jsonl(os.path.join(out, "base.jsonl")) if os.path.exists(os.path.join(out, "base.jsonl")) else []
    reqs = fte.read_jsonl(log)
    return p, recs, reqs


def all_ok_with(name, recs, attempts):
    t(len(recs) == 12, f"{name}: 12 records")
    t(all(r["status"] == "ok" for r in recs), f"{name}: every example answered after retries")
    got = sorted({r["attempts"] for r in recs})
    t(got == [attempts], f"{name}: attempts {got}, want [{attempts}]")


# 429 with retry-after-ms 300, twice per example: 3 attempts, and at least 2 x 300 ms waited.
p, recs, reqs = case("rate_limit", ["rate_limit:first=2"])
t(p.returncode == 0, f"rate_limit: exit {p.returncode} {p.stderr}")
all_ok_with("rate_limit", recs, 3)
t(p.elapsed >= 0.6, f"rate_limit: took {p.elapsed:.2f}s, must wait at least 2 x 300 ms")
t(len(reqs) == 36, f"rate_limit: sim saw {len(reqs)} requests, want 36")

for kind, k in (("server_error", 2), ("unavailable", 1), ("reset", 1), ("close", 1), ("truncate", 2),
                ("malformed", 1)):
    p, recs, reqs = case(kind, [f"{kind}:first={k}"])
    t(p.returncode == 0, f"{kind}: exit {p.returncode} {p.stderr}")
    if kind in ("reset", "close"):
        # a connection dropped before any answer on a reused keep-alive connection is re-sent by
        # libcurl itself (one attempt for fteval): the sim must still see exactly k + 1 per example
        t(len(recs) == 12 and all(r["status"] == "ok" and 1 <= r["attempts"] <= k + 1 for r in recs),
          f"{kind}: every example answered")
        t(len(reqs) == 12 * (k + 1), f"{kind}: sim saw {len(reqs)} requests, want {12 * (k + 1)}")
    else:
        all_ok_with(kind, recs, k + 1)

# A stalled server: the per-request timeout fires and the retry succeeds.
p, recs, reqs = case("stall", ["stall:first=1"], timeout_s=1)
t(p.returncode == 0, f"stall: exit {p.returncode} {p.stderr}")
all_ok_with("stall", recs, 2)
t(p.elapsed >= 1.0 and p.elapsed < 30, f"stall: took {p.elapsed:.2f}s")

# Retries run out: each example is recorded as failed, the run goes on, the error gate fails.
p, recs, reqs = case("exhausted", ["server_error:first=10"], max_retries=2)
t(p.returncode == 1, f"exhausted: exit {p.returncode}, want 1 (error rate gate)")
t(len(recs) == 12 and all(r["status"] == "error" and r["attempts"] == 3 and r["error"]["kind"] == "server_error"
                          and r["error"]["http_status"] == 500 and r["scores"]["exact_match"] == 0 for r in recs),
  "exhausted: 12 failed records with 3 attempts, scored 0")
s = json.load(open(os.path.join(d, "exhausted", "summary.json")))
t(s["arms"]["base"]["n"] == 12 and s["arms"]["base"]["n_errors"] == 12, "exhausted: failures stay in the denominator")

# Exhausted quota: never retried, the provider is stopped, exit 4 with a resume command.
p, recs, reqs = case("quota", ["quota:first=1"], concurrency=2)
t(p.returncode == 4, f"quota: exit {p.returncode}, want 4")
t("quota exhausted" in p.stderr and "resume with: fteval run" in p.stderr, f"quota: message: {p.stderr}")
t(len(reqs) <= 2, f"quota: {len(reqs)} requests sent, want only those in flight (<= 2)")
t(all(r["attempts"] == 1 and r["error"]["kind"] == "insufficient_quota" for r in recs), "quota: never retried")
m = json.load(open(os.path.join(d, "quota", "manifest.json")))
t(m["status"] == "incomplete", f"quota: manifest status {m['status']}")

# Resuming after the quota came back completes the run without re-sending anything finished.
# (the same base_url: it is part of the run's fingerprint, so the server comes back on its port)
cfg = os.path.join(d, "quota.json")
port = json.load(open(cfg))["providers"]["sim"]["base_url"].split(":")[2].split("/")[0]
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5", "--port", port,
              log=os.path.join(d, "quota2.log"))
p = fte.run("run", cfg, "--out", os.path.join(d, "quota"), "--resume", "--quiet")
sim.stop()
recs = fte.read_jsonl(os.path.join(d, "quota", "base.jsonl"))
final = {}
for r in recs:
    final[r["id"]] = r
t(p.returncode == 0 and len(final) == 12 and all(r["status"] == "ok" for r in final.values()),
  f"quota: resumed to completion (exit {p.returncode})")

# Client-side RPM bucket: 12 requests at rpm 240 (4/s, burst 4) take at least ~2 s.
p, recs, reqs = case("rpm", [], extra={"providers": {"sim": {"rpm": 240}}})
t(p.returncode == 0 and len(recs) == 12, f"rpm: exit {p.returncode}")
t(p.elapsed >= 1.8, f"rpm: 12 requests at 240 rpm took {p.elapsed:.2f}s, want >= 1.8s")

# Proactive pause from x-ratelimit-* headers: a server that answers every request with
# remaining-requests 0 and a 500 ms reset. The runner must wait for the reset before the next
# request instead of collecting 429s: 4 sequential requests take at least 3 x 0.5 s.
import http.server  # noqa: E402
import threading  # noqa: E402


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    times = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        Handler.times.append(__import__("time").monotonic())
        body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "alpha"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-ratelimit-remaining-requests", "0")
        self.send_header("x-ratelimit-reset-requests", "500ms")
        self.end_headers()
        self.wfile.write(body)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
small = os.path.join(d, "small.jsonl")
fte.plain_dataset(small, 4)
cfg = fte.config(os.path.join(d, "headers.json"), small, f"http://127.0.0.1:{srv.server_address[1]}/v1",
                 defaults={"concurrency": 1})
p = fte.run("run", cfg, "--out", os.path.join(d, "headers"), "--quiet")
srv.shutdown()
gaps = [b - a for a, b in zip(Handler.times, Handler.times[1:])]
t(p.returncode == 0 and len(Handler.times) == 4, f"headers: exit {p.returncode}, {len(Handler.times)} requests")
t(gaps and min(gaps) >= 0.45, f"headers: gaps between requests {gaps}, want >= 0.5 s (reset)")
t.done()
