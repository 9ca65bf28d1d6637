#!/usr/bin/env bash
# Runs one ctest test and decides what a skip means; every ctest entry goes through here
# (warden_add_test in tests/CMakeLists.txt), so the rule below is written once.
#
# A test that the machine cannot run (not root, a tool or package missing) prints why, in a
# line starting with SKIP, and exits 77. On a developer's machine that stays 77, which ctest
# reports as skipped (never as passed). Under CI (the environment variable CI set to anything
# but "", "0" or "false"; .ci/run sets CI=true) scripts/install-deps.sh has installed
# everything, so a skip means a tier silently did not run: it becomes a failure (exit 1) with
# the test's reason repeated in a banner. Any other exit status passes through unchanged, and
# a test killed by a signal is reported as killed by that signal.
#   run_test.sh <test command> [arguments...]
set -uo pipefail

(($# > 0)) || { echo "usage: run_test.sh <test command> [arguments...]" >&2; exit 2; }

strict=0
case "${CI:-}" in
  "" | 0 | false | FALSE | False) ;;
  *) strict=1 ;;
esac

# The output goes to ctest as it comes, and to a file for the banner's reason.
log=$(mktemp "${TMPDIR:-/tmp}/warden-test-output.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if ((status == 77 && strict)); then
  reasons=$(grep -E '^[[:space:]]*SKIP' "$log" | head -n 20)
  bar="========================================================================"
  {
    echo "$bar"
    echo "FAIL: this test was SKIPPED, and under CI=$CI a skipped test is a failure:"
    echo "${reasons:-  (the test gave no reason: it printed no line starting with SKIP)}" | sed 's/^/  /'
    echo "CI runs every tier: install what the test needs in scripts/install-deps.sh."
    echo "$bar"
  }
  exit 1
fi
if ((status > 128 && status < 128 + 32)); then
  # Killed by a signal: die by the same one, so ctest says so (e.g. "SegFault").
  rm -f "$log"
  trap - EXIT "$((status - 128))"
  kill -s "$((status - 128))" $$
fi
exit "$status"
