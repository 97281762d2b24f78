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

# --x=v means --x v on every command: each pair below must give the same result (report takes
# no options of its own besides --help).
same() { # name file_a file_b
  if [ -s "$2" ] && cmp -s "$2" "$3"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $1: '$2' and '$3' differ or are empty"; diff "$2" "$3" | head -5
  fi
}
both() { # name out_prefix cmd_with_eq... -- cmd_with_space...: stdout+stderr (digits masked) and rc
  local name=$1 out=$2; shift 2
  local eq=() sp=()
  while [ "$1" != "--" ]; do eq+=("$1"); shift; done
  shift
  sp=("$@")
  { "${eq[@]}"; echo "rc=$?"; } 2>&1 | sed 's/[0-9][0-9]* ms/N ms/' > "$out.eq"
  { "${sp[@]}"; echo "rc=$?"; } 2>&1 | sed 's/[0-9][0-9]* ms/N ms/' > "$out.sp"
  same "$name" "$out.eq" "$out.sp"
}
mkdir -p "$tmp/eq"
(
  cd "$tmp/eq" || exit 1
  printf '{"id": "%s", "input": "q%s", "gold": "%s"}\n' a 1 1 b 2 2 c 3 3 d 4 1 e 5 2 f 6 3 > d.jsonl
  printf '{"id": "a", "prediction": "1"}\n{"id": "b", "prediction": "x"}\n{"id": "c", "prediction": "3"}\n' > pa.jsonl
  printf '{"id": "a", "prediction": "1"}\n{"id": "b", "prediction": "2"}\n{"id": "c", "prediction": "3"}\n' > pb.jsonl
  printf '{"name": "t", "dataset": "d.jsonl", "providers": {"p": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}}, "arms": [{"name": "a", "provider": "p", "model": "m"}]}\n' > c.json
) || fail=$((fail + 1))
E=$tmp/eq
both "run --limit=1 --concurrency=2 (dry run)" "$E/run" "$FTEVAL" run "$E/c.json" --dry-run --limit=1 --concurrency=2 -- \
  "$FTEVAL" run "$E/c.json" --dry-run --limit 1 --concurrency 2
grep -q '^dry run: 1 examples x 1 arms' "$E/run.eq" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL run --limit=1 was not applied"; }
"$FTEVAL" score --dataset="$E/d.jsonl" --pred=a="$E/pa.jsonl" --pred=b="$E/pb.jsonl" --out="$E/score/s1" --seed=3 --resamples=200 >/dev/null 2>&1
"$FTEVAL" score --dataset "$E/d.jsonl" --pred a="$E/pa.jsonl" --pred b="$E/pb.jsonl" --out "$E/score/s2" --seed 3 --resamples 200 >/dev/null 2>&1
for f in a.jsonl b.jsonl; do same "score --pred=ARM=FILE: $f" "$E/score/s1/$f" "$E/score/s2/$f"; done
grep -v '"run_id"' "$E/score/s1/summary.json" > "$E/score/s1.summary"; grep -v '"run_id"' "$E/score/s2/summary.json" > "$E/score/s2.summary"
same "score --seed=3 --resamples=200: summary.json" "$E/score/s1.summary" "$E/score/s2.summary"
grep -q '"resamples":	200' "$E/score/s1/manifest.json" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL score --resamples=200 was not applied"; }
both "compare --margin=0.1 --arms=a,b" "$E/cmp" "$FTEVAL" compare "$E/score/s1" "$E/score/s2" --margin=0.1 --arms=a,b --json --out="$E/c1" -- \
  "$FTEVAL" compare "$E/score/s1" "$E/score/s2" --margin 0.1 --arms a,b --json --out "$E/c1"
