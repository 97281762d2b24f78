"""Batch mode against a misbehaving batch API (tests/lib/advserver.py, independent of `fteval sim`).

The server answers the OpenAI batch flow by hand: the output file has its lines out of order, a
custom_id twice (the first line wins: its answer is right, the second's is wrong), a line for a
custom_id that was never sent, and no line at all for one request; the first poll of the first
batch is a 500 (retried, not fatal). Exact outcomes: 6 ok records with the first answers; the
missing request, and only it, goes into a second batch; exactly 2 uploads and 2 creates; the
poll that failed was sent again. Then a config with "batch": true on a provider type without a
batch API is refused (exit 3), and the Anthropic error types map to the error kinds.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from advserver import FakeAPI, Reply, openai_answer, WORDS  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
rows = fte.plain_dataset(data, 6)
state = {"uploads": [], "creates": 0, "polls": {}}


def jsonl_of(raw):
    return [json.loads(l) for l in raw.decode("utf-8", "replace").splitlines() if l.startswith('{"custom_id"')]


def out_line(cid, word, n=0):
    return json.dumps({"id": f"batch_req_{n}", "custom_id": cid,
                       "response": {"status_code": 200, "request_id": f"req_{n}",
                                    "body": openai_answer(word, prompt_tokens=10, completion_tokens=1, model="m-a")},
                       "error": None})


def gold(cid):
    return WORDS[int(cid.split("-")[1]) % 8]


def handler(req):
    path = req.path.split("?")[0]
    if path == "/v1/files":
        state["uploads"].append([l["custom_id"] for l in jsonl_of(req.raw)])
        return Reply(200, {"id": f"file-in{len(state['uploads'])}", "object": "file", "purpose": "batch"})
    if path == "/v1/batches" and req.json:
        state["creates"] += 1
        return Reply(200, {"id": f"batch_{state['creates']}", "object": "batch", "status": "validating",
                           "input_file_id": req.json["input_file_id"]})
    if path.startswith("/v1/batches/"):
        bid = path.rsplit("/", 1)[1]
        n = state["polls"][bid] = state["polls"].get(bid, 0) + 1
        if bid == "batch_1" and n == 1:
            return Reply(500, {"error": {"message": "poll failed", "type": "server_error", "code": None}})
        done = n >= 3
        k = bid.split("_")[1]
        return Reply(200, {"id": bid, "object": "batch", "status": "completed" if done else "in_progress",
                           "output_file_id": f"file-out{k}" if done else None, "error_file_id": None,
                           "request_counts": {"total": 6, "completed": 6 if done else 2, "failed": 0}})
    if path == "/v1/files/file-out1/content":
        sent = state["uploads"][0]
        lines = [out_line(sent[5], gold(sent[5]), 1), out_line(sent[3], gold(sent[3]), 2),
                 out_line(sent[0], gold(sent[0]), 3), out_line(sent[0], "wrong", 4),
                 out_line("not-sent", "alpha", 5), out_line(sent[1], gold(sent[1]), 6),
                 out_line(sent[2], gold(sent[2]), 7)]  # sent[4]: no line at all
        return Reply(200, raw=("\n".join(lines) + "\n").encode())
    if path == "/v1/files/file-out2/content":
        return Reply(200, raw="".join(out_line(c, gold(c), 9) + "\n" for c in state["uploads"][1]).encode())
    return Reply(404, {"error": {"message": f"no route {req.path}", "type": "invalid_request_error"}})


api = FakeAPI(handler)
cfg = fte.config(os.path.join(d, "c.json"), data, api.url, [{"name": "a", "provider": "sim", "model": "m-a"}],
                 providers={"sim": {"batch": True, "batch_poll_s": 0.02}})
out = os.path.join(d, "run")
p = fte.run("run", cfg, "--out", out)
t(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-600:]}")
recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "a.jsonl"))}
first = state["uploads"][0] if state["uploads"] else []
t(len(state["uploads"]) == 2 and state["creates"] == 2, f"2 uploads, 2 creates: {state['uploads']} {state['creates']}")
t(sorted(first) == sorted(r["id"] for r in rows), "the first batch carries every example")
t(len(state["uploads"]) == 2 and state["uploads"][1] == [first[4]],
  f"only the request without a result line goes again: {state['uploads'][1:]}")
t(len(recs) == 6 and len(fte.read_jsonl(os.path.join(out, "a.jsonl"))) == 6, "one record per example")
t(all(r["status"] == "ok" and r["prediction"] == gold(i) for i, r in recs.items()),
  f"every answer joined to its example, the first line of a duplicate wins: "
  f"{[(i, r['prediction']) for i, r in recs.items()]}")
t(recs[first[4]]["batch_id"] == "batch_2" and all(recs[c]["batch_id"] == "batch_1" for c in first[:4] + first[5:]),
  "records name the batch that answered them")
t(state["polls"].get("batch_1") == 3, f"the failed poll was retried: {state['polls']}")
t("1 duplicate line(s) ignored, 1 unknown custom_id(s), 0 unreadable line(s), 1 request(s) without a result line"
  in p.stderr, f"the anomalies are reported: {p.stderr[-600:]}")
api.stop()

# a provider type without a batch API
cfg2 = fte.config(os.path.join(d, "c2.json"), data, "http://127.0.0.1:9/v1",
                  [{"name": "a", "provider": "r", "model": "m"}],
                  providers={"r": {"type": "replay", "path": data, "batch": True}})
p = fte.run("run", cfg2, "--out", os.path.join(d, "bad"))
t(p.returncode == 3 and "providers.r.batch" in p.stderr and "no batch API" in p.stderr,
  f"batch on a replay provider: exit {p.returncode} {p.stderr[-300:]}")

# ---- Anthropic: result types and error types -------------------------------------------------------
ant = {"creates": [], "results": 0}


def ant_message(word):
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [{"type": "text", "text": word}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 12, "output_tokens": 1}}


def ant_handler(req):
    path = req.path.split("?")[0]
    if path == "/v1/messages/batches" and req.json:
        ant["creates"].append([r["custom_id"] for r in req.json["requests"]])
        return Reply(200, {"id": f"msgbatch_{len(ant['creates'])}", "type": "message_batch",
                           "processing_status": "in_progress"})
    if path.endswith("/results"):
        bid = path.split("/")[-2]
        sent = ant["creates"][int(bid.split("_")[1]) - 1]
        if bid == "msgbatch_1":
            err = lambda typ: {"type": "errored", "error": {"type": "error", "error": {"type": typ, "message": typ}}}
            res = [{"type": "succeeded", "message": ant_message(gold(sent[0]))}, err("invalid_request_error"),
                   err("rate_limit_error"), {"type": "expired"}, err("overloaded_error"), {"type": "canceled"}]
        else:
            res = [{"type": "succeeded", "message": ant_message(gold(c))} for c in sent]
        lines = [json.dumps({"custom_id": c, "result": r}) for c, r in zip(sent, res)]
        return Reply(200, raw=("\n".join(reversed(lines)) + "\n").encode())
    if path.startswith("/v1/messages/batches/"):
        bid = path.rsplit("/", 1)[1]
        return Reply(200, {"id": bid, "type": "message_batch", "processing_status": "ended",
                           "request_counts": {"processing": 0, "succeeded": 1, "errored": 3, "canceled": 1,
                                              "expired": 1},
                           "results_url": f"https://api.example.invalid/v1/messages/batches/{bid}/results"})
    return Reply(404, {"type": "error", "error": {"type": "not_found_error", "message": req.path}})


api = FakeAPI(ant_handler)
os.environ["FTEVAL_TEST_ANT_KEY"] = "sk-ant-adv-test"
cfg3 = fte.config(os.path.join(d, "c3.json"), data, api.url, [{"name": "c", "provider": "ant", "model": "claude-x"}],
                  providers={"ant": {"type": "anthropic", "base_url": api.url, "batch": True, "batch_poll_s": 0.02,
                                     "api_key_env": "FTEVAL_TEST_ANT_KEY"}}, max_error_rate=1)
out = os.path.join(d, "ant")
p = fte.run("run", cfg3, "--out", out)
t(p.returncode == 0, f"anthropic: exit {p.returncode} {p.stderr[-500:]}")
recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "c.jsonl"))}
sent = ant["creates"][0] if ant["creates"] else []
t(len(ant["creates"]) == 2 and sorted(ant["creates"][1]) == sorted([sent[3], sent[5]]),
  f"expired and canceled requests, and only they, go again: {ant['creates']}")
kinds = {c: (recs[c]["status"], (recs[c]["error"] or {}).get("kind"), (recs[c]["error"] or {}).get("http_status"))
         for c in sent}
t(kinds == {sent[0]: ("ok", None, None), sent[1]: ("error", "bad_request", 400),
            sent[2]: ("error", "rate_limit", 429), sent[3]: ("ok", None, None),
            sent[4]: ("error", "server_error", 529), sent[5]: ("ok", None, None)},
  f"result and error types map to records and kinds: {kinds}")
t(all(r["prediction"] == gold(i) for i, r in recs.items() if r["status"] == "ok"), "answers joined by custom_id")
auth = [r.headers for r in api.requests]
t(all(h.get("x-api-key") == "sk-ant-adv-test" and "authorization" not in h and h.get("anthropic-version")
      for h in auth), "x-api-key and anthropic-version on every call, no bearer token")
api.stop()
t.done()
