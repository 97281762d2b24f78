"""Helpers for the end-to-end tests: start `fteval sim` on a free loopback port, write configs
and datasets, run fteval, read results. Every server is killed when the test ends."""
import atexit
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

FTEVAL = os.environ["FTEVAL"]
SRC = os.environ["FTEVAL_SRC"]

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)
signal.signal(signal.SIGALRM, lambda *a: (_cleanup(), sys.exit("FAIL: test timed out")))
signal.alarm(int(os.environ.get("FTE_TEST_TIMEOUT", "600")))


class Checks:
    def __init__(self):
        self.ok, self.fails = 0, []

    def __call__(self, cond, msg):
        if cond:
            self.ok += 1
        else:
            self.fails.append(msg)
            print("FAIL", msg, flush=True)
        return cond

    def done(self):
        print(f"{self.ok} passed, {len(self.fails)} failed")
        sys.exit(1 if self.fails else 0)


def tmpdir():
    d = tempfile.mkdtemp(prefix="fteval-e2e-")
    atexit.register(lambda: subprocess.run(["rm", "-rf", d]))
    return d


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)


class Sim:
    """fteval sim on 127.0.0.1:0; url is the /v1 base URL."""

    def __init__(self, *args, log=None):
        cmd = [FTEVAL, "sim", "--host", "127.0.0.1", "--port", "0", *args]
        if log:
            cmd += ["--log", log]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _procs.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"FAIL: sim did not start: {line} {self.proc.stderr.read()}")
        self.url = line[len("listening on "):]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


def plain_dataset(path, n, prefix="ex"):
    """n plain-shape examples with distinct inputs and one-word golds."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    rows = [{"id": f"{prefix}-{i:05d}", "input": f"question {i}: which word is number {i % 8}?",
             "gold": words[i % 8], "cluster": f"c{i % 25}"} for i in range(n)]
    write_jsonl(path, rows)
    return rows


def config(path, dataset, url, arms=None, **extra):
    cfg = {
        "name": "e2e",
        "dataset": dataset,
        "task": {"template": "{input}", "metrics": ["exact_match", "f1"]},
        "defaults": {"temperature": 0, "max_tokens": 16, "timeout_s": 10, "max_retries": 4,
                     "concurrency": 16},
        "providers": {"sim": {"type": "openai", "base_url": url}},
        "arms": arms or [{"name": "base", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"}],
        "stats": {"resamples": 500, "seed": 1},
    }
    def merge(dst, src):
        for k, v in src.items():
            if isinstance(v, dict) and isinstance(dst.get(k), dict):
                merge(dst[k], v)
            else:
                dst[k] = v
    merge(cfg, extra)
    write_json(path, cfg)
    return path


def run(*args, env=None, timeout=300):
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run([FTEVAL, *args], capture_output=True, text=True, env=e, timeout=timeout)
    p.elapsed = time.monotonic() - t0
    return p


def estimate_tokens(text):
    """docs/decision.md "Token estimator", written here from the rule (not from fteval's code):
    ceil(UTF-8 bytes / 4)."""
    return (len(text.encode("utf-8")) + 3) // 4


def estimate_request_tokens(contents):
    """The estimate of one request's prompt: 3 for the reply primer, 4 per message + its text."""
    return 3 + sum(4 + estimate_tokens(c) for c in contents)
