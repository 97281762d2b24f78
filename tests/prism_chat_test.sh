#!/usr/bin/env bash
# Conformance with OpenAI's official OpenAPI spec: every chat-completions request fteval sends,
# in every shape a config can produce, is validated by Prism; any 422 fails. A deliberately
# invalid arm proves the validator is really checking.
set -u
FTEVAL=${FTEVAL:?}
PY=${PYTHON:-/usr/bin/python3}
. "${FTEVAL_SRC:?}/tests/lib/prism.sh"
tmp=$(mktemp -d)
trap 'prism_stop; rm -rf "$tmp"' EXIT
prism_start

cat > "$tmp/d.jsonl" <<'JSONL'
{"id": "p1", "input": "Capital of France?", "context": "Geography", "gold": "Paris"}
{"id": "p2", "input": "2+2?", "context": "Math", "gold": ["4", "four"]}
{"id": "c1", "messages": [{"role": "system", "content": "own system"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": [{"type": "text", "text": "bye"}]}, {"role": "assistant", "content": "GOLD"}]}
JSONL
printf '{"input": "1+1?", "context": "Math", "gold": "2"}\n' > "$tmp/few.jsonl"
cat > "$tmp/c.json" <<JSON
{"name": "prism", "dataset": "d.jsonl",
 "task": {"template": "{context}: {input}"},
 "defaults": {"temperature": 0, "max_tokens": 16, "seed": 7, "max_retries": 0},
 "providers": {
   "openai": {"type": "openai", "base_url": "$PRISM_URL", "api_key_env": "FTEVAL_PRISM_KEY"},
   "o-series": {"type": "openai", "base_url": "$PRISM_URL", "api_key_env": "FTEVAL_PRISM_KEY",
                "cap_field": "max_completion_tokens", "headers": {"OpenAI-Project": "proj_x"}}
 },
 "arms": [
   {"name": "base", "provider": "openai", "model": "gpt-4o-mini-2024-07-18"},
   {"name": "prompted", "provider": "openai", "model": "gpt-4o-mini-2024-07-18", "system": "Be brief.",
    "few_shot": "few.jsonl", "temperature": 1.5},
   {"name": "reasoning", "provider": "o-series", "model": "o4-mini-2025-04-16",
    "extra_body": {"reasoning_effort": "low", "response_format": {"type": "json_schema",
      "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}}}},
   {"name": "finetuned", "provider": "openai", "model": "ft:gpt-4o-mini-2024-07-18:acme::abc123",
    "extra_body": {"stop": ["\\n"], "top_p": 0.9, "logprobs": true, "top_logprobs": 2}},
   {"name": "invalid", "provider": "openai", "model": "gpt-4o-mini-2024-07-18",
    "extra_body": {"temperature": 7, "n": 0}}
 ],
 "max_error_rate": 1}
JSON
FTEVAL_PRISM_KEY=sk-prism-test "$FTEVAL" run "$tmp/c.json" --out "$tmp/run" --resamples 100 >"$tmp/out" 2>"$tmp/err"
rc=$?
"$PY" - "$tmp/run" "$rc" <<'PYEOF'
import json, sys
run, rc = sys.argv[1], int(sys.argv[2])
ok = 0; fails = []
def check(cond, msg):
    global ok
    if cond: ok += 1
    else: fails.append(msg)
check(rc == 0, f"fteval run exit code {rc}")
for arm in ("base", "prompted", "reasoning", "finetuned"):
    recs = [json.loads(l) for l in open(f"{run}/{arm}.jsonl")]
    check(len(recs) == 3, f"{arm}: {len(recs)} records")
    for r in recs:
        check(r["status"] == "ok", f"{arm}/{r['id']}: {r['error']}")
inv = [json.loads(l) for l in open(f"{run}/invalid.jsonl")]
check(len(inv) == 3 and all(r["error"] and r["error"]["http_status"] == 422 for r in inv),
      "the invalid arm was not rejected with 422: Prism is not validating")
for f in fails: print("FAIL", f)
print(f"{ok} passed, {len(fails)} failed")
sys.exit(1 if fails else 0)
PYEOF
