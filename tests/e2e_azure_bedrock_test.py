"""Azure OpenAI and Amazon Bedrock end to end (issue 15): `fteval run` against a loopback server
(tests/lib/advserver.py) that checks what each platform checks.

Azure: the classic deployment URL with ?api-version= and the literal api-key header, then the v1
URL with an Entra ID bearer token; a 400 content_filter (prompt filtered) and a 200 whose
content_filter_results say filtered are refusals (records ok, finish_reason content_filter,
summary n_refusals), a 429 is retried; costs come from the arm's price_model row.
Bedrock: POST /model/{ARN, encoded}/converse, every request's SigV4 Authorization recomputed by
an independent Python implementation (tests/lib/sigv4_ref.py) from what arrived on the wire
(the signed headers, the raw path, the body) with the test's secret, the session token signed,
X-Amz-Date within 5 minutes; ThrottlingException retried, guardrail_intervened a refusal,
ValidationException a final bad_request; a wrong secret is refused by the server (so the check
is real) and the run stops on the first 403. No key, token or secret reaches any output.
"""
import glob
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
import sigv4_ref  # noqa: E402
from advserver import FakeAPI, Reply, gold_answer, openai_answer  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
N = 30
fte.plain_dataset(data, N)
KEY, TOKEN = "azkey-SECRET-0123456789", "eyJ0eXAiOiJKV1Qi.SECRET-entra-token"
AK, SK, ST = "AKIDFTEVALTEST", "wJalrXUtnFEMI/SECRET/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzSECRET-session-token=="
SECRETS = [KEY, TOKEN, SK, ST]
PRICES = json.load(open(os.path.join(fte.SRC, "configs", "prices.json")))
AZ_ROW = PRICES["models"]["azure/gpt-4o-mini-2024-07-18"]
BR_ROW = PRICES["models"]["amazon.nova-micro-v1:0"]


def cost(row, prompt, completion):
    return (prompt * row["input"] + completion * row["output"]) / 1e6


def no_secrets(out_dir, p, what):
    texts = [p.stdout, p.stderr] + [open(f, encoding="utf-8", errors="replace").read()
                                     for f in glob.glob(os.path.join(out_dir, "**", "*"), recursive=True)
                                     if os.path.isfile(f)]
    leaked = [s for s in SECRETS if any(s in x for x in texts)]
    t(not leaked, f"{what}: secrets in the outputs: {leaked}")


def summary_arm(out_dir, arm):
    s = json.load(open(os.path.join(out_dir, "summary.json")))
    return s["arms"][arm]


# ---------------------------------------------------------------- Azure, classic URL + api-key
seen_429 = set()
azure_bad = []


