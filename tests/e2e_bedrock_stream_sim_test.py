"""Bedrock converse-stream end to end against `fteval sim`: `"stream": true` on a bedrock provider
sends POST /model/{ARN}/converse-stream (SigV4-signed) and reads the simulator's AWS event-stream
answer (its own encoder, harness/sim/sim_bedrock.c) as it arrives.

- the streamed run gives the plain converse run's predictions and usage, priced exactly, with
  finish_reason "stop" (stopReason end_turn), and "length" (stopReason max_tokens) under a 1-token
  cap for every gold longer than one token;
- ttft_ms is never below the profile's ttft_ms (120 ms) and its median within 40 ms of it
  (100 ms under the sanitizers);
- the usage a record carries is the metadata event's usage, read here from the same stream with
  an independent decoder (tests/lib/evstream.py: zlib.crc32);
- --cache replays the cached event-stream bytes without a request;
- a stream cut after its first content (stream_cut:first=1) is retried and recorded once; a
  ThrottlingException before the stream (rate_limit:first=1) is retried; the request counts are exact."""
import json
import os
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import evstream  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
N = 24
rows = fte.plain_dataset(data, N)
golds = {r["id"]: r["gold"] for r in rows}
PRICE = {"input": 1.0, "cached_input": 0.5, "output": 4.0, "source": "test", "as_of": "2026-11-30"}
ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/abc123"
AWS = {"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "SECRET/bedrock", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1"}
TTFT = 120
SLACK = 100 if os.environ.get("FTEVAL_SANITIZED") else 40


def start(name, faults=()):
    profile = os.path.join(d, f"{name}.profile.json")
    fte.write_json(profile, {"rules": [{"name": "all", "model": "*", "accuracy": 1.0, "retry_after_ms": 200,
                                        "ttft_ms": TTFT, "inter_token_ms": 5, "latency_ms": 5}]})
    args = ["--dataset", data, "--profile", profile, "--seed", "5"]
    for f in faults:
        args += ["--fault", f]
    log = os.path.join(d, f"{name}.log")
    return fte.Sim(*args, log=log), log


def run(name, sim, stream, max_tokens=16, args=()):
    cfg = fte.config(os.path.join(d, f"{name}.json"), data, sim.url,
                     arms=[{"name": "a", "provider": "p", "model": ARN, "price_model": "nova-test"}],
                     defaults={"concurrency": 4, "max_tokens": max_tokens},
                     prices={"currency": "USD", "unit": "per_1m_tokens", "models": {"nova-test": PRICE}})
    c = json.load(open(cfg))
    c["providers"] = {"p": {"type": "bedrock", "endpoint": sim.url[:-len("/v1")], "region": "us-east-1", "stream": stream}}
    fte.write_json(cfg, c)
    out = os.path.join(d, name)
    p = fte.run("run", cfg, *args, "--out", out, "--quiet", env=AWS)
    path = os.path.join(out, "a.jsonl")
    return p, {r["id"]: r for r in (fte.read_jsonl(path) if os.path.exists(path) else [])}


def priced(r):
    u = r["usage"]
    want = ((u["prompt_tokens"] - u["cached_tokens"]) * PRICE["input"] + u["cached_tokens"] * PRICE["cached_input"]
            + u["completion_tokens"] * PRICE["output"]) / 1e6
    return r["cost_usd"] == want


STREAM_PATH = "/model/" + urllib.parse.quote(ARN, safe="") + "/converse-stream"

# plain, then streamed, against the same sim
sim, log = start("main")
p, plain = run("plain", sim, False)
t(p.returncode == 0 and len(plain) == N and all(r["status"] == "ok" and "stream" not in r for r in plain.values()),
  f"plain converse: {N} ok records: {p.stderr}")
