"""The runner's flow control end to end, against a programmable loopback server (tests/lib/advserver.py, in process)
whose request log gives exact counts and arrival times:
  - x-ratelimit-remaining-tokens below the request's estimate pauses the provider until the reset;
  - a 429 pauses the whole provider (not just the failed request) for its retry-after;
  - the TPM bucket spaces requests by their estimated tokens (estimate computed here from
    docs/decision.md, not read from fteval);
  - x-should-retry overrides the status (false: a 500 is final; true: a 400 is retried);
  - a retry-after above the cap waits the cap (providers.<name>.max_wait_s), not the server's hour;
  - a response over 8 MiB is recorded as malformed and never retried;
  - --concurrency bounds the requests in flight (observed by the server); --limit N sends N.
Each case runs in about a second."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from advserver import FakeAPI, Reply, openai_answer, openai_error, gold_answer  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
MAX_TOKENS = 16


def request_estimate(prompt):
    return fte.estimate_request_tokens([prompt]) + MAX_TOKENS  # the runner reserves the cap too


def case(name, handler, n=4, defaults=None, providers=None, args=(), env=None):
    api = FakeAPI(handler)
    data = os.path.join(d, f"{name}.jsonl")
    rows = fte.plain_dataset(data, n)
    cfg = fte.config(os.path.join(d, f"{name}.json"), data, api.url,
                     defaults=dict({"max_tokens": MAX_TOKENS, "max_retries": 3}, **(defaults or {})),
                     providers={"sim": providers or {}})
    out = os.path.join(d, name)
    p = fte.run("run", cfg, "--out", out, "--quiet", *args, env=env)
    api.stop()
    path = os.path.join(out, "base.jsonl")
    recs = fte.read_jsonl(path) if os.path.exists(path) else []
    reqs = sorted(api.requests, key=lambda r: r.t0)
    return p, recs, reqs, api, rows


def ok_records(name, recs, n, attempts=None):
    t(len(recs) == n and all(r["status"] == "ok" for r in recs), f"{name}: {n} ok records")
    if attempts is not None:
        got = sorted(r["attempts"] for r in recs)
        t(got == sorted(attempts), f"{name}: attempts {got}, want {sorted(attempts)}")


# 1. x-ratelimit-remaining-tokens below the estimate, reset 400ms: every request waits for the reset.
def low_tokens(req):
    return Reply(200, openai_answer(gold_answer(req)),
                 {"x-ratelimit-remaining-tokens": "5", "x-ratelimit-reset-tokens": "400ms",
                  "x-ratelimit-remaining-requests": "100", "x-ratelimit-reset-requests": "1ms"})


p, recs, reqs, _, _ = case("tokens_header", low_tokens, defaults={"concurrency": 1})
t(p.returncode == 0, f"tokens_header: exit {p.returncode} {p.stderr}")
ok_records("tokens_header", recs, 4, [1, 1, 1, 1])
gaps = [b.t0 - a.t1 for a, b in zip(reqs, reqs[1:])]
t(len(reqs) == 4 and min(gaps) >= 0.37, f"tokens_header: gaps after each answer {gaps}, want >= 0.4 s")


# ... and the same headers with plenty of tokens left: no pause (the comparison is what matters).
def many_tokens(req):
    return Reply(200, openai_answer(gold_answer(req)),
                 {"x-ratelimit-remaining-tokens": "100000", "x-ratelimit-reset-tokens": "400ms"})


p, recs, reqs, _, _ = case("tokens_plenty", many_tokens, defaults={"concurrency": 1})
gaps = [b.t0 - a.t1 for a, b in zip(reqs, reqs[1:])]
t(p.returncode == 0 and len(reqs) == 4 and max(gaps) < 0.35, f"tokens_plenty: gaps {gaps}, want no pause (0.4 s)")


# 2. One 429 (retry-after-ms 600) pauses the provider: with concurrency 1, the next example is not
# sent while the failed one waits.
def first_429(req):
    if req.example == 0 and not getattr(first_429, "done", False):
        first_429.done = True
        r = openai_error(429, "Rate limit reached", "requests", "rate_limit_exceeded")
        r.headers = {"retry-after-ms": "600", "retry-after": "1"}
        return r
    return None


p, recs, reqs, _, _ = case("provider_pause", first_429, defaults={"concurrency": 1})
t(p.returncode == 0, f"provider_pause: exit {p.returncode} {p.stderr}")
ok_records("provider_pause", recs, 4, [2, 1, 1, 1])
t(len(reqs) == 5, f"provider_pause: {len(reqs)} requests, want 5")
if len(reqs) >= 2:
    wait = reqs[1].t0 - reqs[0].t1
    t(wait >= 0.55, f"provider_pause: next request {wait:.3f} s after the 429, want >= 0.6 s (provider-wide)")

# 3. TPM bucket: tpm = 4 requests' worth per second; capacity one second, full at start. Request k
# (0-based) can start at (k - 3) / 4 s at the earliest: 12 requests span >= 2 s, and at most 5 can
# start in the first 0.45 s (one more allowed for a late first arrival). Without the bucket all 12
# arrive at once. Counts over windows, not per-request times, so a slow server thread cannot flake.
rows = fte.plain_dataset(os.path.join(d, "probe.jsonl"), 12)
est = {request_estimate(r["input"]) for r in rows}
t(len(est) == 1, f"tpm: every request has the same estimate {est}")
E = est.pop()
p, recs, reqs, _, _ = case("tpm", None, n=12, providers={"tpm": 60 * 4 * E})
t(p.returncode == 0, f"tpm: exit {p.returncode} {p.stderr}")
ok_records("tpm", recs, 12)
rel = [round(r.t0 - reqs[0].t0, 3) for r in reqs]
t(len(reqs) == 12 and rel[-1] >= 1.9, f"tpm ({E} tokens/request): 12 requests span {rel[-1] if rel else 0} s, want >= 2 s")
t(sum(x < 0.45 for x in rel) <= 6, f"tpm: {sum(x < 0.45 for x in rel)} requests in the first 0.45 s, want <= 5 (+1): {rel}")
t(len(reqs) == 12 and rel[-1] < 4.0, "tpm: not slower than the bucket needs")


# 4. x-should-retry: false makes a 500 final; true makes a 400 retryable.
def no_retry_500(req):
    r = openai_error(500, "boom", "server_error")
    r.headers = {"x-should-retry": "false"}
    return r


p, recs, reqs, _, _ = case("should_retry_false", no_retry_500, n=2)
t(len(reqs) == 2, f"x-should-retry false: {len(reqs)} requests, want 2 (no retry)")
t(len(recs) == 2 and all(r["status"] == "error" and r["attempts"] == 1 and r["error"]["kind"] == "server_error"
                         for r in recs), "x-should-retry false: errors after 1 attempt")


def retry_400_once(req):
    seen = retry_400_once.seen
    seen[req.example] = seen.get(req.example, 0) + 1
    if seen[req.example] == 1:
        r = openai_error(400, "try again")
        r.headers = {"x-should-retry": "true", "retry-after-ms": "10"}
        return r
    return None


retry_400_once.seen = {}
p, recs, reqs, _, _ = case("should_retry_true", retry_400_once, n=2)
t(p.returncode == 0 and len(reqs) == 4, f"x-should-retry true: {len(reqs)} requests, want 4")
ok_records("x-should-retry true", recs, 2, [2, 2])


# 5. retry-after of an hour is capped (cap 0.5 s here): the retry comes after ~0.5 s.
def hour_429(req):
    if not hour_429.done:
        hour_429.done = True
        r = openai_error(429, "slow down", "requests", "rate_limit_exceeded")
        r.headers = {"retry-after": "3600"}
        return r
    return None


hour_429.done = False
p, recs, reqs, _, _ = case("retry_after_cap", hour_429, n=1, providers={"max_wait_s": 0.5})
t(p.returncode == 0 and len(reqs) == 2, f"retry-after cap: exit {p.returncode}, {len(reqs)} requests")
if len(reqs) == 2:
    w = reqs[1].t0 - reqs[0].t1
    t(0.45 <= w < 5, f"retry-after cap: retried after {w:.3f} s, want the 0.5 s cap")
ok_records("retry-after cap", recs, 1, [2])

# 6. A 200 over 8 MiB: malformed, not retried (max_retries 3).
big = b'{"id": "x", "pad": "' + b"x" * (9 << 20) + b'"}'
p, recs, reqs, _, _ = case("too_big", lambda req: Reply(200, raw=big), n=1)
t(len(reqs) == 1, f"> 8 MiB: {len(reqs)} requests, want 1 (never retried)")
t(len(recs) == 1 and recs[0]["status"] == "error" and recs[0]["attempts"] == 1
  and recs[0]["error"]["kind"] == "malformed_response" and "8 MiB" in (recs[0]["error"].get("message") or ""),
  f"> 8 MiB: recorded as malformed after 1 attempt: {recs[0]['error'] if recs else None}")

# 7. --concurrency 3 over the config's 16: the server never sees more than 3 at once, and sees 3.
p, recs, reqs, api, _ = case("concurrency", lambda req: Reply(200, openai_answer(gold_answer(req)), delay=0.25),
                             n=9, defaults={"concurrency": 16}, args=("--concurrency", "3"))
t(p.returncode == 0 and len(reqs) == 9, f"--concurrency: exit {p.returncode}, {len(reqs)} requests")
t(api.max_in_flight == 3, f"--concurrency 3: {api.max_in_flight} requests in flight at most, want 3")
ok_records("--concurrency", recs, 9)

# 8. --limit 5 of 12: exactly the first five examples are sent and recorded.
p, recs, reqs, _, rows = case("limit", None, n=12, args=("--limit", "5"))
t(p.returncode == 0 and len(reqs) == 5, f"--limit 5: exit {p.returncode}, {len(reqs)} requests")
t(sorted(r["id"] for r in recs) == [r["id"] for r in rows[:5]], "--limit 5: the first five ids recorded")
t(sorted(r.example for r in reqs) == [0, 1, 2, 3, 4], "--limit 5: the first five examples sent")
t.done()
