"""`fteval run` paths no other test drives, against a programmable loopback server
(tests/lib/advserver.py, in process) whose request log is the evidence:
  - --cache: a second run answers from the cache (0 requests) and the key includes the provider
    name (the same body through another provider is sent);
  - --resume keeps bad_request / not_found records (docs/config.md) and re-sends only the rest;
  - the anthropic provider through `fteval run` (/v1/messages, headers, usage and cost computed here);
  - cached tokens priced at the input rate when the price row has no cached_input;
  - the replay provider through `fteval run` (no network);
  - exit 4 on an I/O failure (the run directory cannot be created), nothing sent;
  - --dry-run's token and cost figures against the estimator written here from docs/decision.md.
Exit 5 (internal error) has no path reachable from inputs: it is returned only when libcurl cannot
allocate a handle or initialise, so no test drives it (see the README's test section)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from advserver import FakeAPI, Reply, openai_answer, openai_error, gold_answer  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
MAX_TOKENS = 16


def recs_of(out, arm="base"):
    path = os.path.join(out, f"{arm}.jsonl")
    return fte.read_jsonl(path) if os.path.exists(path) else []


# ---- 1. --cache -------------------------------------------------------------------------------
api = FakeAPI()
data = os.path.join(d, "cache.jsonl")
rows = fte.plain_dataset(data, 6)
arms = [{"name": "one", "provider": "p1", "model": "m-x"}, {"name": "two", "provider": "p2", "model": "m-x"}]
cfg = fte.config(os.path.join(d, "cache.json"), data, api.url, arms,
                 providers={"p1": {"type": "openai", "base_url": api.url},
                            "p2": {"type": "openai", "base_url": api.url}},
                 defaults={"max_tokens": MAX_TOKENS})
cache_dirs = os.path.join(d, "cacheruns")
os.makedirs(cache_dirs)
p = fte.run("run", cfg, "--arms", "one", "--cache", "--out", os.path.join(cache_dirs, "r1"), "--quiet")
first = recs_of(os.path.join(cache_dirs, "r1"), "one")
t(p.returncode == 0 and len(api.requests) == 6, f"cache run 1: exit {p.returncode}, {len(api.requests)} requests, want 6")
t(len(first) == 6 and not any(r["cache_hit"] for r in first), "cache run 1: 6 records, no cache hits")
api.reset()
p = fte.run("run", cfg, "--arms", "one", "--cache", "--out", os.path.join(cache_dirs, "r2"), "--quiet")
second = recs_of(os.path.join(cache_dirs, "r2"), "one")
t(p.returncode == 0 and len(api.requests) == 0, f"cache run 2: {len(api.requests)} requests, want 0 (all cached)")
t(len(second) == 6 and all(r["cache_hit"] is True for r in second), "cache run 2: every record is a cache hit")
t(sorted((r["id"], r["prediction"]) for r in first) == sorted((r["id"], r["prediction"]) for r in second),
  "cache run 2: the same predictions")
# the same request bodies through another provider name: not in the cache
p = fte.run("run", cfg, "--arms", "two", "--cache", "--out", os.path.join(cache_dirs, "r3"), "--quiet")
third = recs_of(os.path.join(cache_dirs, "r3"), "two")
t(p.returncode == 0 and len(api.requests) == 6,
  f"cache, other provider: {len(api.requests)} requests, want 6 (the key includes the provider name)")
t(len(third) == 6 and not any(r["cache_hit"] for r in third), "cache, other provider: no cache hits")
api.reset()
p = fte.run("run", cfg, "--arms", "one", "--out", os.path.join(cache_dirs, "r4"), "--quiet")
t(p.returncode == 0 and len(api.requests) == 6, "without --cache: every request is sent")
api.stop()

# ---- 2. --resume keeps final errors -----------------------------------------------------------
def first_pass(req):
    if req.example == 1:
        return openai_error(400, "bad prompt")
    if req.example == 2:
        return openai_error(404, "The model does not exist", code="model_not_found")
    if req.example == 3:
        return openai_error(429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota")
    return None


api = FakeAPI(first_pass)
data = os.path.join(d, "resume.jsonl")
fte.plain_dataset(data, 6)
cfg = fte.config(os.path.join(d, "resume.json"), data, api.url,
                 defaults={"max_tokens": MAX_TOKENS, "concurrency": 1, "max_retries": 2})
out = os.path.join(d, "resume")
p = fte.run("run", cfg, "--out", out, "--quiet")
t(p.returncode == 4, f"resume pass 1: exit {p.returncode}, want 4 (quota)")
kinds = {int(r["id"][3:]): (r["status"], r["error"]["kind"] if r["error"] else None) for r in recs_of(out)}
t(kinds == {0: ("ok", None), 1: ("error", "bad_request"), 2: ("error", "not_found"),
            3: ("error", "insufficient_quota")}, f"resume pass 1 records: {kinds}")
t(sorted(r.example for r in api.requests) == [0, 1, 2, 3], "resume pass 1: examples 0-3 sent once each")
api.handler = lambda req: None
api.reset()
p = fte.run("run", cfg, "--out", out, "--resume", "--quiet")
sent = sorted(r.example for r in api.requests)
t(sent == [3, 4, 5], f"resume: sent examples {sent}, want [3, 4, 5] (bad_request and not_found are kept)")
final = {}
for r in recs_of(out):
    final[int(r["id"][3:])] = (r["status"], r["error"]["kind"] if r["error"] else None)
t(final == {0: ("ok", None), 1: ("error", "bad_request"), 2: ("error", "not_found"), 3: ("ok", None),
            4: ("ok", None), 5: ("ok", None)}, f"resume: final records {final}")
t(p.returncode == 1, f"resume: exit {p.returncode}, want 1 (2 of 6 failed: error-rate gate)")
api.stop()

# ---- 3. anthropic through fteval run; cached tokens at the input rate without cached_input ------
KEY = "sk-ant-test-key-31337"


def two_providers(req):
    if req.path == "/v1/messages":
        return Reply(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
                           "content": [{"type": "text", "text": gold_answer(req)}], "stop_reason": "end_turn",
                           "usage": {"input_tokens": 10, "cache_creation_input_tokens": 2,
                                     "cache_read_input_tokens": 4, "output_tokens": 1}})
    if req.path == "/v1/chat/completions":
        return Reply(200, openai_answer(gold_answer(req), prompt_tokens=10, completion_tokens=1, cached_tokens=6))
    return Reply(404, {"error": {"message": "no route " + req.path}})


api = FakeAPI(two_providers)
data = os.path.join(d, "anth.jsonl")
rows = fte.plain_dataset(data, 3)
PRICES = {"models": {"claude-test": {"input": 3.0, "cached_input": 0.3, "output": 15.0},
                     "m-nocache": {"input": 2.0, "output": 8.0}}}
cfg = fte.config(os.path.join(d, "anth.json"), data, api.url,
                 [{"name": "claude", "provider": "anth", "model": "claude-test"},
                  {"name": "oa", "provider": "sim", "model": "m-nocache"}],
                 providers={"anth": {"type": "anthropic", "base_url": api.url, "api_key_env": "FTE_TEST_ANTH_KEY"}},
                 defaults={"max_tokens": MAX_TOKENS, "temperature": 0}, prices=PRICES)
out = os.path.join(d, "anth")
p = fte.run("run", cfg, "--out", out, "--quiet", env={"FTE_TEST_ANTH_KEY": KEY})
t(p.returncode == 0, f"anthropic: exit {p.returncode} {p.stderr}")
msgs = [r for r in api.requests if r.path == "/v1/messages"]
t(len(msgs) == 3 and len(api.requests) == 6, f"anthropic: {len(msgs)} /v1/messages of {len(api.requests)} requests")
for r in msgs:
    body = r.json or {}
    t(r.headers.get("x-api-key") == KEY and r.headers.get("anthropic-version") == "2023-06-01"
      and "authorization" not in r.headers, "anthropic: x-api-key and anthropic-version headers")
    t(body.get("model") == "claude-test" and body.get("max_tokens") == MAX_TOKENS and "seed" not in body
      and body.get("messages") == [{"role": "user", "content": rows[r.example]["input"]}],
      f"anthropic: body {body}")
claude = recs_of(out, "claude")
want_claude = ((16 - 4) * 3.0 + 4 * 0.3 + 1 * 15.0) / 1e6  # prompt = 10 + 2 + 4, 4 of them cache reads
t(len(claude) == 3 and all(r["status"] == "ok" and r["finish_reason"] == "stop" and r["scores"]["exact_match"] == 1
                           and r["usage"] == {"prompt_tokens": 16, "completion_tokens": 1, "cached_tokens": 4}
                           for r in claude), f"anthropic: records {claude[:1]}")
t(all(abs(r["cost_usd"] - want_claude) < 1e-12 for r in claude),
  f"anthropic: cost {[r['cost_usd'] for r in claude]}, want {want_claude}")
oa = recs_of(out, "oa")
want_oa = (10 * 2.0 + 1 * 8.0) / 1e6  # no cached_input: the 6 cached tokens bill at input
t(len(oa) == 3 and all(r["usage"]["cached_tokens"] == 6 and abs(r["cost_usd"] - want_oa) < 1e-12 for r in oa),
  f"cached tokens without cached_input: cost {[r['cost_usd'] for r in oa]}, want {want_oa}")
t(KEY not in open(os.path.join(out, "manifest.json")).read() and KEY not in p.stderr, "the key is never written")
api.stop()

# ---- 4. replay through fteval run ------------------------------------------------------------
data = os.path.join(d, "replay.jsonl")
rows = fte.plain_dataset(data, 4)
preds = os.path.join(d, "preds.jsonl")
fte.write_jsonl(preds, [{"id": rows[0]["id"], "prediction": rows[0]["gold"]},
                        {"id": rows[1]["id"], "prediction": "wrong"},
                        {"id": rows[2]["id"], "prediction": rows[2]["gold"].upper()}])  # row 3 missing
cfg = fte.config(os.path.join(d, "replay.json"), data, "http://127.0.0.1:9/v1",
                 [{"name": "rec", "provider": "rp", "model": "recorded"}],
                 providers={"rp": {"type": "replay", "path": preds}})
out = os.path.join(d, "replay")
p = fte.run("run", cfg, "--out", out, "--quiet", "--max-error-rate", "0.5")
rec = {r["id"]: r for r in recs_of(out, "rec")}
t(p.returncode == 0, f"replay: exit {p.returncode} {p.stderr}")
t([rec.get(r["id"], {}).get("scores", {}).get("exact_match") for r in rows[:3]] == [1, 0, 1],
  f"replay: scores of the replayed predictions {[rec.get(r['id']) for r in rows[:3]]}")
t(rec.get(rows[3]["id"], {}).get("status") == "error"
  and rec[rows[3]["id"]]["error"]["kind"] == "missing_record", "replay: a missing prediction is an error record")
t(all(r["cost_usd"] is None or r["cost_usd"] == 0 for r in rec.values()) and len(rec) == 4, "replay: 4 records")

# ---- 5. exit 4 on an I/O failure --------------------------------------------------------------
api = FakeAPI()
data = os.path.join(d, "io.jsonl")
fte.plain_dataset(data, 3)
cfg = fte.config(os.path.join(d, "io.json"), data, api.url)
blocker = os.path.join(d, "a-file")
open(blocker, "w").close()
p = fte.run("run", cfg, "--out", os.path.join(blocker, "run"), "--quiet")
t(p.returncode == 4, f"I/O failure: exit {p.returncode}, want 4 ({p.stderr.strip()})")
t("cannot create" in p.stderr and len(api.requests) == 0, "I/O failure: named, and nothing sent")
api.stop()

# ---- 6. --dry-run figures ---------------------------------------------------------------------
api = FakeAPI()
data = os.path.join(d, "dry.jsonl")
rows = fte.plain_dataset(data, 20)
SYSTEM = "Answer with one word, please.\n\nNothing else!"
cfg = fte.config(os.path.join(d, "dry.json"), data, api.url,
                 [{"name": "base", "provider": "sim", "model": "m-priced"},
                  {"name": "prompted", "provider": "sim", "model": "m-priced", "system": SYSTEM},
                  {"name": "noprice", "provider": "sim", "model": "m-unknown"}],
                 defaults={"max_tokens": MAX_TOKENS},
                 prices={"models": {"m-priced": {"input": 150.0, "cached_input": 75.0, "output": 600.0}}})
p = fte.run("run", cfg, "--dry-run")
t(p.returncode == 0 and len(api.requests) == 0, f"dry run: exit {p.returncode}, {len(api.requests)} requests")
table = {}
for line in p.stdout.splitlines():
    f = line.split()
    if len(f) == 5 and f[0] in ("base", "prompted", "noprice"):
        table[f[0]] = f[2:]
want_prompt = {"base": sum(fte.estimate_request_tokens([r["input"]]) for r in rows),
               "prompted": sum(fte.estimate_request_tokens([SYSTEM, r["input"]]) for r in rows)}
compl = MAX_TOKENS * 20
total = 0.0
for arm in ("base", "prompted"):
    got = table.get(arm, ["?"] * 3)
    cost = (want_prompt[arm] * 150.0 + compl * 600.0) / 1e6
    total += cost
    t(got[0] == str(want_prompt[arm]) and got[1] == str(compl),
      f"dry run {arm}: tokens {got[:2]}, want {want_prompt[arm]} prompt, {compl} completion")
    t(got[2] == f"{cost:.4f}", f"dry run {arm}: cost {got[2]}, want {cost:.4f}")
t(table.get("noprice", [None] * 3)[2] == "unknown", "dry run: an unknown price is 'unknown', never $0")
t(f"worst-case total: ${total:.4f} (plus arms with unknown prices)" in p.stdout, f"dry run: total {total:.4f}")
cfg2 = fte.config(os.path.join(d, "dry2.json"), data, api.url, [{"name": "base", "provider": "sim", "model": "m-priced"}],
                  defaults={"max_tokens": MAX_TOKENS},
                  prices={"models": {"m-priced": {"input": 150.0, "output": 600.0}}}, budget={"max_usd": 0.1})
p = fte.run("run", cfg2, "--dry-run")
base_cost = (want_prompt["base"] * 150.0 + compl * 600.0) / 1e6
t(base_cost > 0.1 and p.returncode == 1 and "exceeds the budget" in p.stdout,
  f"dry run over budget (${base_cost:.4f} > $0.10): exit {p.returncode}")
t(len(api.requests) == 0, "dry run: nothing sent")
cfg3 = fte.config(os.path.join(d, "dry3.json"), data, api.url, [{"name": "base", "provider": "sim", "model": "m-priced"}],
                  defaults={"max_tokens": MAX_TOKENS},
                  prices={"models": {"m-priced": {"input": 150.0, "output": 600.0}}}, budget={"max_usd": 1.0})
p = fte.run("run", cfg3, "--dry-run")
t(p.returncode == 0 and "within budget" in p.stdout, f"dry run within budget: exit {p.returncode}")
api.stop()
t.done()
