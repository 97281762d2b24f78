#!/usr/bin/env bash
# The judged demo's masked summary.json against its golden file: tests/demo_golden_test.sh judged.
#   FTEVAL_GOLDEN_WRITE=1 bash tests/demo_judged_golden_test.sh   rewrites the golden file.
exec bash "$(dirname "$0")/demo_golden_test.sh" judged
