"""Bedrock converse-stream from a misbehaving server: the loopback server of tests/lib/advserver.py
writes AWS event-stream frames itself (tests/lib/evstream.py: struct + zlib.crc32, independent of
fteval's decoder and of the simulator), 48 examples at concurrency 4 (more than the runner's
read-ahead window). Every request's SigV4 signature is recomputed (tests/lib/sigv4_ref.py) for the
converse-stream path. What each example's first attempt gets (the retry answers normally):

- ok: messageStart, one contentBlockDelta per word, contentBlockStop, messageStop, metadata;
- bytewise: the same stream written one byte per send;
- throttle: text, then a throttlingException message mid-stream: rate_limit, retried;
- stream_error: text, then modelStreamErrorException: server_error, retried;
- cut: text, then the connection closes before metadata: a cut stream, retried;
- bad_crc: a message whose CRC does not match: a connection error, retried;
- validation: text, then validationException: a final bad_request (one request, never retried,
  the partial text not recorded);
- stall: nothing after the head past first_token_timeout_s: a timeout, retried.
Request counts per example, the records' attempts, statuses, error kinds, usage (priced exactly
from the metadata event), finish reasons (stopReason) and ttft_ms are asserted exactly."""
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import evstream as es  # noqa: E402
import fte  # noqa: E402
import sigv4_ref  # noqa: E402
from advserver import FakeAPI, Reply, gold_answer  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
N = 48
fte.plain_dataset(data, N)
PRICE = {"input": 2.0, "cached_input": 0.5, "output": 8.0, "source": "test", "as_of": "2026-11-30"}
MODEL = "arn:aws:bedrock:eu-west-3:123456789012:provisioned-model/ftbank02"
AK, SK, ST = "AKIDSTREAM", "secret/stream+key", "session-token-stream"
PATH = "/model/" + urllib.parse.quote(MODEL, safe="") + "/converse-stream"
KINDS = ["ok", "bytewise", "throttle", "stream_error", "cut", "bad_crc", "validation", "stall"]
PLAN = {ex: KINDS[ex % len(KINDS)] for ex in range(N)}
STOP = {0: ("end_turn", "stop"), 1: ("max_tokens", "length"), 2: ("stop_sequence", "stop"), 3: ("guardrail_intervened", "content_filter")}


def usage_of(ex):
    return 30 + ex, 2 + ex % 3, ex % 4  # input (without cache reads), output, cache reads


