#!/usr/bin/env bash
# Proves the skip rule of warden's tests (run_test.sh, warden_add_test.cmake): a test that
# cannot run here (exit 77) is reported as skipped without CI and fails under CI=true, with
# its reason printed; other exit codes pass through. First run_test.sh alone, then through
# ctest itself (a throw-away project that registers a skipping test with warden_add_test),
# then every ctest entry of the real build dir must go through the rule.
#   test_skip_rule.sh <tests/support dir> <build dir> <cmake> <ctest>
set -euo pipefail

support=$1 build=$2 cmake=$3 ctest=$4
run_test=$support/run_test.sh
tmp=$(mktemp -d /tmp/warden-skip-rule.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "  ok - $*"; }
fail() {
  echo "  FAIL - $*"
  failures=$((failures + 1))
}

# expect <exit code, or "non-zero"> <description> <command...>: runs it, keeps its output in $tmp/out.
expect() {
  local want=$1 what=$2 rc=0
  shift 2
  "$@" >"$tmp/out" 2>&1 || rc=$?
  if [[ $want == non-zero ]] && ((rc != 0)) || [[ $want == "$rc" ]]; then
    ok "$what (exit $rc)"
  else
    fail "$what: exit $rc, expected $want; output:"$'\n'"$(cat "$tmp/out")"
  fi
}
# says <text> <description>: the last output contains text (n times, when given).
says() {
  local text=$1 what=$2 times=${3:-}
  local n
  n=$(grep -cF -- "$text" "$tmp/out" || true)
  if [[ -z $times && $n -gt 0 ]] || [[ -n $times && $n -eq $times ]]; then
    ok "$what"
  else
    fail "$what: '$text' appears $n times, expected ${times:-some}; output:"$'\n'"$(cat "$tmp/out")"
  fi
}

reason="SKIP: needs a frobnicator (apt-get install frobnicator)"
skipping=(bash -c "echo 'running'; echo '$reason'; exit 77")

echo "run_test.sh on its own"
for ci in unset "" 0 false; do
  if [[ $ci == unset ]]; then env=(env -u CI); else env=(env "CI=$ci"); fi
  expect 77 "a skip with CI $ci stays a skip" "${env[@]}" "$run_test" "${skipping[@]}"
  says "$reason" "  and its reason is printed"
  says "FAIL" "  and nothing says FAIL" 0
done
for ci in true 1 yes; do
  expect 1 "a skip with CI=$ci is a failure" env "CI=$ci" "$run_test" "${skipping[@]}"
  says "$reason" "  its reason is printed by the test and again in the banner" 2
  says "FAIL: this test was SKIPPED, and under CI=$ci a skipped test is a failure" "  the banner says why it fails"
  says "running" "  the test's own output is there"
done
expect 1 "a skip without a reason under CI=true fails too" env CI=true "$run_test" bash -c 'exit 77'
says "the test gave no reason" "  and says the reason is missing"
for ci in unset true; do
  if [[ $ci == unset ]]; then env=(env -u CI); else env=(env "CI=$ci"); fi
  for code in 0 1 3; do
    expect "$code" "exit $code with CI $ci passes through" "${env[@]}" "$run_test" bash -c "exit $code"
  done
done
expect $((128 + 11)) "a test killed by SIGSEGV is reported as killed by SIGSEGV" \
  env -u CI "$run_test" bash -c 'kill -SEGV $$'

echo "through ctest"
mkdir -p "$tmp/project"
cat >"$tmp/project/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(skip_rule NONE)
enable_testing()
include($support/warden_add_test.cmake)
warden_add_test(NAME fine COMMAND bash -c "echo fine")
warden_add_test(NAME needs_frobnicator COMMAND bash -c "echo running; echo '$reason'; exit 77")
EOF
if "$cmake" -S "$tmp/project" -B "$tmp/project/build" >"$tmp/out" 2>&1; then
  cd "$tmp/project/build"
  expect 0 "without CI, ctest passes with the test skipped" env -u CI "$ctest" --output-on-failure
  says "***Skipped" "  ctest lists one test as skipped" 1
  says "100% tests passed, 0 tests failed out of 2" "  and ends with its summary line"
  expect non-zero "with CI=true, ctest fails on the skipped test" env CI=true "$ctest" --output-on-failure
  says "***Failed" "  ctest lists one test as failed" 1
  says "$reason" "  the reason is printed" 2
  says "50% tests passed, 1 tests failed out of 2" "  and ends with its summary line"
  cd - >/dev/null
else
  fail "the throw-away project does not configure:"$'\n'"$(cat "$tmp/out")"
fi

echo "every ctest entry of $build"
if (cd "$build" && "$ctest" --show-only=json-v1) >"$tmp/tests.json" 2>"$tmp/out"; then
  python3 - "$tmp/tests.json" "$run_test" >"$tmp/out" 2>&1 <<'EOF' && ok "$(cat "$tmp/out")" || fail "$(cat "$tmp/out")"
import json, os, sys
tests, run_test = json.load(open(sys.argv[1]))["tests"], os.path.realpath(sys.argv[2])
bad = []
for t in tests:
    command = t.get("command", [])
    skip_code = {p["name"]: p["value"] for p in t.get("properties", [])}.get("SKIP_RETURN_CODE")
    if len(command) < 2 or os.path.realpath(command[1]) != run_test or skip_code != 77:
        bad.append(f"{t['name']} (command {command[:2]}, SKIP_RETURN_CODE {skip_code})")
if not tests:
    sys.exit("ctest lists no tests")
if bad:
    sys.exit("not registered with warden_add_test: " + ", ".join(bad))
print(f"all {len(tests)} tests run through run_test.sh with SKIP_RETURN_CODE 77")
EOF
else
  fail "ctest --show-only=json-v1 failed in $build: $(cat "$tmp/out")"
fi

if ((failures)); then
  echo "FAIL: $failures check(s) failed"
  exit 1
fi
echo "PASS: the skip rule holds"
