#!/usr/bin/env python3
"""sim_fault_test — fault injection of `fteval sim`, observed from the client side.

Every kind via --fault KIND:1 (status, headers, body or transport symptom), first-K mode per
(model, example) from flags and from a profile rule, probabilistic faults near their rate,
enforced rate limits, and the log recording the fault. Runtime bounded; servers always die.
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




def raw_chat(port, user="Q: customer message 1", model="m-base", timeout=5):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": user}]}).encode()
    sk = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sk.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return sk


def read_all(sk):
    data = b""
    while True:
        d = sk.recv(65536)
        if not d:
            return data
        data += d


def main(tmp):
    ds = os.path.join(tmp, "plain.jsonl")
    with open(ds, "w") as f:
        for i in range(50):
            f.write(json.dumps({"id": "ex%d" % i, "input": "customer message %d" % i, "gold": "gold %d" % i}) + "\n")
    log = os.path.join(tmp, "log.jsonl")
    common = ["--dataset", ds, "--template", "Q: {input}"]

    for kind, status in [("rate_limit", 429), ("quota", 429), ("server_error", 500), ("unavailable", 503),
                         ("malformed", 200)]:
        s = Sim(*common, "--fault", kind + ":1", "--log", log)
        st, hd, b = s.chat("m-base", "Q: customer message 1")
        check(st == status, "%s: status %d (got %d)" % (kind, status, st))
        if kind == "rate_limit":
            e = b["error"]
            check(e["code"] == "rate_limit_exceeded" and e["type"] == "requests" and e["param"] is None
                  and e["message"], "rate_limit body")
            check(hd.get("retry-after") == "1" and hd.get("retry-after-ms") == "1000", "retry-after headers")
            check(hd.get("x-ratelimit-remaining-requests") == "0", "remaining-requests 0")
            check(re.fullmatch(r"\d+(\.\d+)?s|\d+ms", hd.get("x-ratelimit-reset-requests", "")), "reset Go duration")
            check("x-ratelimit-reset-tokens" in hd and "x-ratelimit-limit-requests" in hd, "token headers")
        elif kind == "quota":
            e = b["error"]
            check(e["code"] == "insufficient_quota" and e["type"] == "insufficient_quota", "quota body")
            check("retry-after" not in hd, "quota has no retry-after")
        elif kind == "malformed":
            check(b is None, "malformed body does not parse")
        else:
            check(b["error"]["type"] == "server_error", "%s body" % kind)
        s.stop()

    # transport faults on raw sockets
    s = Sim(*common, "--fault", "reset:1")
    sk = raw_chat(s.port)
    try:
        data = sk.recv(1000)
        check(data == b"", "reset: no answer")
    except ConnectionResetError:
        pass
    sk.close()
    s.stop()

    s = Sim(*common, "--fault", "close:1")
    sk = raw_chat(s.port)
    check(read_all(sk) == b"", "close: EOF without an answer")
    sk.close()
    s.stop()

    s = Sim(*common, "--fault", "stall:1")
    sk = raw_chat(s.port, timeout=1.0)
    try:
        sk.recv(1000)
        check(False, "stall: should not answer")
    except socket.timeout:
        pass
    sk.close()
    # the server still serves other connections meanwhile (single loop never blocks)
    st, _, _ = s.request("GET", "/v1/models")
    check(st == 200, "server alive during a stall")
    s.stop()

    s = Sim(*common, "--fault", "truncate:1")
    sk = raw_chat(s.port)
    data = read_all(sk)
    sk.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"content-length: (\d+)", head)
    check(data.startswith(b"HTTP/1.1 200") and m and int(m.group(1)) > len(rest), "truncate: short body")
    s.stop()

    # first-K per (model, example), from a flag
    s = Sim(*common, "--fault", "server_error:first=2")
    seq = [s.chat("m-base", "Q: customer message 3")[0] for _ in range(3)]
    check(seq == [500, 500, 200], "first=2 on example 3: %r" % seq)
    seq = [s.chat("m-base", "Q: customer message 4")[0] for _ in range(3)]
    check(seq == [500, 500, 200], "first=2 on example 4: %r" % seq)
    seq = [s.chat("other", "Q: customer message 3")[0] for _ in range(3)]
    check(seq == [500, 500, 200], "first=2 counts per model: %r" % seq)
    s.stop()

    # first-K and probabilities from profile rules; enforced rate limit
    profile = os.path.join(tmp, "profile.json")
    with open(profile, "w") as f:
        json.dump({"rules": [
            {"model": "ft:*", "accuracy": 1.0, "faults": {"rate_limit": {"first": 1}}, "retry_after_ms": 150},
            {"model": "flaky", "faults": {"unavailable": 0.3}},
            {"model": "limited", "rate_limits": {"requests_per_min": 5, "enforce": True}},
            {"model": "*", "accuracy": 1.0}]}, f)
    s = Sim(*common, "--profile", profile, "--log", log)
    r1 = s.chat("ft:m:org::a", "Q: customer message 7")
    r2 = s.chat("ft:m:org::a", "Q: customer message 7")
    check(r1[0] == 429 and r1[1].get("retry-after-ms") == "150", "profile first=1 rate limit")
    check(r2[0] == 200 and content(r2) == "gold 7", "retry after first-K succeeds with the gold")
    check(s.chat("m-base", "Q: customer message 7")[0] == 200, "other rule unaffected")
    n = 400
    fails = sum(s.chat("flaky", "Q: customer message %d" % (i % 50))[0] == 503 for i in range(n))
    check(binom_ok(fails, n, 0.3), "probabilistic 503 rate %d/%d near 0.3" % (fails, n))
    seq = [s.chat("limited", "Q: customer message %d" % i)[0] for i in range(7)]
    check(seq == [200] * 5 + [429] * 2, "enforced requests_per_min: %r" % seq)
    s.stop()
    lines = [json.loads(x) for x in open(log)]
    faults = [x["fault"] for x in lines]
    for kind in ("rate_limit", "quota", "server_error", "unavailable", "malformed"):
        check(kind in faults, "log records fault %s" % kind)
    first = [x for x in lines if x["model"] == "ft:m:org::a"]
    check([x["attempt"] for x in first] == [1, 2] and first[0]["example"] == "ex7", "log attempts per example")

    # bad --fault syntax is a usage error
    for bad in ("nope:1", "reset", "reset:2", "reset:first=-1", "reset:1@files", "reset:1@POST:files"):
        p = subprocess.run([FTEVAL, "sim", "--port", "0", "--fault", bad], capture_output=True, text=True, timeout=20)
        check(p.returncode == 2, "--fault %s: exit 2" % bad)


try:
    with tempfile.TemporaryDirectory() as tmp:
        main(tmp)
finally:
    for srv in SERVERS:
        srv.kill()

print("%s: %d checks, %d failures" % (os.path.basename(__file__), CHECKS[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
