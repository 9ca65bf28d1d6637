#!/usr/bin/env bash
# The command line without a kernel: help, usage errors (exit 2), runtime errors (exit 1),
# policy check. Needs no root: nothing here loads a program or opens a pin.
#   tests/cli/test_cli.sh WARDEN SOURCE_DIR
set -uo pipefail
warden=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect CODE DESCRIPTION -- COMMAND...: runs it and checks the exit code (and, with
# EXPECT_OUT set, that its output contains that text).
expect() {
  local code=$1 what=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]]; then
    echo "FAIL: $what: exit $rc, expected $code"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  elif [[ -n "${EXPECT_OUT:-}" && "$out" != *"$EXPECT_OUT"* ]]; then
    echo "FAIL: $what: output lacks \"$EXPECT_OUT\""
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
  unset EXPECT_OUT
}

EXPECT_OUT="quarantine add" expect 0 "--help lists the commands" -- "$warden" --help
EXPECT_OUT="usage: warden quarantine add MAC" expect 0 "a command's --help" -- "$warden" quarantine add --help
EXPECT_OUT="warden " expect 0 "--version" -- "$warden" --version
expect 2 "no command is a usage error" -- "$warden"
EXPECT_OUT="unknown command" expect 2 "an unknown command" -- "$warden" frobnicate
EXPECT_OUT="needs a subcommand" expect 2 "a group without its subcommand" -- "$warden" quarantine
EXPECT_OUT="expected 1 argument" expect 2 "a missing argument" -- "$warden" quarantine del
EXPECT_OUT="unrecognised option" expect 2 "an unknown option" -- "$warden" devices --colour
EXPECT_OUT="--log-level" expect 2 "a bad log level" -- "$warden" --log-level loud status
EXPECT_OUT="not a MAC address" expect 2 "a bad MAC" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:zz
EXPECT_OUT="multicast" expect 2 "a multicast MAC" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add ff:ff:ff:ff:ff:ff
EXPECT_OUT="--for \"5x\"" expect 2 "a bad duration" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:01 --for 5x
EXPECT_OUT="--level must be" expect 2 "a bad level" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:01 --level lock
EXPECT_OUT="host bits set" expect 2 "a bad prefix" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" block add 198.18.0.1/16
EXPECT_OUT="--sort must be" expect 2 "a bad sort key" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" flows --sort size
EXPECT_OUT="warden is not running" expect 1 "nothing running is a runtime error" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" devices
EXPECT_OUT="ok (2 LAN port(s)" expect 0 "the example policy checks" -- "$warden" policy check "$src/config/policy.yaml"

printf 'interfaces:\n  wan: eth0\n  lan: [eth1]\ninterval: 5x\nxdp_mode: turbo\nbogus: 1\n' >"$tmp/bad.yaml"
out=$("$warden" policy check "$tmp/bad.yaml" 2>&1)
rc=$?
if [[ $rc -eq 1 && "$out" == *"bad.yaml:4:"* && "$out" == *"bad.yaml:5:"* && "$out" == *"bad.yaml:6:"* ]]; then
  echo "ok: policy check prints every error with its line"
else
  echo "FAIL: policy check of three errors (exit $rc):"
  echo "$out" | sed 's/^/    /'
  failures=$((failures + 1))
fi
out=$("$warden" policy check --json "$tmp/bad.yaml" 2>&1)
if /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert not d["ok"] and len(d["errors"]) == 3' "$out"; then
  echo "ok: policy check --json"
else
  echo "FAIL: policy check --json: $out"
  failures=$((failures + 1))
fi
EXPECT_OUT="cannot use the policy" expect 1 "a broken --config is named" -- "$warden" -c "$tmp/bad.yaml" devices

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all CLI checks passed"
