"""Shared by the sim_*_test.py scripts: a bounded alarm, check(), a Sim wrapper that starts
`fteval sim --port 0` and talks HTTP to it, and small helpers. Import with
`from simtest import *` after putting tests/lib on sys.path."""
import http.client
import json
import math
import os
import re
import select
import signal
import subprocess
import sys

from skip import skip_or_fail  # noqa: E402

FTEVAL = os.environ.get("FTEVAL")
if not FTEVAL or not os.path.exists(FTEVAL):
    skip_or_fail("FTEVAL (run through ctest)")



def _timeout(signum, frame):
    raise TimeoutError("test took longer than 240 s")


signal.signal(signal.SIGALRM, _timeout)  # raises, so the finally below still kills the servers
signal.alarm(240)
SERVERS = []
FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


class Sim:
    def __init__(self, *args):
        self.p = subprocess.Popen([FTEVAL, "sim", "--port", "0", *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        SERVERS.append(self)
        ready, _, _ = select.select([self.p.stdout], [], [], 20)
        line = self.p.stdout.readline() if ready else ""
        m = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)/v1\n", line)
        if not m:
            self.kill()
            raise SystemExit("sim did not start: %r %s" % (line, self.p.stderr.read()))
        self.port = int(m.group(1))

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or self.conn()
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        if conn is None:
            c.close()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed

    def chat(self, model, user, system=None, conn=None, headers=None, extra=None):
        msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
        body = {"model": model, "messages": msgs}
        body.update(extra or {})
        return self.request("POST", "/v1/chat/completions", body, headers, conn)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                rc = self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
                rc = None
            check(rc == 0, "sim exits 0 on SIGTERM (got %r)" % rc)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def content(resp):
    return resp[2]["choices"][0]["message"]["content"]


def binom_ok(k, n, p, z=4.0):
    sd = math.sqrt(n * p * (1 - p))
    return abs(k - n * p) <= z * sd + 1
