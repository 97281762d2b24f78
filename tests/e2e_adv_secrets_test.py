"""Issue 11 §6 against the adversarial server (tests/lib/advserver.py): nothing secret is written,
nothing read is changed.

- a server that echoes the key into the answer, the x-request-id header and an HTML error page cut
  at 300 bytes: neither the key nor its first characters appear in any file under the run and
  cache directories, nor on stdout/stderr (redaction happens before any truncation);
- the cache key holds base_url: the same provider name pointed at another server misses;
- "\\u0000" in content keeps the whole text (the NUL becomes U+FFFD, flagged replaced_chars);
  a lone surrogate likewise instead of "not a JSON object" and a retry; a gzip body is decoded
  (fteval asks for gzip/deflate); none of them is retried (request counts);
- a 200 carrying {"error": ...} keeps the server's message; a redirect records its status and
  Location, and is not retried.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import adv  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 6
data = os.path.join(d, "data.jsonl")
rows = fte.plain_dataset(data, N)
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
KEY = "sk-adv-SECRET-5f0c1d2e3b4a59687766554433221100"
ENV = {"FTE_ADV_KEY": KEY}


def run(name, script, max_retries=0, extra=(), srv=None, cache=False):
    """Runs fteval against a fresh server (or srv) in <d>/<name>/run; cache under <d>/<name>/.cache."""
    srv = srv or adv.Adv(d, name, script)
    cfg = os.path.join(d, f"{name}.json")
    fte.config(cfg, data, srv.url, defaults={"concurrency": 2, "max_retries": max_retries, "timeout_s": 10},
               providers={"sim": {"api_key_env": "FTE_ADV_KEY"}})
    out = os.path.join(d, name, "run")
    args = ["run", cfg, "--out", out, "--quiet", *extra] + (["--cache"] if cache else [])
    p = fte.run(*args, env=ENV, timeout=120)
    path = os.path.join(out, "base.jsonl")
    recs = fte.read_jsonl(path) if os.path.exists(path) else []
    return p, {r["id"]: r for r in recs}, srv, out


def files_holding(root, needle):
    hits = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            path = os.path.join(dirpath, n)
            with open(path, "rb") as f:
                if needle.encode() in f.read():
                    hits.append(os.path.relpath(path, root))
    return hits


# ---- 1. the key echoed everywhere a server can put it ------------------------------------------
PAD = "x" * 255  # the key starts at byte 284 of the page: its first 16 bytes fall inside the first 300
p, recs, srv, out = run("echo", {
    "rules": [{"when": {"every": 2}, "do": {"status": 500, "name": "html",
                                            "body": f"<html><body>{PAD} you sent {{auth}} </body></html>"}}],
    "default": {"echo_key": True, "headers": {"x-request-id": "req-{auth}"}}}, cache=True)
log = srv.log()
t(len(log) == N and all(e["authorization"] == f"Bearer {KEY}" for e in log), f"echo: the key was sent ({len(log)})")
ok = [r for r in recs.values() if r["status"] == "ok"]
html = [r for r in recs.values() if r["status"] == "error"]
t(len(ok) == N // 2 and len(html) == N // 2, f"echo: {len(ok)} answers, {len(html)} HTML errors")
t(all(r["prediction"] == "you sent Bearer [REDACTED]" for r in ok), f"echo: prediction redacted: {[r['prediction'] for r in ok]}")
t(all(r.get("request_id") == "req-Bearer [REDACTED]" for r in ok), f"echo: request_id redacted: {[r.get('request_id') for r in ok]}")
t(all(r["error"]["message"].endswith(" you sent Bearer [REDACTED] </bod") for r in html),
  f"echo: the HTML page redacted, then cut at 300 bytes: {[r['error']['message'][-40:] for r in html]}")
cache_files = [f for f in files_holding(os.path.join(d, "echo"), "[REDACTED]") if f.startswith(".cache")]
t(len(cache_files) == N // 2, f"echo: {len(cache_files)} cache bodies hold the redacted echo, want {N // 2}")
for needle in (KEY, KEY[:10], KEY[-12:]):
    hits = files_holding(os.path.join(d, "echo"), needle)
    t(not hits, f"echo: {needle!r} written in {hits}")
    t(needle not in p.stdout and needle not in p.stderr, f"echo: {needle!r} printed")

# ---- 2. the cache key holds base_url -------------------------------------------------------------
srv_a = adv.Adv(d, "cache-a", {})
p, recs, _, _ = run("cache", {}, srv=srv_a, cache=True)
t(p.returncode == 0 and len(srv_a.log()) == N, f"cache: first run sent {len(srv_a.log())}, want {N}")
srv_b = adv.Adv(d, "cache-b", {"default": {"answer": "from-b"}})
p, recs, _, _ = run("cache", {}, srv=srv_b, cache=True, extra=("--out", os.path.join(d, "cache", "run-b")))
t(len(srv_b.log()) == N, f"cache: the other server got {len(srv_b.log())} requests, want {N} (no answer from A's cache)")
preds = fte.read_jsonl(os.path.join(d, "cache", "run-b", "base.jsonl"))
t(all(r["prediction"] == "from-b" and not r["cache_hit"] for r in preds), "cache: B's answers, not A's")
p, _, _, _ = run("cache", {}, srv=srv_a, cache=True, extra=("--out", os.path.join(d, "cache", "run-a2")))
again = fte.read_jsonl(os.path.join(d, "cache", "run-a2", "base.jsonl"))
t(len(srv_a.log()) == N and all(r["cache_hit"] for r in again), f"cache: back on A, every answer from the cache "
  f"({len(srv_a.log())} requests)")

# ---- 3. text the JSON parser would lose, and encodings --------------------------------------------
CASES = [
    ("nul", {"content_json": '"left\\u0000right"'}, "left\ufffdright", 1),
    ("surrogate", {"content_json": '"x\\ud800y\\udc00z"'}, "x\ufffdy\ufffdz", 2),
    ("pair", {"content_json": '"ok \\ud83d\\ude00"'}, "ok \U0001F600", 0),
    ("gzip", {"gzip": True}, None, 0),
]
for name, do, want, replaced in CASES:
    p, recs, srv, _ = run(name, {"default": do}, max_retries=3)
    log = srv.log()
    t(len(log) == N, f"{name}: {len(log)} requests, want {N} (nothing retried)")
    t(len(recs) == N and all(r["status"] == "ok" and r["attempts"] == 1 for r in recs.values()),
      f"{name}: every answer kept after one attempt: {[r.get('error') for r in recs.values()][:2]}")
    for row in rows:
        r = recs.get(row["id"], {})
        exp = want if want is not None else WORDS[int(row["id"].split("-")[1]) % 8]
        t(r.get("prediction") == exp, f"{name}: prediction {r.get('prediction')!r}, want {exp!r}")
        t(r.get("replaced_chars", 0) == replaced, f"{name}: replaced_chars {r.get('replaced_chars')}, want {replaced}")
    if name == "gzip":
        t(all("gzip" in e["accept_encoding"] for e in log), f"gzip: fteval asks for it: {log[0]['accept_encoding']!r}")

# ---- 4. a 200 that carries an error; a redirect ----------------------------------------------------
p, recs, srv, _ = run("err200", {"default": {"status": 200, "body": '{"error": {"message": "upstream model '
                                             'overloaded, try later", "type": "server_error", "code": null}}'}},
                      max_retries=1)
t(len(srv.log()) == 2 * N, f"err200: {len(srv.log())} requests, want {2 * N} (retried once, like any bad answer)")
t(all(r["status"] == "error" and r["error"]["http_status"] == 200 and
      r["error"]["message"] == "HTTP 200 with an error body: server_error: upstream model overloaded, try later"
      for r in recs.values()), f"err200: the server's message kept: {[r['error'] for r in recs.values()][:1]}")

LOC = "https://elsewhere.example/v1/chat/completions"
p, recs, srv, _ = run("redirect", {"default": {"status": 301, "headers": {"Location": LOC},
                                               "body": "<html>Moved</html>"}}, max_retries=3)
t(len(srv.log()) == N, f"redirect: {len(srv.log())} requests, want {N} (never retried)")
want_msg = f"HTTP 301 redirect to {LOC} (redirects are not followed: check base_url): <html>Moved</html>"
t(all(r["status"] == "error" and r["error"]["http_status"] == 301 and r["error"]["message"] == want_msg
      and r["attempts"] == 1 for r in recs.values()),
  f"redirect: status and Location recorded: {[r['error'] for r in recs.values()][:1]}")

t.done()
