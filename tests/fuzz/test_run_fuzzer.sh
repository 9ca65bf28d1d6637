#!/usr/bin/env bash
# run_fuzzer.sh must not pass a run that tested nothing: a "fuzzer" that exits 0 without
# executing an input fails, and one that reports executed inputs passes.
#   test_run_fuzzer.sh <run_fuzzer.sh> <a seed corpus dir>
set -uo pipefail

runner=$1 seeds=$2
tmp=$(mktemp -d /tmp/warden-fuzz-runner.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
printf '#!/bin/sh\necho "INFO: Seed: 1"\nexit 0\n' >"$tmp/executes_nothing"
printf '#!/bin/sh\necho "stat::number_of_executed_units: 1000"\necho "stat::peak_rss_mb: 30"\nexit 0\n' >"$tmp/executes_inputs"
chmod +x "$tmp/executes_nothing" "$tmp/executes_inputs"

bash "$runner" "$tmp/executes_nothing" "$seeds" "$tmp/findings" 1 >"$tmp/out" 2>&1
rc=$?
if ((rc == 1)) && grep -q "executed no input" "$tmp/out"; then
  echo "  ok - a fuzzer that executed no input fails"
else
  echo "  FAIL - a fuzzer that executed no input: exit $rc; output:"; cat "$tmp/out"; failures=$((failures + 1))
fi
bash "$runner" "$tmp/executes_inputs" "$seeds" "$tmp/findings" 1 >"$tmp/out" 2>&1
rc=$?
if ((rc == 0)) && grep -q "^PASS" "$tmp/out"; then
  echo "  ok - a fuzzer that executed inputs passes"
else
  echo "  FAIL - a fuzzer that executed inputs: exit $rc; output:"; cat "$tmp/out"; failures=$((failures + 1))
fi
((failures == 0)) || { echo "FAIL: $failures check(s)"; exit 1; }
echo "PASS: run_fuzzer.sh passes only runs that executed inputs"
