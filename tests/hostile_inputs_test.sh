#!/usr/bin/env bash
# Hostile inputs never crash, hang or take unbounded memory: each ends in exit 3 with a message
# naming the file and line, or in a clean result. Runs `score` (no network) and `run` validation.
set -u
FTEVAL=${FTEVAL:?}
PY=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
# Under ASan the address space is huge, so a virtual-memory cap only applies to a plain build.
asan=0
grep -q __asan_init "$FTEVAL" 2>/dev/null && asan=1

"$PY" - "$tmp" <<'PYEOF'
import sys, os
d = sys.argv[1]
ok = b'{"id": "a", "input": "x", "gold": "1"}\n'
def w(name, data):
    open(os.path.join(d, name), "wb").write(data)
w("utf8.jsonl", ok + b'{"id": "b", "input": "\xff\xfe bad", "gold": "2"}\n')
w("overlong.jsonl", ok + b'{"id": "b", "input": "\xc0\xaf", "gold": "2"}\n')
w("nul.jsonl", ok + b'{"id": "b", "input": "a\x00b", "gold": "2"}\n')
w("huge.jsonl", ok + b'{"id": "b", "input": "' + b"x" * (64 * 1024 * 1024) + b'", "gold": "2"}\n')
w("nested.jsonl", ok + b"[" * 200000 + b"]" * 200000 + b"\n")
w("nested_obj.jsonl", ok + b'{"id": "b", "gold": "2", "meta": ' + b'{"a":' * 200000 + b"1" + b"}" * 200000 + b"}\n")
w("bignum.jsonl", ok + b'{"id": "b", "input": "x", "gold": "2", "cluster": 1e999, "meta": 123456789012345678901234567890}\n{"id": "c", "input": "x", "gold": "3", "meta": 1e308}\n')
w("bigid.jsonl", ok + b'{"id": 1e400, "input": "x", "gold": "2"}\n')
w("dup.jsonl", ok + ok)
w("binary.jsonl", os.urandom(4096))
w("pred.jsonl", b'{"id": "a", "prediction": "1"}\n{"id": "b", "prediction": "2"}\n')
PYEOF

case_() { # name file want_rc_list want_substring
  local name=$1 file=$2 rcs=$3 want=$4 out rc
  out=$( (
    [ "$asan" -eq 0 ] && ulimit -v 1048576
    timeout 60 "$FTEVAL" score --dataset "$tmp/$file" --pred a="$tmp/pred.jsonl" --out "$tmp/out-$name" --resamples 200
  ) 2>&1 >/dev/null)
  rc=$?
  if [[ " $rcs " == *" $rc "* ]] && { [ -z "$want" ] || [[ "$out" == *"$want"* ]]; }; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: rc=$rc (want one of $rcs) stderr: ${out:0:300} (want: $want)"
  fi
}

case_ utf8 utf8.jsonl 3 "utf8.jsonl:2: invalid UTF-8 at byte"
case_ overlong overlong.jsonl 3 "overlong.jsonl:2: invalid UTF-8"
case_ nul nul.jsonl 3 "nul.jsonl:2: line contains a NUL byte"
case_ huge huge.jsonl 3 "huge.jsonl:2: line longer than"
case_ nested nested.jsonl 3 "nested.jsonl:2: invalid JSON"
case_ nested_obj nested_obj.jsonl 3 "nested_obj.jsonl:2: invalid JSON"
case_ bignum bignum.jsonl 3 "bignum.jsonl:2: field 'cluster'"
case_ bigid bigid.jsonl 3 "bigid.jsonl:2: field 'id'"
case_ dup dup.jsonl 3 "dup.jsonl:2: field 'id': duplicate id 'a'"
case_ binary binary.jsonl 3 "binary.jsonl:1:"

# The same hostile dataset through `run` is refused before any request (port 9 is never used).
printf '{"name": "t", "dataset": "nested.jsonl", "providers": {"p": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}}, "arms": [{"name": "a", "provider": "p", "model": "m"}]}' > "$tmp/c.json"
out=$(timeout 60 "$FTEVAL" run "$tmp/c.json" 2>&1 >/dev/null); rc=$?
if [ $rc -eq 3 ] && [[ "$out" == *"nested.jsonl:2: invalid JSON"* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL run nested: $rc $out"; fi
# A hostile config: deep nesting and a huge number.
"$PY" -c "import sys; open(sys.argv[1],'w').write('{\"name\": ' + '['*100000 + ']'*100000 + '}')" "$tmp/deep.json"
out=$(timeout 60 "$FTEVAL" run "$tmp/deep.json" 2>&1 >/dev/null); rc=$?
if [ $rc -eq 3 ] && [[ "$out" == *"deep.json:1:"*"invalid JSON"* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL deep config: $rc $out"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
