#!/usr/bin/env bash
# bench/stats/corpus.sh — times the corpus bootstrap and the approximate-randomization test at
# n = 10,000, B = 10,000, 77 classes (issue 13), on 2 threads (default) and 1 thread.
# Usage: bench/stats/corpus.sh [BUILD_DIR] [N] [B] [CLASSES]     (not a test; run by hand)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$SRC/build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I"$SRC" -o "$TMP/corpus_bench" "$HERE/corpus_bench.c" \
    "$BUILD/libfteval_metrics.a" "$BUILD/libfteval_base.a" \
    -lcjson -lgsl -lgslcblas -lcrypto -lm -lpthread
for i in 1 2 3; do
    echo "2 threads: $("$TMP/corpus_bench" "${@:2}")"
    echo "1 thread:  $(FTEVAL_STATS_THREADS=1 "$TMP/corpus_bench" "${@:2}")"
done
