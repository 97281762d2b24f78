#!/usr/bin/env bash
# Mutation check: applies each curated single-line mutant of tests/mutation/mutants.tsv to a scratch
# copy of the tree (build-mutation/wN/), rebuilds it and runs the tests that own the module under
# CI=true. Every mutant must be killed; a survivor or an invalid entry fails the run, named.
#   tests/mutation/run.sh [-j WORKERS] [--only ID,ID] [--check] [--no-baseline] [-v]
# See tests/mutation/README.md for the list format and how to add a mutant.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/mutation/mutate.py "$@"
