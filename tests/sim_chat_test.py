#!/usr/bin/env python3
"""sim_chat_test — `fteval sim` chat completions end to end on 127.0.0.1 (port 0).

Accuracy per profile (binomial tolerance), rule matching by system-prompt marker, determinism
across restarts and retries, chat- and plain-shape datasets with --template and --config,
response shape and headers, keep-alive and pipelining, 404/413/431, the request log without the
Authorization value, clean exit on SIGTERM. Runtime is bounded by an alarm; servers always die.
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
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from simtest import *  # noqa: E402,F401,F403  (check, Sim, SERVERS, FAILS, CHECKS, ...)



def main(tmp):
    n = 400
    golds = ["refund status", "card activation", "change pin", "lost card", "top up",
             "exchange rate", "close account", "transfer failed"]
    ds = os.path.join(tmp, "plain.jsonl")
    with open(ds, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": "ex%d" % i, "input": "customer message %d" % i, "gold": golds[i % 8]}) + "\n")
    profile = os.path.join(tmp, "profile.json")
    with open(profile, "w") as f:
        json.dump({"models": ["m-base"], "defaults": {"partial_share": 0, "correlation": 0.5},
                   "rules": [{"name": "ft", "model": "ft:*", "accuracy": 0.9},
                             {"name": "prompted", "model": "m-base", "system_contains": "MARKER-XYZ", "accuracy": 0.7},
                             {"name": "base", "model": "m-base", "accuracy": 0.4,
                              "cached_fraction": 0.5, "rate_limits": {"requests_per_min": 100000}}]}, f)
    log = os.path.join(tmp, "log.jsonl")

    s = Sim("--dataset", ds, "--template", "Q: {input}", "--profile", profile, "--seed", "7", "--log", log)
    answers = {}
    conn = s.conn()
    sock_before = None
    for arm, model, system, acc in [("base", "m-base", None, 0.4), ("prompted", "m-base", "Sys MARKER-XYZ sys", 0.7),
                                    ("ft", "ft:m-base:org::x1", None, 0.9)]:
        correct = 0
        for i in range(n):
            st, hd, body = s.chat(model, "Q: customer message %d" % i, system, conn=conn)
            if sock_before is None:
                sock_before = conn.sock
            check(st == 200, "chat 200")
            a = body["choices"][0]["message"]["content"]
            answers[(arm, i)] = a
            correct += a == golds[i % 8]
        check(binom_ok(correct, n, acc), "%s accuracy %d/%d near %.2f" % (arm, correct, n, acc))
    check(conn.sock is sock_before, "1200 requests on one keep-alive connection")
    conn.close()

    # response shape and headers
    st, hd, body = s.chat("m-base", "Q: customer message 1", headers={"Authorization": "Bearer sk-SECRET-VALUE-123"})
    check(st == 200, "shape: 200")
    for k in ("id", "object", "created", "model", "choices", "usage", "system_fingerprint"):
        check(k in body, "response has %s" % k)
    check(body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-"), "object/id")
    ch = body["choices"][0]
    check(ch["index"] == 0 and ch["finish_reason"] == "stop" and ch["logprobs"] is None, "choice fields")
    check(ch["message"]["role"] == "assistant" and ch["message"]["refusal"] is None, "message fields")
    u = body["usage"]
    check(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], "usage sums")
    check("cached_tokens" in u["prompt_tokens_details"], "cached_tokens present")
    for h in ("content-type", "x-request-id", "openai-processing-ms", "x-ratelimit-limit-requests",
              "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"):
        check(h in hd, "header %s" % h)
    check(re.fullmatch(r"(\d+h)?(\d+m)?(\d+(\.\d+)?s|\d+ms)", hd.get("x-ratelimit-reset-requests", "")),
          "go-style reset duration")
    # longer prompts cost more, and big prompts get cached tokens
    _, _, short = s.chat("m-base", "Q: customer message 2")
    _, _, longer = s.chat("m-base", "Q: customer message 2", system="x" * 8000)
    check(longer["usage"]["prompt_tokens"] > short["usage"]["prompt_tokens"] + 1900, "system prompt adds tokens")
    check(longer["usage"]["prompt_tokens_details"]["cached_tokens"] > 0, "cached tokens on long prompt")
    check(short["usage"]["prompt_tokens_details"]["cached_tokens"] == 0, "no cache on short prompt")
    # retries give the same answer; max_tokens truncates
    a1 = content(s.chat("m-base", "Q: customer message 5"))
    a2 = content(s.chat("m-base", "Q: customer message 5"))
    check(a1 == a2 == answers[("base", 5)], "same answer on retry")
    r = s.chat("m-base", "Q: customer message 8", system="MARKER-XYZ", extra={"max_tokens": 1})
    check(r[2]["choices"][0]["finish_reason"] in ("length", "stop") and r[2]["usage"]["completion_tokens"] <= 1,
          "max_tokens caps completion")
    # streaming: SSE chunks concatenate to the same answer, usage chunk on request
    c = s.conn()
    c.request("POST", "/v1/chat/completions", json.dumps({
        "model": "m-base", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "Q: customer message 5"}]}))
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    events = [x[6:] for x in text.split("\n\n") if x.startswith("data: ")]
    check(r.status == 200 and r.getheader("content-type").startswith("text/event-stream"), "stream content type")
    check(events[-1] == "[DONE]", "stream ends with [DONE]")
    chunks = [json.loads(x) for x in events[:-1]]
    streamed = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks if ch["choices"])
    check(streamed == answers[("base", 5)], "streamed answer %r" % streamed)
    check(all(ch["object"] == "chat.completion.chunk" for ch in chunks), "chunk objects")
    check(chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0, "usage chunk")

    # unknown prompt: deterministic generic answer
    g1, g2 = content(s.chat("m-base", "never seen")), content(s.chat("m-base", "never seen"))
    check(g1 == g2 and g1, "generic answer deterministic")
    # errors
    st, _, b = s.chat("unknown-model", "hi")
    check(st == 404 and b["error"]["code"] == "model_not_found", "unknown model 404")
    st, _, b = s.request("POST", "/v1/chat/completions", "{not json")
    check(st == 400 and b["error"]["type"] == "invalid_request_error", "bad json 400")
    st, _, b = s.request("POST", "/v1/chat/completions", {"model": "m-base"})
    check(st == 400 and b["error"]["param"] == "messages", "missing messages 400")
    st, _, b = s.request("GET", "/v1/nope")
    check(st == 404 and "error" in b, "unknown path 404")
    st, _, b = s.request("GET", "/v1/models")
    ids = [m["id"] for m in b["data"]]
    check(st == 200 and b["object"] == "list" and "m-base" in ids, "models list")
    st, _, b = s.request("GET", "/v1/models/ft:m-base:org::zz")
    check(st == 200 and b["id"] == "ft:m-base:org::zz", "model by id")
    st, _, b = s.request("GET", "/v1/models/nope")
    check(st == 404, "unknown model by id 404")

    # pipelining: 50 requests in one write, answers in order
    reqs, expect = b"", []
    for i in range(50):
        body = json.dumps({"model": "m-base", "messages": [{"role": "user", "content": "Q: customer message %d" % i}]}).encode()
        reqs += b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        expect.append(answers[("base", i)])
    sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sk.sendall(reqs)
    f = sk.makefile("rb")
    got = []
    for i in range(50):
        status = f.readline()
        length = 0
        while True:
            line = f.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        got.append(json.loads(f.read(length))["choices"][0]["message"]["content"])
        check(status.startswith(b"HTTP/1.1 200"), "pipelined status")
    check(got == expect, "pipelined answers in order")
    sk.close()

    # chunked request bodies are decoded; a pipelined request after one still works
    body = json.dumps({"model": "m-base", "messages": [{"role": "user", "content": "Q: customer message 9"}]}).encode()
    chunked = b"%x;ext=1\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
    sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sk.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
               b"GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = sk.recv(65536)
        if not d:
            break
        data += d
    sk.close()
    check(data.count(b"HTTP/1.1 200") == 2 and answers[("base", 9)].encode() in data, "chunked body + pipelined GET")
    sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sk.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    check(sk.recv(100).startswith(b"HTTP/1.1 400"), "malformed chunked body 400")
    sk.close()

    # limits: header too large (431), body too large (413) on a small-limit server
    sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sk.sendall(b"GET /v1/models HTTP/1.1\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
    check(sk.recv(100).startswith(b"HTTP/1.1 431"), "oversized headers 431")
    sk.close()
    s.stop()

    # request log: one line per request, auth presence recorded, value never
    text = open(log).read()
    check("sk-SECRET-VALUE-123" not in text, "auth value absent from the log")
    lines = [json.loads(x) for x in text.splitlines()]
    check(len(lines) >= 1200, "log has a line per request")
    authed = [x for x in lines if x["auth"]]
    check(len(authed) == 1 and authed[0]["example"] == "ex1" and authed[0]["attempt"] >= 1, "auth logged as boolean")
    check(all(k in lines[0] for k in ("time", "method", "path", "model", "example", "attempt", "fault", "body")),
          "log fields")

    # determinism across restarts with the same seed; another seed differs
    s2 = Sim("--dataset", ds, "--template", "Q: {input}", "--profile", profile, "--seed", "7")
    same = sum(content(s2.chat("m-base", "Q: customer message %d" % i)) == answers[("base", i)] for i in range(100))
    check(same == 100, "same seed, same answers after restart (%d/100)" % same)
    s2.stop()
    s3 = Sim("--dataset", ds, "--template", "Q: {input}", "--profile", profile, "--seed", "8", "--max-body", "1000")
    diff = sum(content(s3.chat("m-base", "Q: customer message %d" % i)) != answers[("base", i)] for i in range(100))
    check(diff > 10, "another seed changes answers (%d/100)" % diff)
    st, _, b = s3.request("POST", "/v1/chat/completions", "x" * 5000)
    check(st == 413, "oversized body 413 (got %d)" % st)
    s3.stop()

    # chat-shape dataset and --config (dataset relative to the config, task.template)
    chat_ds = os.path.join(tmp, "sub", "chat.jsonl")
    os.makedirs(os.path.dirname(chat_ds))
    with open(chat_ds, "w") as f:
        for i in range(20):
            f.write(json.dumps({"id": "c%d" % i, "messages": [
                {"role": "system", "content": "sys"}, {"role": "user", "content": "chat question %d" % i},
                {"role": "assistant", "content": "gold %d" % i}]}) + "\n")
        f.write(json.dumps({"id": "p1", "input": "plain one", "gold": "plain gold"}) + "\n")
    cfg = os.path.join(tmp, "sub", "cfg.json")
    with open(cfg, "w") as f:
        json.dump({"name": "t", "dataset": "chat.jsonl", "task": {"template": "Input: {input}"}}, f)
    perfect = os.path.join(tmp, "perfect.json")
    with open(perfect, "w") as f:
        json.dump({"rules": [{"model": "*", "accuracy": 1.0}]}, f)
    s4 = Sim("--config", cfg, "--profile", perfect)
    ok = sum(content(s4.chat("any", "chat question %d" % i)) == "gold %d" % i for i in range(20))
    check(ok == 20, "chat-shape examples keyed by last user message (%d/20)" % ok)
    check(content(s4.chat("any", "Input: plain one")) == "plain gold", "config template renders plain examples")
    s4.stop()

    # built-in profile without --dataset still answers
    s5 = Sim()
    st, _, b = s5.chat("gpt-4o-mini-2024-07-18", "hello")
    check(st == 200 and content((st, None, b)), "built-in profile answers")
    s5.stop()

    # simulated latency: timers in the loop, never a blocking sleep
    slow = os.path.join(tmp, "slow.json")
    with open(slow, "w") as f:
        json.dump({"rules": [{"model": "slow", "latency_ms": 80},
                             {"model": "lognormal", "latency_ms": {"median": 20, "p90": 60}},
                             {"model": "*", "latency_ms": 0}]}, f)
    s6 = Sim("--profile", slow)
    t0 = time.time()
    st, hd, _ = s6.chat("slow", "hi")
    dt = time.time() - t0
    check(st == 200 and dt >= 0.075 and hd["openai-processing-ms"] == "80", "fixed latency 80 ms (%.3f s)" % dt)
    conns = []
    t0 = time.time()
    for i in range(20):
        c = http.client.HTTPConnection("127.0.0.1", s6.port, timeout=10)
        c.request("POST", "/v1/chat/completions", json.dumps({"model": "slow", "messages": [{"role": "user", "content": str(i)}]}))
        conns.append(c)
    ok = sum(c.getresponse().status == 200 for c in conns)
    dt = time.time() - t0
    check(ok == 20 and dt < 0.8, "20 concurrent delayed requests overlap (%.3f s)" % dt)
    for c in conns:
        c.close()
    lat = [int(s6.chat("lognormal", "q%d" % i)[1]["openai-processing-ms"]) for i in range(60)]
    lat.sort()
    check(10 <= lat[30] <= 40 and lat[-1] > lat[0], "lognormal latencies around the median: %r" % lat[::10])
    # a fast request on another connection is not held up by a slow one
    sk = socket.create_connection(("127.0.0.1", s6.port), timeout=10)
    body = json.dumps({"model": "slow", "messages": [{"role": "user", "content": "x"}]}).encode()
    sk.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    t0 = time.time()
    st, _, _ = s6.chat("fast", "y")
    check(st == 200 and time.time() - t0 < 0.07, "fast model not blocked by a pending slow answer")
    s6.stop()  # with a delayed answer still pending: must exit 0, leak-free
    sk.close()

    # the demo profile: base < prompted (marker in the system prompt) < fine-tuned
    src = os.environ.get("FTEVAL_SRC")
    demo = os.path.join(src, "configs", "demo", "sim_profile.json") if src else None
    if demo and os.path.exists(demo):
        s7 = Sim("--dataset", ds, "--template", "Q: {input}", "--profile", demo, "--seed", "3")
        marker = "You are a support-intent classifier for a consumer bank's help chat."
        accs = {}
        c = s7.conn()
        for arm, model, system, acc in [("base", "gpt-4o-mini-2024-07-18", None, 0.55),
                                        ("prompted", "gpt-4o-mini-2024-07-18", marker, 0.70),
                                        ("finetuned", "ft:gpt-4o-mini-2024-07-18:acme:intents:demo01", None, 0.85)]:
            ok = sum(content(s7.chat(model, "Q: customer message %d" % i, system, conn=c)) == golds[i % 8]
                     for i in range(n))
            check(binom_ok(ok, n, acc), "demo profile %s accuracy %d/%d near %.2f" % (arm, ok, n, acc))
            accs[arm] = ok
        c.close()
        check(accs["base"] < accs["prompted"] < accs["finetuned"], "demo profile ordering %r" % accs)
        s7.stop()

    # invalid profile: error names the key, exit 3
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        json.dump({"rules": [{"model": "x", "acuracy": 0.5}]}, f)
    p = subprocess.run([FTEVAL, "sim", "--port", "0", "--profile", bad], capture_output=True, text=True, timeout=20)
    check(p.returncode == 3 and "rules[0]: acuracy" in p.stderr, "bad profile exit 3 naming the key: %r" % p.stderr)
    p = subprocess.run([FTEVAL, "sim", "--bogus"], capture_output=True, text=True, timeout=20)
    check(p.returncode == 2, "usage error exit 2")


try:
    with tempfile.TemporaryDirectory() as tmp:
        main(tmp)
finally:
    for srv in SERVERS:
        srv.kill()

print("%s: %d checks, %d failures" % (os.path.basename(__file__), CHECKS[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
