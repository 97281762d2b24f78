"""Test-side helpers for tests/lib/advserver.py: start it with a script, read its request log and
price what it billed (from configs/prices.json, independently of fteval's cost code)."""
import json
import os
import signal
import socket
import subprocess
import sys

import fte

HERE = os.path.dirname(os.path.abspath(__file__))
PRICES = json.load(open(os.path.join(fte.SRC, "configs", "prices.json"), encoding="utf-8"))["models"]


class Adv:
    """The adversarial server on 127.0.0.1:0; url is the /v1 base URL, log() its requests."""

    def __init__(self, d, name, script, port=0):
        self.log_path = os.path.join(d, f"{name}.adv.jsonl")
        spath = os.path.join(d, f"{name}.script.json")
        fte.write_json(spath, script)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "advserver.py"), "--script", spath,
                                      "--log", self.log_path, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        fte._procs.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"FAIL: advserver did not start: {line} {self.proc.stderr.read()}")
        self.url = line[len("listening on "):]
        self.port = int(self.url.split(":")[2].split("/")[0])

    def log(self):
        return fte.read_jsonl(self.log_path) if os.path.exists(self.log_path) else []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


def billed_usd(entries, model="gpt-4o-mini-2024-07-18"):
    """What the server billed: sum over every request it saw, priced per 1M tokens."""
    p = PRICES[model]
    return sum(e["billed_prompt"] * p["input"] / 1e6 + e["billed_completion"] * p["output"] / 1e6
               for e in entries)


def dead_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
