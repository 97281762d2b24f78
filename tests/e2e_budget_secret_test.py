"""Budget and secrets (issue 4). The budget is never exceeded: the run stops with exit 4 and says
so, and what was spent stays at or under budget.max_usd. The API key's value appears in no output
file, no stdout or stderr line and no request log — also not when a server echoes it back."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, 200)
sim = fte.Sim("--dataset", data, "--seed", "2", log=os.path.join(d, "sim.log"))
prices = {"currency": "USD", "unit": "per_1m_tokens",
          "models": {"m": {"input": 1000.0, "cached_input": 500.0, "output": 2000.0, "source": "test",
                           "as_of": "2026-11-25"}}}
cfg = fte.config(os.path.join(d, "budget.json"), data, sim.url, [{"name": "a", "provider": "sim", "model": "m"}],
                 prices=prices, budget={"max_usd": 1.0}, defaults={"concurrency": 8})
p = fte.run("run", cfg, "--out", os.path.join(d, "budget"), "--quiet")
t(p.returncode == 4, f"budget: exit {p.returncode}, want 4")
t("budget exhausted" in p.stderr and "resume with" in p.stderr, f"budget: message {p.stderr}")
recs = fte.read_jsonl(os.path.join(d, "budget", "a.jsonl"))
spent = sum(r["cost_usd"] or 0 for r in recs)
t(0 < len(recs) < 200, f"budget: stopped early ({len(recs)} records)")
t(spent <= 1.0, f"budget: spent ${spent:.4f} > max $1")
p = fte.run("run", cfg, "--dry-run")
t(p.returncode == 1 and "exceeds the budget" in p.stdout, f"dry run flags the budget: {p.returncode} {p.stdout}")
t(len(fte.read_jsonl(os.path.join(d, "sim.log"))) == len(recs), "the dry run sent nothing")

# An arm without a price cannot be budgeted: refused before sending.
cfg2 = fte.config(os.path.join(d, "nobudget.json"), data, sim.url, [{"name": "a", "provider": "sim", "model": "zzz"}],
                  prices=prices, budget={"max_usd": 1.0})
p = fte.run("run", cfg2, "--out", os.path.join(d, "nb"))
t(p.returncode == 3 and "no price for model 'zzz'" in p.stderr, f"unpriced budget refused: {p.stderr}")

# Secrets: a key that a server echoes in its error message must still never be written.
KEY = "sk-fteval-SECRET-0123456789abcdef"
import http.server  # noqa: E402
import threading  # noqa: E402


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": {"message": "Incorrect API key provided: " + self.headers["Authorization"],
                                     "type": "invalid_request_error", "code": "invalid_api_key"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
threading.Thread(target=srv.serve_forever, daemon=True).start()
small = os.path.join(d, "small.jsonl")
fte.plain_dataset(small, 5)
outs = []
for name, url in (("ok", sim.url), ("echo", f"http://127.0.0.1:{srv.server_address[1]}/v1")):
    c = fte.config(os.path.join(d, f"s-{name}.json"), small, url, [{"name": "a", "provider": "sim", "model": "m"}],
                   providers={"sim": {"api_key_env": "FTEVAL_TEST_KEY"}}, max_error_rate=1)
    p = fte.run("run", c, "--out", os.path.join(d, f"s-{name}"), "--verbose", env={"FTEVAL_TEST_KEY": KEY})
    outs.append(p.stdout + p.stderr)
    # a 401 on the first request stops the run (issue 11 §1) with the server's (redacted) message
    want = 4 if name == "echo" else 0
    t(p.returncode == want, f"secret/{name}: exit {p.returncode}, want {want}: {p.stderr}")
    if name == "echo":
        t("HTTP 401" in p.stderr and "Incorrect API key provided: Bearer [REDACTED]" in p.stderr,
          f"secret/echo: the server's own message, redacted: {p.stderr}")
srv.shutdown()
recs = fte.read_jsonl(os.path.join(d, "s-echo", "a.jsonl"))
t(len(recs) == 1, f"secret/echo: {len(recs)} records, want 1 (the first request alone, then the stop)")
t(len(recs) == 1 and all(r["error"]["kind"] == "auth" and "[REDACTED]" in r["error"]["message"] for r in recs),
  "the echoed key is redacted in the error records")
t(len(recs) == 1 and all(r["attempts"] == 1 for r in recs), "401 is not retried and stops the run after one request")
sim.stop()
leaks = [f for f in glob.glob(os.path.join(d, "**", "*"), recursive=True)
         if os.path.isfile(f) and KEY.encode() in open(f, "rb").read()]
t(not leaks, f"the key appears in {leaks}")
t(all(KEY not in o for o in outs), "the key appears in no stdout/stderr")
t.done()
