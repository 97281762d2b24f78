"""A programmable chat server for end-to-end tests (Python stdlib only, 127.0.0.1, free port):
what `fteval sim` cannot do — answer per request with chosen status codes, headers and bodies,
serve Anthropic's /v1/messages, sleep to observe concurrency — and a log of every request.

    api = FakeAPI(handler)          # handler(req) -> Reply (or None: a normal OpenAI answer)
    api.url                         # http://127.0.0.1:PORT/v1
    api.requests                    # [Req] in arrival order: .path .json .headers .t0 .t1 .example
    api.max_in_flight               # most requests open at the same time
    api.stop()

Req.example is the number N of the dataset row whose prompt contains "question N:" (the shape
fte.plain_dataset writes), else None. Every server is shut down when the test exits.
"""
import atexit
import http.server
import json
import re
import threading
import time

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


class Reply:
    def __init__(self, status=200, body=None, headers=None, delay=0.0, raw=None):
        self.status, self.body, self.headers, self.delay, self.raw = status, body, headers or {}, delay, raw


class Req:
    def __init__(self, path, headers, body):
        self.path, self.headers, self.raw = path, headers, body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None
        m = re.search(r"question (\d+):", body.decode("utf-8", "replace"))
        self.example = int(m.group(1)) if m else None
        self.t0 = self.t1 = None


def openai_answer(text, prompt_tokens=10, completion_tokens=1, cached_tokens=None, model="m"):
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
             "total_tokens": prompt_tokens + completion_tokens}
    if cached_tokens is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}], "usage": usage}


def openai_error(status, message, type_="invalid_request_error", code=None):
    return Reply(status, {"error": {"message": message, "type": type_, "param": None, "code": code}})


def gold_answer(req):
    """The gold of fte.plain_dataset's row (so every answer scores 1)."""
    return WORDS[req.example % 8] if req.example is not None else "alpha"


class FakeAPI:
    def __init__(self, handler=None):
        self.handler = handler or (lambda req: None)
        self.requests = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        api = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                req = Req(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(n))
                req.t0 = time.monotonic()
                with api.lock:
                    api.requests.append(req)
                    api.in_flight += 1
                    api.max_in_flight = max(api.max_in_flight, api.in_flight)
                try:
                    rep = api.handler(req)
                    if rep is None:
                        rep = Reply(200, openai_answer(gold_answer(req)))
                    if rep.delay:
                        time.sleep(rep.delay)
                    body = rep.raw if rep.raw is not None else json.dumps(rep.body).encode()
                    self.send_response(rep.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in rep.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client gave up (e.g. a body over its limit)
                finally:
                    with api.lock:
                        api.in_flight -= 1
                    req.t1 = time.monotonic()

        class S(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that hangs up (timeouts, oversized bodies) is part of the tests

        self.srv = S(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v1" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()
        atexit.register(self.stop)

    def stop(self):
        if self.srv:
            self.srv.shutdown()
            self.srv.server_close()
            self.srv = None

    def reset(self):
        with self.lock:
            self.requests = []
            self.max_in_flight = 0
