#!/usr/bin/env python3
"""The peer: what a typical Python harness does — a ThreadPoolExecutor of N workers, each with a
keep-alive http.client connection, posting the same chat requests and parsing the JSON answers.
Prints requests/s and CPU-us per request. Usage: peer.py URL DATASET CONCURRENCY"""
import concurrent.futures
import http.client
import json
import resource
import sys
import threading
import time
import urllib.parse

url, dataset, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlparse(url)
rows = [json.loads(l) for l in open(dataset)]
local = threading.local()


def call(row):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(u.hostname, u.port)
    body = json.dumps({"model": "gpt-4o-mini-2024-07-18", "messages": [{"role": "user", "content": row["input"]}],
                       "temperature": 0, "max_tokens": 16})
    local.c.request("POST", u.path + "/chat/completions", body, {"Content-Type": "application/json"})
    r = local.c.getresponse()
    out = json.loads(r.read())
    return out["choices"][0]["message"]["content"] == row["gold"]


t0 = time.monotonic()
c0 = resource.getrusage(resource.RUSAGE_SELF)
with concurrent.futures.ThreadPoolExecutor(conc) as ex:
    correct = sum(ex.map(call, rows))
wall = time.monotonic() - t0
c1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
print(json.dumps({"requests": len(rows), "wall_s": wall, "req_per_s": len(rows) / wall,
                  "cpu_us_per_req": cpu / len(rows) * 1e6, "peak_rss_mib": c1.ru_maxrss / 1024}))
