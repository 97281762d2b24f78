"""Streams from a misbehaving server (issue 15), on the loopback server of tests/lib/advserver.py,
with more examples (40) than the runner's read-ahead window (concurrency 4: 2 x 4 + 16 = 24):

- a stream that stalls (headers and a keep-alive comment, then nothing) past first_token_timeout_s
  is a timeout, retried; the retry answers;
- a stream of garbage events (not JSON) is a malformed response, retried;
- an SSE error event mid-stream (after content): server_error is retried, invalid_request_error is
  a final bad_request; the partial content is never recorded as the answer;
- a connection closed before [DONE] is a cut stream (connection), retried;
- events split across arbitrary write boundaries (one byte at a time) parse as a whole;
every other example streams normally, with usage in the final chunk, priced exactly. Request
counts per example and the records' attempts, statuses and error kinds are asserted exactly."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from advserver import FakeAPI, Reply, gold_answer  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
N = 40
fte.plain_dataset(data, N)
PRICE = {"input": 3.0, "cached_input": 1.5, "output": 12.0, "source": "test", "as_of": "2026-11-30"}


def chunk(delta, finish=None, usage=None, choices=True):
    c = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "model": "m",
         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []}
    if usage:
        c["usage"] = usage
    return "data: " + json.dumps(c) + "\n\n"


def good(req, ex):
    word = gold_answer(req)
    return [(0, chunk({"role": "assistant", "content": ""})), (0.005, chunk({"content": word})),
            (0, chunk({}, "stop")),
            (0, chunk(None, usage={"prompt_tokens": 20 + ex, "completion_tokens": 3, "total_tokens": 23 + ex}, choices=False)),
            (0, "data: [DONE]\n\n")]


attempts = {}
# what each example's first attempt does (the retry answers normally)
PLAN = {}
for ex in range(N):
    PLAN[ex] = ("stall" if ex % 10 == 0 else "garbage" if ex % 10 == 1 else "error_retry" if ex % 10 == 2
                else "error_final" if ex % 10 == 3 else "cut" if ex % 10 == 4 else "bytewise" if ex % 10 == 5 else "ok")


def handler(req):
    ex = req.example
    k = attempts[ex] = attempts.get(ex, 0) + 1
    plan = PLAN[ex] if k == 1 else "ok"
    if not (req.json or {}).get("stream") or req.json.get("stream_options") != {"include_usage": True}:
        return Reply(400, {"error": {"message": "expected a stream with include_usage", "type": "invalid_request_error"}})
    if plan == "stall":
        return Reply(200, stream=[(0, ": keep-alive\n\n"), (3.0, chunk({"content": "late"}))])
    if plan == "garbage":
        return Reply(200, stream=[(0, chunk({"role": "assistant"})), (0, "data: {this is not json\n\n"), (0, "data: [DONE]\n\n")])
    if plan == "error_retry":
        return Reply(200, stream=[(0, chunk({"content": "par"})),
                                  (0, 'data: {"error": {"type": "server_error", "message": "the model crashed"}}\n\n')])
    if plan == "error_final":
        return Reply(200, stream=[(0, chunk({"content": "par"})),
                                  (0, 'data: {"error": {"type": "invalid_request_error", "message": "context too long"}}\n\n')])
    if plan == "cut":
        return Reply(200, stream=good(req, ex)[:2])  # content, then the connection closes: no [DONE]
    if plan == "bytewise":
        text = "".join(p for _, p in good(req, ex)).replace("\n", "\r\n")  # CRLF line ends too
        return Reply(200, stream=[(0, ch) for ch in text])
    return Reply(200, stream=good(req, ex))


api = FakeAPI(handler)
cfg = fte.config(os.path.join(d, "c.json"), data, api.url,
                 arms=[{"name": "base", "provider": "sim", "model": "m-ft", "stream": True, "first_token_timeout_s": 0.4}],
                 defaults={"concurrency": 4, "max_retries": 3, "timeout_s": 20},
                 prices={"currency": "USD", "unit": "per_1m_tokens", "models": {"m-ft": PRICE}})
out = os.path.join(d, "out")
p = fte.run("run", cfg, "--out", out, "--quiet")
api.stop()
recs = {int(r["id"].split("-")[1]): r for r in fte.read_jsonl(os.path.join(out, "base.jsonl"))}
t(len(recs) == N, f"{len(recs)} records, want {N}: {p.stderr}")

want_attempts = {ex: 1 if PLAN[ex] in ("ok", "bytewise", "error_final") else 2 for ex in range(N)}
t(attempts == want_attempts, f"requests per example: {[(e, attempts.get(e), want_attempts[e]) for e in range(N) if attempts.get(e) != want_attempts[e]]}")
t(len(api.requests) == sum(want_attempts.values()), f"the server saw {len(api.requests)} requests, want {sum(want_attempts.values())}")
bad = []
for ex, r in recs.items():
    if PLAN[ex] == "error_final":
        ok = (r["status"] == "error" and r["error"]["kind"] == "bad_request" and r["attempts"] == 1 and r["prediction"] == ""
              and "context too long" in r["error"]["message"] and r["ttft_ms"] is None and r["stream"] is True)
    else:
        u = r["usage"] or {}
        ok = (r["status"] == "ok" and r["attempts"] == want_attempts[ex] and r["prediction"] == gold_answer(type("R", (), {"example": ex}))
              and u.get("prompt_tokens") == 20 + ex and u.get("completion_tokens") == 3
              and r["cost_usd"] == ((20 + ex) * 3.0 + 3 * 12.0) / 1e6 and r["ttft_ms"] is not None and r["ttft_ms"] >= 0)
    if not ok:
        bad.append((ex, PLAN[ex], r))
t(not bad, f"records: {bad[:3]}")
t(p.returncode == 1, f"exit {p.returncode}: 4 final errors of 40 (10%) exceed max_error_rate 5%: the gate fails: {p.stderr[-300:]}")
t("arm 'base': 4 of 40 examples failed (10.0%), above the limit of 5.0%" in p.stderr,
  f"the gate names the arm and its counts: {p.stderr[-300:]}")
sys.exit(t.done())
