# prism.sh — sourced by tests: starts Stoplight Prism (pinned in tests/prism, installed by
# scripts/test.sh / scripts/setup.sh --test, never by a test) as a mock of OpenAI's official spec
# on a free loopback port.
#   prism_start  -> sets PRISM_URL (http://127.0.0.1:PORT/v1) and PRISM_PID; when Prism or
#                   ../shared is missing: skip_or_fail (skipped outside CI, failure under CI)
#   prism_stop   -> stops that Prism (its own process group) and removes its log
# The Prism tests also hold the ctest RESOURCE_LOCK "prism" (CMakeLists.txt), so under ctest -j
# only one Prism starts at a time on the shared cores.
. "${FTEVAL_SRC:?}/tests/lib/skip.sh"
prism_start() {
  local spec="${FTEVAL_SHARED:-}/openai-openapi/openai-harness-v1.json"
  local bin="${FTEVAL_SRC:?}/tests/prism/node_modules/.bin/prism"
  [ -f "$spec" ] || skip_or_fail "the OpenAPI spec $spec (../shared)"
  command -v node >/dev/null 2>&1 || skip_or_fail "node (scripts/setup.sh --test installs it)"
  [ -x "$bin" ] || skip_or_fail "Prism at $bin (scripts/test.sh installs it: npm ci --prefix tests/prism)"
  local port
  port=$(${PYTHON:-/usr/bin/python3} -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  PRISM_LOG=$(mktemp)
  setsid "$bin" mock -h 127.0.0.1 -p "$port" "$spec" >"$PRISM_LOG" 2>&1 &
  PRISM_PID=$!
  PRISM_URL="http://127.0.0.1:$port/v1"
  for _ in $(seq 300); do
    if curl -s -o /dev/null -H 'Authorization: Bearer x' "$PRISM_URL/models" 2>/dev/null; then return 0; fi
    kill -0 "$PRISM_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: Prism did not start"; cat "$PRISM_LOG"; exit 1
}
prism_stop() {
  if [ -n "${PRISM_PID:-}" ]; then
    kill -- "-$PRISM_PID" 2>/dev/null || kill "$PRISM_PID" 2>/dev/null
    wait "$PRISM_PID" 2>/dev/null
    PRISM_PID=
  fi
  rm -f "${PRISM_LOG:-}"
}
