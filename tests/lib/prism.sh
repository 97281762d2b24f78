# prism.sh — sourced by tests: starts Stoplight Prism (pinned in tests/prism, installed by
# scripts/test.sh) as a mock of OpenAI's official spec on a free loopback port.
#   prism_start  -> sets PRISM_URL (http://127.0.0.1:PORT/v1) and PRISM_PID; exits 77 (skip)
#                   when Prism or ../shared is missing outside CI, fails inside CI.
prism_start() {
  local spec="${FTEVAL_SHARED:-}/openai-openapi/openai-harness-v1.json"
  local bin="${FTEVAL_SRC:?}/tests/prism/node_modules/.bin/prism"
  if [ ! -f "$spec" ] || [ ! -x "$bin" ]; then
    if [ -n "${CI:-}" ]; then echo "FAIL: Prism or the OpenAPI spec is missing in CI ($bin, $spec)"; exit 1; fi
    echo "skipped: needs ../shared/openai-openapi and Prism (npm ci --prefix tests/prism)"; exit 77
  fi
  local port
  port=$(${PYTHON:-/usr/bin/python3} -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  PRISM_LOG=$(mktemp)
  "$bin" mock -h 127.0.0.1 -p "$port" "$spec" >"$PRISM_LOG" 2>&1 &
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
  [ -n "${PRISM_PID:-}" ] && kill "$PRISM_PID" 2>/dev/null && wait "$PRISM_PID" 2>/dev/null
  rm -f "${PRISM_LOG:-}"
}
