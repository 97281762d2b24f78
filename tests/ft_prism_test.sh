#!/usr/bin/env bash
# ft_prism_test.sh — OpenAPI conformance of `fteval ft`: runs every subcommand against Stoplight
# Prism mocking OpenAI's official spec (PROVIDER-APIS §10). Prism answers 422 to any request that
# violates the spec, so any 422 fails this test. Prism's placeholder answers ("string" ids,
# has_more always true) also check that the client tolerates odd but schema-valid bodies.
#
# Needs $FTEVAL_SHARED/openai-openapi/openai-harness-v1.json and Prism in tests/prism (installed
# by scripts/test.sh, never here); started by tests/lib/prism.sh: without them skipped (77) on a
# developer machine, a failure under CI.
set -u

: "${FTEVAL:?FTEVAL must name the fteval binary}"
: "${FTEVAL_SRC:?FTEVAL_SRC must name the source tree}"
PY=${PYTHON:-python3}
. "$FTEVAL_SRC/tests/lib/prism.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ft_prism.XXXXXX")
trap 'prism_stop; rm -rf "$WORK"' EXIT
prism_start
BASE=$PRISM_URL

export FT_PRISM_KEY="sk-prism-dummy-key-7f3a9c"
fail=0
n=0

# Negative control: Prism must reject an invalid create, or the 422 checks below prove nothing.
code=$("$PY" - "$BASE" <<'EOF'
import json, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1] + "/fine_tuning/jobs", data=json.dumps({"training_file": "f"}).encode(),
                             headers={"Authorization": "Bearer x", "Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
EOF
)
if [ "$code" != 422 ]; then
    echo "FAIL: Prism accepted an invalid create (status $code): validation is not active" >&2
    exit 1
fi

# run NAME EXPECTED_EXIT ARGS... : runs fteval ft ARGS against Prism.
run() {
    local name=$1 want=$2
    shift 2
    n=$((n + 1))
    "$FTEVAL" ft "$@" --base-url "$BASE" --api-key-env FT_PRISM_KEY --max-retries 0 \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    local why=
    [ "$rc" = "$want" ] || why="exit $rc, want $want"
    if grep -q ' 422' "$WORK/$name.err" "$WORK/$name.out"; then why="$why; Prism answered 422"; fi
    if grep -q "$FT_PRISM_KEY" "$WORK/$name.err" "$WORK/$name.out"; then why="$why; API key printed"; fi
    if [ -n "$why" ]; then
        echo "FAIL $name: $why" >&2
        sed 's/^/  stderr: /' "$WORK/$name.err" >&2
        sed 's/^/  stdout: /' "$WORK/$name.out" | head -20 >&2
        fail=1
    else
        echo "ok   $name"
    fi
}

# run_json NAME ARGS... : like run (exit 0) and stdout must be one JSON object with "object".
run_json() {
    local name=$1
    shift
    run "$name" 0 "$@" --json
    if ! "$PY" -c 'import json,sys; o=json.load(open(sys.argv[1])); assert isinstance(o, dict) and "object" in o' \
        "$WORK/$name.out" 2>/dev/null; then
        echo "FAIL $name: stdout is not a JSON API object" >&2
        fail=1
    fi
}

printf '%s\n' '{"messages":[{"role":"user","content":"2+2?"},{"role":"assistant","content":"4"}]}' \
    >"$WORK/train.jsonl"

run upload 0 upload "$WORK/train.jsonl"
run_json upload_json upload "$WORK/train.jsonl" --purpose fine-tune
run create 0 create --model gpt-4o-mini-2024-07-18 --training-file file-abc
run_json create_all create --model gpt-4o-mini-2024-07-18 --training-file file-abc \
    --validation-file file-def --suffix demo --n-epochs 3 --batch-size auto \
    --learning-rate-multiplier 0.5 --seed 7 --method supervised
run_json create_dpo create --model gpt-4o-mini-2024-07-18 --training-file file-abc \
    --method dpo --beta 0.1 --n-epochs auto --batch-size 8
run create_client_id 0 create --model gpt-4o-mini-2024-07-18 --training-file file-abc \
    --client-id fteval-prism-test
run status 0 status ftjob-abc
run_json status_json status ftjob-abc
run events 0 events ftjob-abc --limit 5
run_json events_json events ftjob-abc --limit 5
run checkpoints 0 checkpoints ftjob-abc
run_json checkpoints_json checkpoints ftjob-abc
run cancel 0 cancel ftjob-abc
run_json cancel_json cancel ftjob-abc
run list 0 list --limit 3
run_json list_json list
# Prism's job never leaves its first status: wait must time out (exit 4), having polled cleanly.
run wait 4 wait ftjob-abc --poll-interval 0.2 --timeout 1

# each placeholder id printed by upload/create must be a plain id line
for f in upload create; do
    [ "$(wc -l <"$WORK/$f.out")" = 1 ] || { echo "FAIL $f: expected one id line" >&2; fail=1; }
done

echo "$n fteval ft invocations against Prism"
exit $fail