def good(req, ex):
    inp, out, cached = usage_of(ex)
    word = gold_answer(req)
    msgs = [es.event("messageStart", {"role": "assistant"})]
    msgs += [es.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": part}}) for part in (word[:2], word[2:])]
    msgs += [es.event("contentBlockStop", {"contentBlockIndex": 0}),
             es.event("messageStop", {"stopReason": STOP[ex % 4][0]}),
             es.event("metadata", {"usage": {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out + cached,
                                             "cacheReadInputTokens": cached}, "metrics": {"latencyMs": 12}})]
    return msgs


attempts, bad_requests = {}, []


def handler(req):
    ex = req.example
    with_lock = attempts  # one handler thread per connection; dict updates are atomic enough for counts
    k = with_lock[ex] = with_lock.get(ex, 0) + 1
    parsed = sigv4_ref.parse_authorization(req.headers.get("authorization"))
    date = req.headers.get("x-amz-date", "")
    signed = parsed[2] if parsed else []
    want = sigv4_ref.authorization("POST", req.path, "", [(h, req.headers.get(h, "")) for h in signed], req.raw, date,
                                   "eu-west-3", "bedrock", AK, SK) if parsed else None
    if (req.path != PATH or not parsed or req.headers.get("authorization") != want
            or req.headers.get("accept") != "application/vnd.amazon.eventstream" or "stream" in (req.json or {})):
        bad_requests.append((req.path, req.headers.get("accept"), parsed))
        return Reply(400, {"message": "not a signed converse-stream request"},
                     headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    plan = PLAN[ex] if k == 1 else "ok"
    msgs = good(req, ex)
    es_reply = lambda parts: Reply(200, stream=parts, content_type="application/vnd.amazon.eventstream")  # noqa: E731
    if plan == "bytewise":
        whole = b"".join(msgs)
        return es_reply([(0, whole[i:i + 1]) for i in range(len(whole))])
    if plan == "throttle":
        return es_reply([(0, msgs[0]), (0.005, msgs[1]), (0, es.exception("throttlingException", "Too many tokens, please wait."))])
    if plan == "stream_error":
        return es_reply([(0, msgs[0]), (0.005, msgs[1]), (0, es.exception("modelStreamErrorException", "The model stopped."))])
    if plan == "cut":
        return es_reply([(0, msgs[0]), (0.005, msgs[1] + msgs[2])])
    if plan == "bad_crc":
        broken = bytearray(msgs[2])
        broken[-8] ^= 0x01  # a payload byte: the message CRC no longer matches
        return es_reply([(0, msgs[0]), (0.005, msgs[1]), (0, bytes(broken))] + [(0, m) for m in msgs[3:]])
    if plan == "validation":
        return es_reply([(0, msgs[0]), (0.005, msgs[1]), (0, es.exception("validationException", "Input is too long for the model."))])
    if plan == "stall":
        return es_reply([(0, msgs[0]), (3.0, msgs[1])])
    return es_reply([(0, msgs[0])] + [(0.005, m) for m in msgs[1:]])


api = FakeAPI(handler)
cfg = fte.config(os.path.join(d, "c.json"), data, api.url,
                 arms=[{"name": "ft", "provider": "br", "model": MODEL, "price_model": "ft-stream", "first_token_timeout_s": 0.5}],
                 defaults={"concurrency": 4, "max_retries": 3, "timeout_s": 20},
                 prices={"currency": "USD", "unit": "per_1m_tokens", "models": {"ft-stream": PRICE}})
c = json.load(open(cfg))
c["providers"] = {"br": {"type": "bedrock", "endpoint": api.url[:-len("/v1")], "region": "eu-west-3", "stream": True}}
fte.write_json(cfg, c)
out = os.path.join(d, "out")
env = {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK, "AWS_SESSION_TOKEN": ST, "AWS_REGION": ""}
p = fte.run("run", cfg, "--out", out, "--verbose", env=env)
api.stop()
recs = {int(r["id"].split("-")[1]): r for r in fte.read_jsonl(os.path.join(out, "ft.jsonl"))}
t(len(recs) == N, f"{len(recs)} records, want {N}: {p.stderr}")
t(not bad_requests, f"requests not signed for converse-stream: {bad_requests[:2]}")

want_attempts = {ex: 1 if PLAN[ex] in ("ok", "bytewise", "validation") else 2 for ex in range(N)}
t(attempts == want_attempts,
  f"requests per example: {[(e, PLAN[e], attempts.get(e), want_attempts[e]) for e in range(N) if attempts.get(e) != want_attempts[e]]}")
t(len(api.requests) == sum(want_attempts.values()), f"the server saw {len(api.requests)} requests, want {sum(want_attempts.values())}")
bad = []
for ex, r in recs.items():
    if PLAN[ex] == "validation":
        ok = (r["status"] == "error" and r["error"]["kind"] == "bad_request" and r["error"]["http_status"] == 400
              and r["attempts"] == 1 and r["prediction"] == "" and "Input is too long" in r["error"]["message"]
              and r["ttft_ms"] is None and r["stream"] is True)
    else:
        inp, o, cached = usage_of(ex)
        u = r["usage"] or {}
        word = gold_answer(type("R", (), {"example": ex}))
        ok = (r["status"] == "ok" and r["attempts"] == want_attempts[ex] and r["prediction"] == word
              and u.get("prompt_tokens") == inp + cached and u.get("cached_tokens") == cached and u.get("completion_tokens") == o
              and r["cost_usd"] == (inp * 2.0 + cached * 0.5 + o * 8.0) / 1e6 and r["finish_reason"] == STOP[ex % 4][1]
              and r["stream"] is True and r["ttft_ms"] is not None and r["ttft_ms"] >= 0)
    if not ok:
        bad.append((ex, PLAN[ex], r))
t(not bad, f"records: {bad[:3]}")
# why each first attempt was retried (the runner's debug line "retry 1 of ARM/ID in Ns after KIND (HTTP S")
retried = {int(m.group(1)): (m.group(2), int(m.group(3)))
           for m in re.finditer(r"retry 1 of ft/ex-(\d+) in [0-9.]+s after (\w+) \(HTTP (\d+)", p.stderr)}
WHY = {"throttle": ("rate_limit", 429), "stream_error": ("server_error", 424), "cut": ("connection", 200),
       "bad_crc": ("connection", 200), "stall": ("timeout", 0)}
want_retried = {ex: WHY[PLAN[ex]] for ex in range(N) if PLAN[ex] in WHY}
t(retried == want_retried, f"retry kinds: {[(e, PLAN[e], retried.get(e), w) for e, w in want_retried.items() if retried.get(e) != w][:6]} "
  f"extra {set(retried) - set(want_retried)}")
t(p.returncode == 1, f"exit {p.returncode}: 6 final errors of 48 (12.5%) exceed max_error_rate 5%: {p.stderr[-300:]}")
sys.exit(t.done())
