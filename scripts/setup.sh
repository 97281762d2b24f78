#!/usr/bin/env bash
# Installs what fteval needs from Debian's packages (only what is missing) and builds it.
#   scripts/setup.sh          build dependencies, then build/ (Release with debug info)
#   scripts/setup.sh --test   also the test tools: scipy/statsmodels/numpy, jsonschema, clang, chromium, node
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(cmake make gcc pkg-config libcurl4-openssl-dev libcjson-dev libgsl-dev libssl-dev libpcre2-dev libyaml-dev)
test_pkgs=(python3 python3-scipy python3-statsmodels python3-numpy python3-jsonschema python3-sklearn clang libclang-rt-14-dev
           chromium curl pmccabe)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node and npm run the OpenAPI conformance mock (Prism); keep an existing install.
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

werror=OFF
[ -n "${CI:-}" ] && werror=ON
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFTEVAL_WERROR=$werror >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "setup: built build/fteval" >&2
