"""advserver.py — an adversarial OpenAI chat-completions server for the integrity tests (issue 11).

Independent of `fteval sim` on purpose: Python stdlib only, raw sockets, its own HTTP/1.1 parsing,
its own token counting and billing. Every request is scripted by rules and recorded, with the
attempt number fteval says it is (x-stainless-retry-count + 1) and the tokens a real server would
bill for it, in a JSON-lines log the test reads.

    python3 advserver.py --script SCRIPT.json --log LOG.jsonl [--port N]
prints "listening on http://127.0.0.1:PORT/v1" and serves until killed.

The same server, in process, is the programmable one of the flow-control tests (it replaced
tests/lib/fakeapi.py, so there is one loopback server): FakeAPI(handler) answers each request with
handler(req) -> Reply (None: a normal OpenAI answer for "question N:" prompts) and keeps
api.requests ([Req]: .path .json .headers .raw .t0 .t1 .example) and api.max_in_flight.

SCRIPT (every key optional):
  {"rules": [{"when": {...}, "do": {...}}, ...],   first matching rule wins, else "default"
   "default": {...},                                  a "do" object (default: a normal answer)
   "outage_after": N,                                 after N requests, stop answering:
   "outage_mode": "refuse" | "hang"}                  close everything / accept and never answer
  when: {"from": n, "to": n}   global request number range (1-based, inclusive)
        {"attempt": k}         fteval's attempt number for that example
        {"model": "m"}         the request's model
        {"every": k}           request numbers divisible by k
  do:   {"status": 200, "error": {"message", "type", "code"}, "headers": {...},
         "usage": "ok" | "missing" | "invalid" | "absurd" | "over",
         "echo_key": true, "hang": seconds, "close_mid_body": true, "body": "raw text",
         "refuse": true, "answer": "text" (default: the right word for "number K" questions),
         "content_json": "raw JSON text of the message content" (e.g. "\"a\\u0000b\""),
         "gzip": true (gzip the body, Content-Encoding: gzip, whatever the client accepts),
         "name": "label logged as the request's action"}
  "{auth}" in a "body" or a header value is replaced by the request's Authorization header value
  (a server that echoes the key where it should not). The log records accept_encoding too.
Billing (logged as billed_prompt / billed_completion): a request the server generated an answer for
(status 200, including hangs, bodies cut mid-way and lying usage) bills its true tokens; errors and
requests during an outage bill nothing. True prompt tokens: words of every message + 4 per message
+ 3; true completion tokens: words of the answer, or 2 x max_tokens for "usage": "over" (a server
that ignores the cap).
"""
import argparse
import atexit
import gzip
import json
import re
import socket
import sys
import threading
import time

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 409: "Conflict",
           422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