def azure_handler(req):
    path, _, query = req.path.partition("?")
    if req.headers.get("api-key") != KEY or "authorization" in req.headers:
        azure_bad.append(("auth", dict(req.headers)))
        return Reply(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key"}})
    if path != "/openai/deployments/ft-banking-v2/chat/completions" or \
            urllib.parse.parse_qs(query) != {"api-version": ["2024-10-21"]}:
        azure_bad.append(("url", req.path))
        return Reply(404, {"error": {"code": "DeploymentNotFound", "message": "no such deployment"}})
    ex = req.example
    if ex == 3:
        return Reply(400, {"error": {"message": "The response was filtered due to the prompt triggering Azure OpenAI's "
                                                "content management policy.", "type": None, "param": "prompt",
                                     "code": "content_filter", "status": 400,
                                     "innererror": {"code": "ResponsibleAIPolicyViolation",
                                                    "content_filter_result": {"violence": {"filtered": True,
                                                                                           "severity": "high"}}}}})
    if ex == 5:
        body = openai_answer("partial", prompt_tokens=10, completion_tokens=1)
        body["choices"][0]["content_filter_results"] = {"hate": {"filtered": True, "severity": "medium"}}
        return Reply(200, body)
    if ex == 7 and ex not in seen_429:
        seen_429.add(ex)
        return Reply(429, {"error": {"code": "429", "message": "exceeded token rate limit; retry after 1 second"}},
                     headers={"retry-after": "0"})
    body = openai_answer(gold_answer(req), prompt_tokens=10, completion_tokens=1)
    body["choices"][0]["content_filter_results"] = {"hate": {"filtered": False, "severity": "safe"}}
    body["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {}}]
    return Reply(200, body)


az = FakeAPI(azure_handler)
endpoint = az.url[:-len("/v1")]
cfg = fte.config(os.path.join(d, "azure.json"), data, endpoint,
                 [{"name": "ft", "provider": "az", "model": "ft-banking-v2", "price_model": "azure/gpt-4o-mini-2024-07-18"}],
                 providers={"az": {"type": "azure_openai", "endpoint": endpoint, "api_version": "2024-10-21",
                                   "api_key_env": "FTEVAL_TEST_AZURE_KEY"}},
                 prices=PRICES, defaults={"concurrency": 4})
cfg_j = json.load(open(cfg))
del cfg_j["providers"]["sim"]
fte.write_json(cfg, cfg_j)
out = os.path.join(d, "azure-out")
p = fte.run("run", cfg, "--out", out, "--quiet", env={"FTEVAL_TEST_AZURE_KEY": KEY})
t(p.returncode == 0, f"azure: exit {p.returncode}: {p.stderr}")
t(not azure_bad, f"azure: the server saw a wrong URL or auth: {azure_bad[:3]}")
t(len(az.requests) == N + 1, f"azure: {len(az.requests)} requests, want {N} + 1 retried 429")
recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "ft.jsonl"))}
t(len(recs) == N and all(r["status"] == "ok" for r in recs.values()),
  f"azure: {N} ok records: {[(r['id'], r['status']) for r in recs.values() if r['status'] != 'ok']}")
r3, r5, r7 = recs.get("ex-00003", {}), recs.get("ex-00005", {}), recs.get("ex-00007", {})
t(r3.get("finish_reason") == "content_filter" and r3.get("prediction") == "",
  f"azure: the 400 content_filter is a refusal: {r3}")
t(r3.get("usage") is None and r3.get("cost_usd") is None and r3.get("spend_estimated") is True,
  f"azure: a refusal without usage has no cost (null) and an estimated spend: {r3}")
t(r5.get("finish_reason") == "content_filter", f"azure: filtered content_filter_results is a refusal: {r5}")
t(r7.get("attempts") == 2 and r7.get("finish_reason") == "stop", f"azure: the 429 was retried once: {r7}")
normal = recs.get("ex-00001", {})
want = cost(AZ_ROW, 10, 1)
t(normal.get("cost_usd") is not None and abs(normal["cost_usd"] - want) < 1e-15,
  f"azure: priced by price_model: {normal.get('cost_usd')} want {want}")
arm = summary_arm(out, "ft")
t(arm.get("n_refusals") == 2, f"azure: summary n_refusals {arm.get('n_refusals')}, want 2")
bodies = [r.json for r in az.requests]
t(all(b and b.get("model") == "ft-banking-v2" and b.get("max_tokens") == 16 for b in bodies),
  "azure: OpenAI bodies with the deployment as model")
man = json.load(open(os.path.join(out, "manifest.json")))
marm = man["arms"][0]
t(marm.get("price_model") == "azure/gpt-4o-mini-2024-07-18" and marm["price"]["output"] == AZ_ROW["output"],
  f"azure: the manifest names the price row: {marm}")
t(man["fingerprint"]["fields"].get("arms[0].api_version") == "2024-10-21", "azure: api_version is in the fingerprint")
no_secrets(out, p, "azure")

# ---------------------------------------------------------------- Azure, v1 URL + Entra token
v1_bad = []


def v1_handler(req):
    if req.path != "/openai/v1/chat/completions" or req.headers.get("authorization") != "Bearer " + TOKEN or \
            "api-key" in req.headers:
        v1_bad.append((req.path, dict(req.headers)))
        return Reply(401, {"error": {"code": "401", "message": "bad token"}})
    return Reply(200, openai_answer(gold_answer(req), prompt_tokens=10, completion_tokens=1))


az1 = FakeAPI(v1_handler)
ep1 = az1.url[:-len("/v1")]
cfg_j["providers"]["az"] = {"type": "azure_openai", "endpoint": ep1, "api_version": "v1",
                            "token_env": "FTEVAL_TEST_AZURE_TOKEN"}
