#!/usr/bin/env bash
# Bad input ends in exit 3 (or 2 for usage) with a message naming the file, line or JSON path,
# before anything is sent. No server is needed: validation happens first.
set -u
FTEVAL=${FTEVAL:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() { # name want_rc want_substring cmd...
  local name=$1 want_rc=$2 want=$3
  shift 3
  local out rc
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  local line
  line=$(printf '%s\n' "$out" | grep '^fteval: error: ' | head -1)
  if [ "$rc" -eq "$want_rc" ] && [[ "$line" == *"$want"* ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: rc=$rc (want $want_rc), stderr: $out (want: $want)"
  fi
}

printf '{"id": "a", "input": "x", "gold": "1"}\n{"id": "b", "input": "y", "gold": "2"}\n' > "$tmp/good.jsonl"
printf '{"id": "a", "input": "x", "gold": "1"}\n{"id": "b", "input": "y", gold: 2}\n' > "$tmp/bad.jsonl"
printf '{"id": "a", "input": "x", "gold": "1"}\n{"id": "a", "input": "y", "gold": "2"}\n' > "$tmp/dup.jsonl"
printf '{"id": "a", "input": "x"}\n' > "$tmp/nogold.jsonl"

cfg() { # dataset arms-json [providers-json]
  local providers=${3:-'{"p": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}}'}
  printf '{"name": "t", "dataset": "%s", "providers": %s, "arms": %s}\n' "$1" "$providers" "$2" > "$tmp/c.json"
  echo "$tmp/c.json"
}
ARM='[{"name": "a", "provider": "p", "model": "m"}]'

check "malformed line" 3 "bad.jsonl:2: invalid JSON" "$FTEVAL" run "$(cfg bad.jsonl "$ARM")"
check "duplicate ids" 3 "dup.jsonl:2: field 'id': duplicate id 'a' (first on line 1)" "$FTEVAL" run "$(cfg dup.jsonl "$ARM")"
check "missing gold" 3 "nogold.jsonl:1: field 'gold': missing" "$FTEVAL" run "$(cfg nogold.jsonl "$ARM")"
check "missing model" 3 "c.json: arms[1].model: missing" "$FTEVAL" run \
  "$(cfg good.jsonl '[{"name": "a", "provider": "p", "model": "m"}, {"name": "b", "provider": "p"}]')"
check "unknown provider type" 3 "providers.p.type: unknown provider type 'grpc'" "$FTEVAL" run \
  "$(cfg good.jsonl "$ARM" '{"p": {"type": "grpc", "base_url": "http://127.0.0.1:9/v1"}}')"
check "unset key variable" 3 "providers.p.api_key_env: environment variable FTEVAL_NO_SUCH_KEY is not set (needed by arm 'a')" \
  env -u FTEVAL_NO_SUCH_KEY "$FTEVAL" run \
  "$(cfg good.jsonl "$ARM" '{"p": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "FTEVAL_NO_SUCH_KEY"}}')"
check "unreadable dataset" 3 "missing.jsonl: cannot open" "$FTEVAL" run "$(cfg missing.jsonl "$ARM")"
check "unreadable config" 3 "nope.json: cannot read" "$FTEVAL" run "$tmp/nope.json"
check "template field" 3 "good.jsonl:1: arms[0] 'a': example 'a' (line 1): template: field 'context'" "$FTEVAL" run \
  "$(printf '{"name": "t", "dataset": "good.jsonl", "task": {"template": "{context}"}, "providers": {"p": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}}, "arms": %s}' "$ARM" > "$tmp/c.json"; echo "$tmp/c.json")"
check "usage: no config" 2 "missing CONFIG" "$FTEVAL" run
check "usage: unknown option" 2 "unknown option '--frobnicate'" "$FTEVAL" run "$tmp/c.json" --frobnicate
check "usage: unknown command" 2 "unknown command 'frob'" "$FTEVAL" frob
check "score: bad pred line" 3 "p.jsonl:1: field 'id'" sh -c \
  "printf '{\"prediction\": \"x\"}\n' > '$tmp/p.jsonl'; '$FTEVAL' score --dataset '$tmp/good.jsonl' --pred a='$tmp/p.jsonl' --out '$tmp/o'"
check "score: bad dataset" 3 "bad.jsonl:2: invalid JSON" "$FTEVAL" score --dataset "$tmp/bad.jsonl" --pred a="$tmp/good.jsonl"

# Nothing was written for runs that failed validation.
[ ! -d results/t ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: a results folder was created"; }
# help and version
"$FTEVAL" --version | grep -q '^fteval [0-9]' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL --version"; }
"$FTEVAL" run --help | grep -q '^usage: fteval run CONFIG' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL run --help"; }
"$FTEVAL" help score | grep -q '^usage: fteval score' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL help score"; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