class Server:
    def __init__(self, script, log_path, port=0, responder=None):
        """script/log_path: the scripted server; responder(c, method, path, headers, body) -> keep
        the connection open (bool): the in-process programmable one (FakeAPI)."""
        self.script = script or {}
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None
        self.responder = responder
        self.lock = threading.Lock()
        self.n = 0
        self.down = False
        self.conns = set()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(256)
        self.port = self.lsock.getsockname()[1]

    def serve(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return  # listening socket closed: the outage has begun
            with self.lock:
                self.conns.add(c)
            threading.Thread(target=self.connection, args=(c,), daemon=True).start()

    def go_down(self):
        """Outage "refuse": nobody can connect any more; a request on a connection still open is
        answered by closing it (answers already being written finish)."""
        self.down = True
        try:
            self.lsock.close()
        except OSError:
            pass

    # ---- HTTP/1.1 ----------------------------------------------------------------------------
    def connection(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for l in lines[1:]:
                    k, _, v = l.partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                while len(buf) < n:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:n], buf[n:]
                if not (self.responder or self.handle)(c, method, path, headers, body):
                    return
        except OSError:
            return
        finally:
            with self.lock:
                self.conns.discard(c)
            try:
                c.close()
            except OSError:
                pass

    def rule_for(self, n, attempt, model):
        for r in self.script.get("rules", []):
            w = r.get("when", {})
            if "from" in w and n < w["from"]:
                continue
            if "to" in w and n > w["to"]:
                continue
            if "attempt" in w and attempt != w["attempt"]:
                continue
            if "model" in w and model != w["model"]:
                continue
            if "every" in w and n % w["every"] != 0:
                continue
            return r.get("do", {})
        return self.script.get("default", {})

    def handle(self, c, method, path, headers, body):
        """Answers one request; returns False when the connection must close."""
        try:
            req = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            req = {}
        messages = req.get("messages") or []
        model = req.get("model", "")
        max_tokens = int(req.get("max_tokens") or req.get("max_completion_tokens") or 0)
        attempt = int(headers.get("x-stainless-retry-count", "0")) + 1
        user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        with self.lock:
            self.n += 1
            n = self.n
            outage = self.script.get("outage_after") is not None and n > self.script["outage_after"]
        entry = {"n": n, "t": time.time(), "method": method, "path": path, "model": model,
                 "attempt": attempt, "user": user, "max_tokens": max_tokens,
                 "authorization": headers.get("authorization", ""),
                 "accept_encoding": headers.get("accept-encoding", ""), "billed_prompt": 0,
                 "billed_completion": 0}
        if outage:
            entry["action"] = "outage"
            self.write_log(entry)
            if self.script.get("outage_mode", "refuse") == "hang":
                time.sleep(3600)
                return False
            self.go_down()
            return False
        do = self.rule_for(n, attempt, model)
        status = int(do.get("status", 200))
        m = re.search(r"number (\d+)", user)
        answer = WORDS[int(m.group(1)) % 8] if m else "alpha"
        if "answer" in do:
            answer = do["answer"]
        if do.get("echo_key"):
            answer = f"you sent {headers.get('authorization', '')}"
        true_prompt = sum(len(str(x.get("content", "")).split()) + 4 for x in messages) + 3
        true_completion = len(answer.split())
        if max_tokens and true_completion > max_tokens:
            true_completion = max_tokens
        usage_mode = do.get("usage", "ok")
        if usage_mode == "over":
            true_completion = 2 * max_tokens
        entry["action"] = do.get("name", "error" if status != 200 else usage_mode)
        entry["status"] = status
        auth = headers.get("authorization", "")
        extra = {k: str(v).replace("{auth}", auth) for k, v in do.get("headers", {}).items()}
        if status == 200:
            entry["billed_prompt"], entry["billed_completion"] = true_prompt, true_completion
            msg = {"role": "assistant", "content": answer}
            if do.get("refuse"):
                msg = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
            resp = {"id": f"chatcmpl-{n}" if not do.get("echo_key") else headers.get("authorization", ""),
                    "object": "chat.completion", "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}
            if usage_mode in ("ok", "over"):
                resp["usage"] = {"prompt_tokens": true_prompt, "completion_tokens": true_completion,
                                 "total_tokens": true_prompt + true_completion}
            elif usage_mode == "invalid":
                resp["usage"] = {"prompt_tokens": "lots", "completion_tokens": -3}
            elif usage_mode == "absurd":
                resp["usage"] = {"prompt_tokens": 1e15, "completion_tokens": 1,
                                 "total_tokens": 1e15 + 1}
            payload = json.dumps(resp).encode()
            if "content_json" in do:
                payload = payload.replace(json.dumps(answer).encode(), do["content_json"].encode(), 1)
        else:
            err = do.get("error", {"message": f"scripted error {status}", "type": "server_error",
                                   "code": None})
            payload = json.dumps({"error": err}).encode()
        if "body" in do:
            payload = do["body"].replace("{auth}", auth).encode()
        if do.get("gzip"):
            payload = gzip.compress(payload)
            extra["Content-Encoding"] = "gzip"
        self.write_log(entry)
        if do.get("hang"):
            time.sleep(float(do["hang"]))
        head = f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(payload)}\r\n"
        for k, v in extra.items():
            head += f"{k}: {v}\r\n"
        head += "\r\n"
        if do.get("close_mid_body"):
            c.sendall(head.encode() + payload[: len(payload) // 2])
            return False
        c.sendall(head.encode() + payload)
        return True

    def write_log(self, entry):
        if not self.log:
            return
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()


    def close(self):
        """Stops listening and closes every open connection."""
        self.go_down()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass


# ---- in process: the programmable server of the flow-control tests ---------------------------------
class Reply:
    """stream: [(seconds, text or bytes), ...] sends a body of content_type (default text/event-stream)
    piece by piece (each after its delay; no Content-Length), then closes the connection: the
    stream's own events say whether it ended ([DONE], message_stop, metadata) or was cut."""
    def __init__(self, status=200, body=None, headers=None, delay=0.0, raw=None, stream=None,
                 content_type="text/event-stream"):
        self.status, self.body, self.headers, self.delay, self.raw = status, body, headers or {}, delay, raw
        self.stream, self.content_type = stream, content_type


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
    """The server on 127.0.0.1:0 in this process, answering with handler(req); shut down at exit."""

    def __init__(self, handler=None):
        self.handler = handler or (lambda req: None)
        self.requests = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.srv = Server(None, None, 0, responder=self.respond)
        self.url = "http://127.0.0.1:%d/v1" % self.srv.port
        threading.Thread(target=self.srv.serve, daemon=True).start()
        atexit.register(self.stop)

    def respond(self, c, method, path, headers, body):
        req = Req(path, headers, body)
        req.t0 = time.monotonic()
        with self.lock:
            self.requests.append(req)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            rep = self.handler(req)
            if rep is None:
                rep = Reply(200, openai_answer(gold_answer(req)))
            if rep.delay:
                time.sleep(rep.delay)
            if rep.stream is not None:
                head = (f"HTTP/1.1 {rep.status} {REASONS.get(rep.status, 'Status')}\r\n"
                        f"Content-Type: {rep.content_type}\r\nConnection: close\r\n")
                head += "".join(f"{k}: {v}\r\n" for k, v in rep.headers.items()) + "\r\n"
                try:
                    c.sendall(head.encode())
                    for wait, text in rep.stream:
                        if wait:
                            time.sleep(wait)
                        c.sendall(text if isinstance(text, bytes) else text.encode())
                except OSError:
                    pass  # the client gave up (a first-token timeout)
                return False  # the end of the body is the close
            payload = rep.raw if rep.raw is not None else json.dumps(rep.body).encode()
            head = (f"HTTP/1.1 {rep.status} {REASONS.get(rep.status, 'Status')}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n")
            head += "".join(f"{k}: {v}\r\n" for k, v in rep.headers.items()) + "\r\n"
            try:
                c.sendall(head.encode() + payload)
            except OSError:
                return False  # the client gave up (e.g. a body over its limit)
            return True
        finally:
            with self.lock:
                self.in_flight -= 1
            req.t1 = time.monotonic()

    def stop(self):
        if self.srv:
            self.srv.close()
            self.srv = None

    def reset(self):
        with self.lock:
            self.requests = []
            self.max_in_flight = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    a = ap.parse_args()
    with open(a.script, encoding="utf-8") as f:
        script = json.load(f)
    s = Server(script, a.log, a.port)
    print(f"listening on http://127.0.0.1:{s.port}/v1", flush=True)
    s.serve()
    while True:  # outage: keep the process (and any hanging connection) alive until killed
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
