#!/usr/bin/env bash
# bench/report_browser/run.sh — report.html's example browser at 50,000 examples x 3 arms: file
# size, `fteval report` time and open time in headless Chromium, for labels (outputs deduplicate)
# and for free text (every output distinct). Needs a build (FTEVAL, default build/fteval),
# Chromium and puppeteer-core (PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tests/browser).
# usage: bench/report_browser/run.sh [N]        (README: "Example browser at 50k")
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
fteval=${FTEVAL:-$src/build/fteval}
n=${1:-50000}
work=$(mktemp -d "${TMPDIR:-/tmp}/fteval-bench-browser.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "| examples | records (3 .jsonl) | report.html | of it JSON | fteval report | open to first page | filter click | first search | next search | JS heap |"
echo "|---|---|---|---|---|---|---|---|---|---|"
python3 "$src/bench/report_browser/bench.py" "$fteval" "$work" --n "$n" | tail -1
python3 "$src/bench/report_browser/bench.py" "$fteval" "$work" --n "$n" --free-text | tail -1