cfg1 = os.path.join(d, "azure-v1.json")
fte.write_json(cfg1, cfg_j)
out1 = os.path.join(d, "azure-v1-out")
p = fte.run("run", cfg1, "--out", out1, "--quiet", "--limit", "5", env={"FTEVAL_TEST_AZURE_TOKEN": TOKEN})
t(p.returncode == 0 and not v1_bad and len(az1.requests) == 5,
  f"azure v1: exit {p.returncode}, {len(az1.requests)} requests, bad {v1_bad[:2]}: {p.stderr}")
t(all(r.json.get("model") == "ft-banking-v2" for r in az1.requests), "azure v1: the deployment is the body's model")
no_secrets(out1, p, "azure v1")
p = fte.run("run", cfg1, "--out", os.path.join(d, "azure-v1-nokey"), "--quiet", env={"FTEVAL_TEST_AZURE_TOKEN": ""})
t(p.returncode == 3 and "FTEVAL_TEST_AZURE_TOKEN" in p.stderr and len(az1.requests) == 5,
  f"azure v1: an unset token_env is a config error before sending: {p.returncode} {p.stderr}")

# ---------------------------------------------------------------- Bedrock Converse + SigV4
MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/ftbank01"
verified, bedrock_bad = [], []
throttled = set()


def bedrock_handler(req):
    path = req.path
    auth = req.headers.get("authorization")
    parsed = sigv4_ref.parse_authorization(auth)
    if not parsed:
        bedrock_bad.append(("no sigv4 authorization", auth))
        return Reply(403, {"message": "Missing Authentication Token"}, headers={"x-amzn-ErrorType": "MissingAuthenticationTokenException"})
    akid, scope, signed, sig = parsed
    date = req.headers.get("x-amz-date", "")
    ok_time = False
    try:
        ok_time = abs(time.mktime(time.strptime(date, "%Y%m%dT%H%M%SZ")) - time.mktime(time.gmtime())) < 300
    except ValueError:
        pass
    want = sigv4_ref.authorization("POST", path, "", [(h, req.headers.get(h, "")) for h in signed], req.raw, date,
                                   "us-east-1", "bedrock", AK, SK)
    checks = [akid == AK, scope == date[:8] + "/us-east-1/bedrock/aws4_request", ok_time,
              {"host", "x-amz-date", "x-amz-security-token", "content-type"} <= set(signed),
              req.headers.get("x-amz-security-token") == ST, auth == want]
    if not all(checks):
        bedrock_bad.append((checks, auth, want))
        return Reply(403, {"message": "The request signature we calculated does not match the signature you provided."},
                     headers={"x-amzn-ErrorType": "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/"})
    if path != "/model/" + urllib.parse.quote(MODEL, safe="") + "/converse":
        bedrock_bad.append(("path", path))
        return Reply(404, {"message": "model not found"}, headers={"x-amzn-ErrorType": "ResourceNotFoundException"})
    verified.append(path)
    ex = req.example
    if ex == 2 and ex not in throttled:
        throttled.add(ex)
        return Reply(429, {"message": "Too many requests, please wait before trying again."},
                     headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    if ex == 6:
        return Reply(400, {"message": "Malformed input request, please reformat your input and try again."},
                     headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    text, reason = (gold_answer(req), "end_turn") if ex != 4 else ("Sorry, I cannot help with that.", "guardrail_intervened")
    return Reply(200, {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": reason,
                       "usage": {"inputTokens": 10, "outputTokens": 1, "totalTokens": 11}, "metrics": {"latencyMs": 5}},
                 headers={"x-amzn-RequestId": "req-%s" % ex})


br = FakeAPI(bedrock_handler)
ep_br = br.url[:-len("/v1")]
cfg_j["providers"] = {"br": {"type": "bedrock", "endpoint": ep_br, "region": "us-east-1"}}
cfg_j["arms"] = [{"name": "nova-ft", "provider": "br", "model": MODEL, "price_model": "amazon.nova-micro-v1:0",
                  "system": "Answer with one word."}]
cfgb = os.path.join(d, "bedrock.json")
fte.write_json(cfgb, cfg_j)
outb = os.path.join(d, "bedrock-out")
aws_env = {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK, "AWS_SESSION_TOKEN": ST, "AWS_REGION": "eu-west-3"}
p = fte.run("run", cfgb, "--out", outb, "--quiet", env=aws_env)
t(not bedrock_bad, f"bedrock: signatures or paths refused: {bedrock_bad[:2]}")
t(len(br.requests) == N + 1 and len(verified) == N + 1,
  f"bedrock: {len(br.requests)} requests ({len(verified)} verified), want {N} + 1 retried throttle")
recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(outb, "nova-ft.jsonl"))}
t(len(recs) == N, f"bedrock: {len(recs)} records")
r2, r4, r6 = recs.get("ex-00002", {}), recs.get("ex-00004", {}), recs.get("ex-00006", {})
t(r2.get("status") == "ok" and r2.get("attempts") == 2, f"bedrock: ThrottlingException retried: {r2}")
t(r4.get("status") == "ok" and r4.get("finish_reason") == "content_filter", f"bedrock: guardrail is a refusal: {r4}")
e6 = r6.get("error") or {}
t(r6.get("status") != "ok" and e6.get("kind") == "bad_request" and r6.get("attempts") == 1,
  f"bedrock: ValidationException is a final bad_request: {r6}")