p, streamed = run("stream", sim, True)
# the stream itself, read here with the independent decoder
raw = []
for i in range(3):
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": rows[i]["input"]}]}],
                       "inferenceConfig": {"maxTokens": 16}}).encode()
    req = urllib.request.Request(sim.url[:-len("/v1")] + STREAM_PATH, data=body, method="POST", headers={
        "content-type": "application/json",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261130/us-east-1/bedrock/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw.append((rows[i]["id"], resp.headers.get("content-type"), resp.read()))
sim.stop()
reqs = fte.read_jsonl(log)
t(p.returncode == 0 and len(streamed) == N, f"streamed: {len(streamed)} records: {p.stderr}")
bad = [r for r in streamed.values()
       if not (r["status"] == "ok" and r["stream"] is True and r["attempts"] == 1 and r["prediction"] == golds[r["id"]]
               and r["prediction"] == plain[r["id"]]["prediction"] and r["usage"] == plain[r["id"]]["usage"]
               and r["usage"]["prompt_tokens"] > 0 and r["usage"]["completion_tokens"] > 0 and priced(r)
               and r["cost_usd"] == plain[r["id"]]["cost_usd"] and r["finish_reason"] == "stop")]
t(not bad, f"streamed records: the plain run's predictions, usage and cost, finish_reason stop: {bad[:2]}")
ttfts = sorted(r["ttft_ms"] for r in streamed.values() if r.get("ttft_ms") is not None)
t(len(ttfts) == N and ttfts[0] >= TTFT and ttfts[N // 2] <= TTFT + SLACK,
  f"ttft_ms {ttfts}: none below {TTFT}, median at most {TTFT + SLACK}")
t(all(r.get("output_tokens_per_s") is None or r["output_tokens_per_s"] > 0 for r in streamed.values()),
  "output_tokens_per_s positive when present")
sp = [q for q in reqs if q["path"] == STREAM_PATH]
t(len(sp) == N + 3 and all(q["status"] == 200 and q["body"]["inferenceConfig"]["maxTokens"] == 16
                           and "stream" not in q["body"] for q in sp[:N]),
  f"the streamed run asked converse-stream {len(sp)} times (N + the 3 direct reads), a Converse body")
for ex, ctype, data_ in raw:
    msgs = evstream.decode(data_)  # raises on a bad CRC
    types = [h[":event-type"] for h, _ in msgs]
    md = json.loads(msgs[-1][1])
    u = streamed[ex]["usage"]
    t(ctype == "application/vnd.amazon.eventstream" and types[0] == "messageStart" and types[-3:] == ["contentBlockStop", "messageStop", "metadata"]
      and all(h[":message-type"] == "event" and h[":content-type"] == "application/json" for h, _ in msgs)
      and "".join(json.loads(pl)["delta"]["text"] for h, pl in msgs if h[":event-type"] == "contentBlockDelta") == golds[ex]
      and md["usage"]["inputTokens"] + md["usage"].get("cacheReadInputTokens", 0) == u["prompt_tokens"]
      and md["usage"]["outputTokens"] == u["completion_tokens"],
      f"{ex}: the sim's stream decoded independently: {types} {md} vs the record's usage {u}")

# a 1-token cap: stopReason max_tokens -> finish_reason length
sim, log = start("length")
p, capped = run("length", sim, True, max_tokens=1)
sim.stop()
# (the sim counts ceil(bytes / 4) tokens: "echo" and "golf" fit in one, the other golds do not)
t(p.returncode == 0 and len(capped) == N
  and all(r["status"] == "ok" and r["finish_reason"] == ("length" if len(golds[r["id"]]) > 4 else "stop")
          and r["usage"]["completion_tokens"] == 1 and priced(r) for r in capped.values())
  and sum(1 for r in capped.values() if r["finish_reason"] == "length") == N - 2 * (N // 8),
  f"max_tokens 1: finish_reason length (stop for the 4-byte golds), 1 output token, priced: "
  f"{[(r['prediction'], r['finish_reason'], r['usage']) for r in capped.values()][:8]} {p.stderr}")

# --cache: a streamed answer is cached as its event-stream bytes and replayed without a request
sim, log = start("cache")
runs = [run(f"cache{i}", sim, True, args=("--cache",)) for i in (1, 2)]
sim.stop()
t(len(fte.read_jsonl(log)) == N and all(p.returncode == 0 for p, _ in runs), "cache: the second run sent nothing")
t(len(runs[1][1]) == N and all(r["cache_hit"] and r["stream"] is True and r["ttft_ms"] is None and r["prediction"] == golds[i]
                               and r["usage"] == plain[i]["usage"] for i, r in runs[1][1].items()),
  f"cache: replayed converse-streams give the same answers and usage, no time to first token: {list(runs[1][1].values())[:1]}")

# faults: a cut stream, a throttled request; each retried once, recorded once
for fault, label in (("stream_cut:first=1", "cut stream"), ("rate_limit:first=1", "ThrottlingException")):
    sim, log = start("fault-" + fault.split(":")[0], faults=[fault])
    p, recs = run("fault-" + fault.split(":")[0], sim, True)
    sim.stop()
    reqs = fte.read_jsonl(log)
    t(p.returncode == 0 and len(recs) == N and all(r["status"] == "ok" and r["attempts"] == 2 and r["prediction"] == golds[r["id"]]
                                                   and r["usage"] == plain[r["id"]]["usage"] and priced(r) and r["ttft_ms"] >= TTFT
                                                   for r in recs.values()),
      f"{label}: retried once per example, the retry's answer recorded once: {[(r['attempts'], r['status']) for r in recs.values()][:4]} {p.stderr}")
    t(len(reqs) == 2 * N and all(q["path"] == STREAM_PATH for q in reqs), f"{label}: exactly {2 * N} requests, got {len(reqs)}")
    if fault.startswith("rate_limit"):
        t(sum(1 for q in reqs if q["status"] == 429) == N, f"{label}: N throttled answers")

sys.exit(t.done())