grep -q '"margin":	0.1' "$E/cmp.eq" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL compare --margin=0.1 was not applied"; }
"$FTEVAL" history --append="$E/score/s1" >/dev/null && "$FTEVAL" history --append "$E/score/s2" >/dev/null
both "history --last=1" "$E/hist" "$FTEVAL" history "$E/score" --last=1 --json -- "$FTEVAL" history "$E/score" --last 1 --json
[ "$(grep -c '"run_id"' "$E/hist.eq")" -eq 1 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL history --last=1 was not applied"; }
both "data check --json=- --max-findings=5" "$E/check" "$FTEVAL" data check "$E/d.jsonl" --json=- --max-findings=5 -- \
  "$FTEVAL" data check "$E/d.jsonl" --json - --max-findings 5
"$FTEVAL" data split "$E/d.jsonl" --test-fraction=0.5 --seed=3 --train="$E/tr1" --test="$E/te1" >/dev/null
"$FTEVAL" data split "$E/d.jsonl" --test-fraction 0.5 --seed 3 --train "$E/tr2" --test "$E/te2" >/dev/null
same "data split --test-fraction=0.5 --seed=3: train" "$E/tr1" "$E/tr2"
same "data split --test-fraction=0.5 --seed=3: test" "$E/te1" "$E/te2"
"$FTEVAL" data to-chat "$E/d.jsonl" --config="$E/c.json" --out="$E/chat1.jsonl" --arm=a >/dev/null
"$FTEVAL" data to-chat "$E/d.jsonl" --config "$E/c.json" --out "$E/chat2.jsonl" --arm a >/dev/null
same "data to-chat --config=CONFIG --out=OUT --arm=a" "$E/chat1.jsonl" "$E/chat2.jsonl"
both "ft create --n-epochs=0" "$E/ftc" "$FTEVAL" ft create --model=m --training-file=f --n-epochs=0 -- \
  "$FTEVAL" ft create --model m --training-file f --n-epochs 0
grep -q "n-epochs '0'" "$E/ftc.eq" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL ft create --n-epochs=0 was not applied"; }
both "ft status --base-url=URL" "$E/fts" env OPENAI_API_KEY=sk-test "$FTEVAL" ft status ftjob-1 --base-url=http://127.0.0.1:9/v1 --max-retries=0 -- \
  env OPENAI_API_KEY=sk-test "$FTEVAL" ft status ftjob-1 --base-url http://127.0.0.1:9/v1 --max-retries 0
grep -q "127.0.0.1 port 9" "$E/fts.eq" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL ft --base-url=URL was not applied"; }
both "sim --dataset=FILE" "$E/sim" "$FTEVAL" sim --port=0 --dataset="$E/missing.jsonl" -- "$FTEVAL" sim --port 0 --dataset "$E/missing.jsonl"
grep -q "missing.jsonl: cannot open" "$E/sim.eq" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL sim --dataset=FILE was not applied"; }

# unknown options: the nearest option is suggested; usage errors exit 2 with a hint
check "run: did you mean" 2 "unknown option '--limt'; did you mean '--limit'?" "$FTEVAL" run "$E/c.json" --limt 3
check "score: did you mean" 2 "unknown option '--datset'; did you mean '--dataset'?" "$FTEVAL" score --datset x
check "compare: did you mean" 2 "unknown option '--marign'; did you mean '--margin'?" "$FTEVAL" compare a b --marign=0.1
check "report: no near option" 2 "unknown option '--frobnicate'" "$FTEVAL" report --frobnicate
check "history: did you mean" 2 "unknown option '--lsat'; did you mean '--last'?" "$FTEVAL" history x --lsat 3
check "data check: did you mean" 2 "unknown option '--agianst'; did you mean '--against'?" "$FTEVAL" data check x --agianst y
check "data split: did you mean" 2 "unknown option '--test-fractoin'; did you mean '--test-fraction'?" "$FTEVAL" data split x --test-fractoin 0.2
check "ft create: did you mean" 2 "unknown option '--modle'; did you mean '--model'?" "$FTEVAL" ft create --modle m
check "ft list: option of another subcommand" 2 "unknown option '--force'" "$FTEVAL" ft list --force
check "sim: did you mean" 2 "unknown option '--prot'; did you mean '--port'?" "$FTEVAL" sim --prot 0
check "unknown command: did you mean" 2 "unknown command 'rnu'; did you mean 'run'?" "$FTEVAL" rnu
check "unknown subcommand: did you mean" 2 "unknown subcommand 'lsit'; did you mean 'list'?" "$FTEVAL" ft lsit
check "rate: did you mean" 2 "unknown subcommand 'exprot'; did you mean 'export'?" "$FTEVAL" rate exprot
check "missing value" 2 "option '--out' needs a value" "$FTEVAL" run "$E/c.json" --out
check "flag with a value" 2 "option '--dry-run' takes no value" "$FTEVAL" run "$E/c.json" --dry-run=yes
check "range" 2 "invalid value '0' for '--concurrency': expected an integer in 1..100000" "$FTEVAL" run "$E/c.json" --concurrency=0
"$FTEVAL" run "$E/c.json" --limt 3 2>&1 | grep -qx "hint: see 'fteval run --help'" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL hint line"; }
# --help on stdout, exit 0, for every command and subcommand; the option list comes from the table
for c in run score compare report history data "data check" "data split" "data to-chat" ft "ft create" "ft wait" sim rate "rate export" "rate import"; do
  # shellcheck disable=SC2086
  out=$("$FTEVAL" $c --help 2>/dev/null); rc=$?
  if [ $rc -eq 0 ] && [[ "$out" == usage:* ]] && [[ "$out" == *"--help"* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $c --help (rc $rc)"; fi
done
"$FTEVAL" help compare | grep -q '^  --margin X  *non-inferiority margin' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL help compare lists --margin"; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