want = cost(BR_ROW, 10, 1)
r1 = recs.get("ex-00001", {})
t(r1.get("cost_usd") is not None and abs(r1["cost_usd"] - want) < 1e-15 and r1.get("finish_reason") == "stop",
  f"bedrock: priced by price_model: {r1.get('cost_usd')} want {want}")
arm = summary_arm(outb, "nova-ft")
t(arm.get("n_refusals") == 1, f"bedrock: summary n_refusals {arm.get('n_refusals')}")
kinds = arm.get("errors_by_kind", {})
t(set(kinds) == {"bad_request"} and kinds["bad_request"]["count"] == 1 and kinds["bad_request"]["http_status"] == 400,
  f"bedrock: errors_by_kind {kinds}")
b = br.requests[0].json or {}
t(b.get("system") == [{"text": "Answer with one word."}] and b.get("inferenceConfig") == {"maxTokens": 16, "temperature": 0}
  and b["messages"][0]["role"] == "user" and "text" in b["messages"][0]["content"][0],
  f"bedrock: the Converse body: {b}")
t(all(r.headers.get("host") == ep_br[len("http://"):] for r in br.requests), "bedrock: the signed Host is the one sent")
fields = json.load(open(os.path.join(outb, "manifest.json")))["fingerprint"]["fields"]
t(fields.get("arms[0].region") == "us-east-1", f"bedrock: the config's region (not AWS_REGION) is in the fingerprint: {fields.get('arms[0].region')}")
no_secrets(outb, p, "bedrock")

# the region: config wins over AWS_REGION; without either the config is refused
del cfg_j["providers"]["br"]["region"]
fte.write_json(cfgb, cfg_j)
p = fte.run("run", cfgb, "--out", os.path.join(d, "br-noregion"), "--quiet",
            env=dict(aws_env, AWS_REGION=""))
t(p.returncode == 3 and "region" in p.stderr, f"bedrock: no region is a config error: {p.returncode} {p.stderr}")
p = fte.run("run", cfgb, "--out", os.path.join(d, "br-nokey"), "--quiet",
            env=dict(aws_env, AWS_SECRET_ACCESS_KEY=""))
t(p.returncode == 3 and "AWS_SECRET_ACCESS_KEY" in p.stderr, f"bedrock: no secret is a config error: {p.stderr}")

# a wrong secret: the server's independent check refuses it and the run stops at the first 403
n_before = len(br.requests)
bedrock_bad.clear()
cfg_j["providers"]["br"]["region"] = "us-east-1"
fte.write_json(cfgb, cfg_j)
p = fte.run("run", cfgb, "--out", os.path.join(d, "br-wrong"), "--quiet",
            env=dict(aws_env, AWS_SECRET_ACCESS_KEY="not-the-secret"))
t(p.returncode != 0 and "403" in p.stderr and len(br.requests) - n_before == 1 and len(bedrock_bad) == 1,
  f"bedrock: a wrong secret fails verification, one request sent: {p.returncode} {len(br.requests) - n_before} {p.stderr}")
t.done()
