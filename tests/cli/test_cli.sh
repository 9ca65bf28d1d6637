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

EXPECT_OUT="cut devices off the network, let them back" expect 0 "--help lists the commands" -- "$warden" --help
EXPECT_OUT="usage: warden quarantine add MAC" expect 0 "a command's --help" -- "$warden" quarantine add --help
out=$("$warden" --version 2>&1)
if [[ "$out" =~ ^warden\ [0-9.]+\ \(commit\ ([0-9a-f]{7,}(-dirty)?|unknown),\ libbpf\ [0-9]+\.[0-9]+\)$ ]]; then
  echo "ok: --version names the release, the commit and libbpf"
else
  echo "FAIL: --version says \"$out\""
  failures=$((failures + 1))
fi

# Help for a group and through `warden help`: on stdout, exit 0; the subcommands aligned.
for group in quarantine block profile policy; do
  out=$("$warden" "$group" --help 2>/dev/null)
  rc=$?
  if [[ $rc -eq 0 && "$out" == *"warden $group "* && "$out" == *"subcommands:"* ]]; then
    echo "ok: warden $group --help prints the group's help on stdout"
  else
    echo "FAIL: warden $group --help: exit $rc, stdout:"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
  # The column where each subcommand's summary starts: one column for all.
  columns=$(awk '/^subcommands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { match($0, /^  [a-z]+ +/); print RLENGTH }' <<<"$out" | sort -u)
  if [[ $(wc -l <<<"$columns") -eq 1 && $columns -gt 2 ]]; then
    echo "ok: warden $group --help aligns its subcommands"
  else
    echo "FAIL: warden $group --help: summaries start at columns $(echo $columns)"
    failures=$((failures + 1))
  fi
done
same_output() {  # DESCRIPTION -- COMMAND_A... -- COMMAND_B...: both print the same on stdout, exit 0
  local what=$1 a=() b=()
  shift 2
  while [[ $1 != -- ]]; do a+=("$1"); shift; done
  shift
  b=("$@")
  local out_a out_b
  out_a=$("${a[@]}" 2>/dev/null) && out_b=$("${b[@]}" 2>/dev/null)
  if [[ $? -eq 0 && -n $out_a && "$out_a" == "$out_b" ]]; then
    echo "ok: $what"
  else
    echo "FAIL: $what"
    diff <(echo "$out_a") <(echo "$out_b") | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}
same_output "warden help is warden --help" -- "$warden" help -- "$warden" --help
same_output "warden help quarantine is warden quarantine --help" -- "$warden" help quarantine -- "$warden" quarantine --help
same_output "warden help block add is warden block add --help" -- "$warden" help block add -- "$warden" block add --help
EXPECT_OUT='unknown command "quarantne" (did you mean "quarantine"?)' expect 2 "a misspelt command" -- \
  "$warden" quarantne
EXPECT_OUT='unknown subcommand "ad" (did you mean "add"?)' expect 2 "a misspelt subcommand" -- \
  "$warden" quarantine ad 02:00:00:00:00:01
EXPECT_OUT='(did you mean "--explain"?)' expect 2 "a misspelt option" -- "$warden" devices --explian 02:00:00:00:00:01
EXPECT_OUT='no command "block ad" (did you mean "add"?)' expect 2 "warden help of a misspelt subcommand" -- \
  "$warden" help block ad
EXPECT_OUT='(did you mean "policy"?)' expect 2 "warden help of a misspelt command" -- "$warden" help polcy
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
EXPECT_OUT="not a device's address" expect 2 "the all-zero MAC" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 00:00:00:00:00:00
EXPECT_OUT="UTF-8" expect 2 "a reason that is not UTF-8" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:01 --reason $'bad \xff byte'
if [[ -s "$tmp/state/quarantine.jsonl" ]] && grep -q 02:00:00:00:00:01 "$tmp/state/quarantine.jsonl"; then
  echo "FAIL: a refused quarantine reached the state file"
  failures=$((failures + 1))
else
  echo "ok: refused quarantines leave the state file alone"
fi
# With warden stopped and nothing pinned, a change is recorded for the next start (and says so).
EXPECT_OUT="enforced when it starts" expect 0 "a quarantine while warden is not running" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:07 --for 1h
EXPECT_OUT="02:00:00:00:00:07" expect 0 "it is listed" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine list
EXPECT_OUT="released 02:00:00:00:00:07" expect 0 "and released" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine del 02:00:00:00:00:07
EXPECT_OUT="duration \"5x\": unknown unit" expect 2 "a bad duration" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:01 --for 5x
EXPECT_OUT="level must be isolate or restricted" expect 2 "a bad level" -- \
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

# policy check reads the files the policy names as warden run would: a bad line in a named
# blocklist file or device-type rules file is an error at its file:line; an absent one a warning.
mkdir -p "$tmp/named"
printf '198.18.0.0/15\n# a comment\n198.18.0.1/15 out\n' >"$tmp/named/block.txt"
printf 'rules:\n  - type: camera\n    weight: 40\n    vendor: acme\n    bogus: 1\n' >"$tmp/named/types.yaml"
printf '%s\n' "interfaces: {wan: eth0, lan: [eth1]}" "blocklist:" "  files:" \
  "    - path: $tmp/named/block.txt" "    - path: $tmp/named/absent.txt" "identity:" \
  "  ieee_data: $tmp/named/no-ieee-data" "  device_types: $tmp/named/types.yaml" >"$tmp/named/policy.yaml"
out=$("$warden" policy check "$tmp/named/policy.yaml" 2>&1)
rc=$?
if [[ $rc -eq 1 && "$out" == *"error: $tmp/named/block.txt:3: \"198.18.0.1/15\": host bits set"* &&
      "$out" == *"error: $tmp/named/types.yaml:5:"* && "$out" == *"warning: $tmp/named/absent.txt: "*"does not exist"* &&
      "$out" == *"warning: $tmp/named/no-ieee-data"* ]]; then
  echo "ok: policy check reports the named files' bad lines as file:line"
else
  echo "FAIL: policy check of the files a policy names (exit $rc):"
  echo "$out" | sed 's/^/    /'
  failures=$((failures + 1))
fi
out=$("$warden" policy check --json "$tmp/named/policy.yaml" 2>&1)
if /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert not d["ok"]
assert any(e["file"] == sys.argv[2] and e["line"] == 3 for e in d["errors"]), d
' "$out" "$tmp/named/block.txt"; then
  echo "ok: policy check --json names the blocklist file and line"
else
  echo "FAIL: policy check --json of the named files: $out"
  failures=$((failures + 1))
fi
printf '198.18.0.0/15\n' >"$tmp/named/block.txt"
printf 'rules:\n  - type: camera\n    weight: 40\n    vendor: acme\n' >"$tmp/named/types.yaml"
EXPECT_OUT="ok (1 LAN port(s), WAN eth0, 0 named device(s), 2 blocklist file(s))" expect 0 \
  "policy check passes once the named files are good (warnings only)" -- "$warden" policy check "$tmp/named/policy.yaml"
# policy show: the effective policy, with what the file leaves out (map sizes, detectors).
EXPECT_OUT="flows: 65536" expect 0 "policy show fills in a default the file does not set" -- \
  "$warden" policy show "$tmp/named/policy.yaml"
out=$("$warden" -c "$tmp/named/policy.yaml" policy show --json 2>&1)
if /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["interfaces"]["wan"] == "eth0" and d["detectors"]["port_scan"]["ports_per_host"] == 24, d
' "$out"; then
  echo "ok: policy show --json (the --config file, defaults filled in)"
else
  echo "FAIL: policy show --json: $out"
  failures=$((failures + 1))
fi
"$warden" policy show "$tmp/named/policy.yaml" >"$tmp/named/shown.yaml" 2>&1
EXPECT_OUT="ok (1 LAN port(s)" expect 0 "what policy show prints is a policy that checks" -- \
  "$warden" policy check "$tmp/named/shown.yaml"
# Without FILE: the --config file, else the default path warden run reads.
EXPECT_OUT="$tmp/named/policy.yaml: ok" expect 0 "policy check without FILE checks --config" -- \
  "$warden" -c "$tmp/named/policy.yaml" policy check
if [[ ! -e /etc/warden/policy.yaml ]]; then
  EXPECT_OUT="/etc/warden/policy.yaml: the policy file does not exist" expect 1 \
    "policy check without FILE checks /etc/warden/policy.yaml" -- "$warden" policy check
else
  out=$("$warden" policy check 2>&1)
  if [[ "$out" == *"/etc/warden/policy.yaml"* ]]; then
    echo "ok: policy check without FILE checks /etc/warden/policy.yaml"
  else
    echo "FAIL: policy check without FILE does not name /etc/warden/policy.yaml: $out"
    failures=$((failures + 1))
  fi
fi

# Text that enters warden is UTF-8 without control characters, checked where it enters.
EXPECT_OUT='--reason "Caf\xe9": byte 0xe9 is not valid UTF-8' expect 2 "a --reason that is not UTF-8 is refused" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:01 --reason $'Caf\xe9'
EXPECT_OUT='--reason "a\x1b[2J": control character 0x1b (escape)' expect 2 "a --reason with a terminal escape is refused" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine add 02:00:00:00:00:01 --reason=$'a\e[2J'
EXPECT_OUT='argument 3 "02:00:00:00:00:0\xff"' expect 2 "a positional argument that is not UTF-8 is named" -- \
  "$warden" quarantine add $'02:00:00:00:00:0\xff'
printf 'interfaces:\n  wan: eth0\n  lan: [eth1]\ndevices:\n  - mac: 02:00:00:00:00:01\n    name: "Caf\xe9"\n' >"$tmp/latin1.yaml"
EXPECT_OUT="latin1.yaml:6:15: byte 0xe9 is not valid UTF-8" expect 1 "policy check refuses a name that is not UTF-8, at its line" -- \
  "$warden" policy check "$tmp/latin1.yaml"
out=$("$warden" policy check --json "$tmp/latin1.yaml" 2>&1)
if /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert not d["ok"] and d["errors"][0]["line"] == 6' "$out"; then
  echo "ok: policy check --json of a file that is not UTF-8"
else
  echo "FAIL: policy check --json of a file that is not UTF-8: $out"
  failures=$((failures + 1))
fi

# Syntax errors in words, and no raw control byte from random bytes.
printf 'interfaces:\n\twan: eth0\n\tlan: [eth1]\n' >"$tmp/tab.yaml"
EXPECT_OUT="tab.yaml:2:1: a tab character used for indentation; YAML needs spaces" expect 1 "tabs for indentation are named" -- \
  "$warden" policy check "$tmp/tab.yaml"
/usr/bin/python3 -c 'print("a: " + "[" * 3000 + "]" * 3000)' >"$tmp/deep.yaml"
EXPECT_OUT="deep.yaml:1:35: nesting deeper than 32 levels" expect 1 "deep nesting is named" -- \
  "$warden" policy check "$tmp/deep.yaml"
/usr/bin/python3 -c 'import random, sys; random.seed(9); sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(3000)))' >"$tmp/random.yaml"
"$warden" policy check "$tmp/random.yaml" >"$tmp/random.out" 2>&1
if /usr/bin/python3 -c '
import re, sys
out = open(sys.argv[1], "rb").read()
text = out.decode("utf-8")  # raises on a broken character
assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", text), repr(out)
assert "random.yaml:" in text, text' "$tmp/random.out"; then
  echo "ok: policy check of random bytes prints no control byte"
else
  echo "FAIL: policy check of random bytes:"
  od -c "$tmp/random.out" | head -n 20 | sed 's/^/    /'
  failures=$((failures + 1))
fi

# What is not a regular file is refused at once: a FIFO once hung policy check for ever.
mkfifo "$tmp/fifo.yaml"
EXPECT_OUT="fifo.yaml: the policy file is a FIFO (named pipe), not a file" expect 1 "policy check of a FIFO" -- \
  timeout 10 "$warden" policy check "$tmp/fifo.yaml"
EXPECT_OUT="/dev/zero: the policy file is a device, not a file" expect 1 "policy check of /dev/zero" -- \
  timeout 10 "$warden" policy check /dev/zero
EXPECT_OUT="$tmp: the policy file is a directory, not a file" expect 1 "policy check of a directory" -- \
  timeout 10 "$warden" policy check "$tmp"
EXPECT_OUT="fifo.yaml is a FIFO (named pipe), not a file" expect 1 "block load of a FIFO" -- \
  timeout 10 "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" block load "$tmp/fifo.yaml"

# A user who may not read the state dir is told so (exit 1), not "no events yet", "no
# findings" or "not running". Run as a real other user: nobody when this runs as root (the
# state dir made root-only), else this user against a state dir with no permissions at all.
locked=$tmp/locked
mkdir -p "$locked/state"
printf '%s\n' '{"kind":"finding","mac":"02:00:00:00:00:01","detector":"flood","ts_ms":1}' >"$locked/state/events.jsonl"
# A controller holds the pid file's lock, as `warden run` does.
(exec 9>"$locked/state/warden.pid"; flock -x 9; echo "$BASHPID" >&9; exec sleep 30) &
holder=$!
if [[ $(id -u) -eq 0 ]]; then
  chmod 755 "$tmp" "$locked"
  chmod 700 "$locked/state"
  cp "$warden" "$locked/warden"  # somewhere nobody may run it from
  as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups "$locked/warden")
else
  chmod 000 "$locked/state"
  as_other=("$warden")
fi
denied="permission denied (run as root or as a member of the warden group)"
for cmd in events alerts "policy reload"; do
  # shellcheck disable=SC2086  # the command's words
  EXPECT_OUT="$denied" expect 1 "$cmd as a user who may not read the state dir" -- \
    "${as_other[@]}" --pin-dir "$locked/pins" --state-dir "$locked/state" $cmd
done
chmod 700 "$locked/state"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# Members of the group `warden` may read what warden keeps; changes stay root's. Needs root
# (to make the group, and to run as another user); the group is made only if absent and
# removed only if made here. Another user in the group is uid 65534 holding the group.
if [[ $(id -u) -eq 0 ]] && command -v groupadd >/dev/null && command -v setpriv >/dev/null; then
  made_group=0
  if ! getent group warden >/dev/null; then
    groupadd --system warden && made_group=1
  fi
  gid=$(getent group warden | cut -d: -f3)
  shared=$tmp/shared
  mkdir -p "$shared"
  chmod 755 "$tmp" "$shared"
  cp "$warden" "$shared/warden"
  "$warden" --pin-dir "$shared/pins" --state-dir "$shared/state" quarantine add 02:00:00:00:00:07 \
    --reason "for the group test" >/dev/null 2>&1
  printf '%s\n' '{"kind":"finding","mac":"02:00:00:00:00:07","detector":"flood","ts_ms":1}' >>"$shared/state/events.jsonl"
  member=(setpriv --reuid=65534 --regid=65534 --groups="$gid" "$shared/warden" --pin-dir "$shared/pins"
          --state-dir "$shared/state")
  outsider=(setpriv --reuid=65534 --regid=65534 --clear-groups "$shared/warden" --pin-dir "$shared/pins"
            --state-dir "$shared/state")
  EXPECT_OUT="02:00:00:00:00:07" expect 0 "events as a member of the warden group" -- "${member[@]}" events
  EXPECT_OUT="flood" expect 0 "alerts as a member of the warden group" -- "${member[@]}" alerts
  EXPECT_OUT="(run as root)" expect 1 "quarantine add as a member of the warden group needs root" -- \
    "${member[@]}" quarantine add 02:00:00:00:00:08
  EXPECT_OUT="(run as root)" expect 1 "block add as a member of the warden group needs root" -- \
    "${member[@]}" block add 198.18.9.0/24
  EXPECT_OUT="permission denied (run as root or as a member of the warden group)" expect 1 \
    "events as a user outside the warden group" -- "${outsider[@]}" events
  ((made_group)) && groupdel warden
else
  echo "SKIP: the warden group checks need root, groupadd and setpriv"
fi

# warden devices --explain (issue 4): from the state dir and the rules file, no kernel needed.
EXPECT_OUT="not a MAC address" expect 2 "devices --explain with a bad MAC" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" devices --explain 02:00:00:00:01
EXPECT_OUT="--explain" expect 2 "devices --explain without a MAC" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" devices --explain
EXPECT_OUT="no device 02:00:00:00:01:09 in the inventory" expect 1 "devices --explain of an unknown device" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" devices --explain 02:00:00:00:01:09
mkdir -p "$tmp/explain"
printf 'types: [camera, speaker, unknown]\nmin_score: 20\nrules:\n  - {type: speaker, weight: 30, hostname: "^dev2$"}\n  - {type: camera, weight: 40, vendor_class: "^warden-testbed-1$"}\n' \
  >"$tmp/explain/types.yaml"
printf 'interfaces:\n  wan: eth0\n  lan: [eth1]\npaths:\n  pin_dir: %s\n  state_dir: %s\nidentity:\n  device_types: %s\n' \
  "$tmp/explain/pins" "$tmp/explain/state" "$tmp/explain/types.yaml" >"$tmp/explain/policy.yaml"
mkdir -p "$tmp/explain/state"
printf '%s\n' '{"format":"warden-inventory","version":1}' \
  '{"mac":"02:00:00:00:01:01","first_seen_ms":1,"last_seen_ms":2,"name":"","ip4":"198.18.0.101","ip6":null,"identity":{"random_mac":true,"hostname":"dev1","vendor_class":"warden-testbed-1","dhcp_fingerprint":"1,28,2,3,15,6","type":"camera","type_source":"rules","type_score":40}}' \
  >"$tmp/explain/state/inventory.jsonl"
EXPECT_OUT="5  vendor_class  warden-testbed-1  /^warden-testbed-1$/  camera     +40" \
  expect 0 "devices --explain names the matching rule by its line" -- \
  "$warden" -c "$tmp/explain/policy.yaml" devices --explain 02:00:00:00:01:01
out=$("$warden" -c "$tmp/explain/policy.yaml" devices --explain 02:00:00:00:01:01 --json 2>&1)
if /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["type"] == "camera" and d["rules"]["matched"][0]["line"] == 5 and d["rules"]["winner"]["score"] == 40, d' "$out"; then
  echo "ok: devices --explain --json"
else
  echo "FAIL: devices --explain --json: $out"
  failures=$((failures + 1))
fi

# The behaviour engine's commands (issue 5): usage errors, and profile merge of bad files.
EXPECT_OUT="usage: warden alerts" expect 0 "alerts --help" -- "$warden" alerts --help
EXPECT_OUT="--false-positive" expect 0 "quarantine del --help names --false-positive" -- "$warden" quarantine del --help
EXPECT_OUT="not a MAC address" expect 2 "alerts with a bad --device" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" alerts --device nope
EXPECT_OUT="--since \"last week\"" expect 2 "alerts with a bad --since" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" alerts --since "last week"
EXPECT_OUT="no findings" expect 0 "alerts with an empty events log" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" alerts
EXPECT_OUT="a detector goes with a false positive" expect 2 "--detector without --false-positive" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine del 02:00:00:00:00:01 --detector flood
EXPECT_OUT="not a detector" expect 2 "an unknown --detector" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" quarantine del 02:00:00:00:00:01 --false-positive --detector nosy
EXPECT_OUT="expected 1 argument" expect 2 "profile export without a file" -- "$warden" profile export
EXPECT_OUT="expected at least 1 argument" expect 2 "profile merge without files" -- "$warden" profile merge -o "$tmp/out.json"
EXPECT_OUT="-o OUT is required" expect 2 "profile merge without -o" -- "$warden" profile merge "$tmp/a.json"
EXPECT_OUT="needs a subcommand" expect 2 "profile without its subcommand" -- "$warden" profile
printf '{"format": "warden-profiles", "version": 1, "types": {}}\n' >"$tmp/empty.json"
printf 'not json\n' >"$tmp/garbage.json"
printf '{"format": "warden-profiles", "version": 7, "types": {}}\n' >"$tmp/future.json"
printf '{"format": "warden-profiles", "version": 1, "types": {"Camera!": {}}}\n' >"$tmp/badtype.json"
EXPECT_OUT="garbage.json: not JSON" expect 1 "profile merge of a file that is not JSON" -- \
  "$warden" profile merge "$tmp/empty.json" "$tmp/garbage.json" -o "$tmp/merged.json"
EXPECT_OUT="version 7 is not supported" expect 1 "profile merge of a future version" -- \
  "$warden" profile merge "$tmp/future.json" "$tmp/empty.json" -o "$tmp/merged.json"
EXPECT_OUT="'Camera!' is not a device type name" expect 1 "profile merge of a bad type name" -- \
  "$warden" profile merge "$tmp/badtype.json" -o "$tmp/merged.json"
EXPECT_OUT="missing.json: cannot read" expect 1 "profile merge of a missing file" -- \
  "$warden" profile merge "$tmp/missing.json" -o "$tmp/merged.json"
if [[ -e $tmp/merged.json ]]; then
  echo "FAIL: a failed profile merge wrote its output"
  failures=$((failures + 1))
else
  echo "ok: a failed profile merge writes nothing"
fi
EXPECT_OUT="merged 2 file(s): 0 device type(s)" expect 0 "profile merge of good files" -- \
  "$warden" profile merge "$tmp/empty.json" "$tmp/empty.json" -o "$tmp/merged.json"
EXPECT_OUT="version 7 is not supported" expect 1 "profile import of a bad file changes nothing" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" profile import "$tmp/future.json"
if compgen -G "$tmp/state/requests/*import_profiles*" >/dev/null; then
  echo "FAIL: a rejected profile import left a request for the controller"
  failures=$((failures + 1))
else
  echo "ok: a rejected profile import asks nothing of the controller"
fi
EXPECT_OUT="nothing learned yet" expect 1 "profile export with nothing learned" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/state" profile export "$tmp/exported.json"

# events --since, --device, --kind, --utc (times in local time with their offset by default).
mkdir -p "$tmp/ev"
now_ms=$(($(date +%s) * 1000))
{
  printf '{"kind":"start","time":"x","ts_ms":%d,"pid":1}\n' $((now_ms - 3 * 86400000))
  printf '{"kind":"quarantine","time":"x","ts_ms":%d,"mac":"02:00:00:00:00:01","level":"isolate","by":"operator","reason":"old"}\n' $((now_ms - 2 * 86400000))
  printf '{"kind":"new_device","time":"x","ts_ms":%d,"mac":"02:00:00:00:00:02","interface":"lan1"}\n' $((now_ms - 20000))
  printf '{"kind":"release","time":"x","ts_ms":%d,"mac":"02:00:00:00:00:01","why":"operator","by":"operator"}\n' $((now_ms - 10000))
} >"$tmp/ev/events.jsonl"
events() { "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/ev" events --json "$@" 2>&1 | python3 -c 'import json,sys; print(" ".join(json.loads(l)["kind"] for l in sys.stdin if l.strip()))'; }
check_events() {  # DESCRIPTION EXPECTED_KINDS -- ARGS...
  local what=$1 want=$2 got
  shift 3
  got=$(events "$@")
  if [[ "$got" == "$want" ]]; then echo "ok: events $what"; else
    echo "FAIL: events $what: [$got], expected [$want]"
    failures=$((failures + 1))
  fi
}
check_events "--since 15m" "new_device release" -- --since 15m
check_events "--since a date" "new_device release" -- --since "$(date +%Y-%m-%d)"
check_events "--since today" "new_device release" -- --since today
check_events "--since yesterday" "new_device release" -- --since yesterday
check_events "--kind" "quarantine release" -- --kind quarantine,release
check_events "--device" "quarantine release" -- --device 02:00:00:00:00:01
check_events "--device and --kind" "release" -- --device 02:00:00:00:00:01 --kind release
check_events "--since an absolute time" "quarantine new_device release" -- \
  --since "$(date -d @$(((now_ms - 2 * 86400000 - 1000) / 1000)) '+%Y-%m-%d %H:%M:%S')"
EXPECT_OUT='--since "last week": expected a duration' expect 2 "events with a bad --since" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/ev" events --since "last week"
EXPECT_OUT='--kind "quarantine,Release"' expect 2 "events with a bad --kind" -- \
  "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/ev" events --kind quarantine,Release
EXPECT_OUT="$(TZ=UTC date -d @$(((now_ms - 10000) / 1000)) '+%Y-%m-%d %H:%M:%S') UTC  02:00:00:00:00:01 released" \
  expect 0 "events --utc prints UTC times" -- "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/ev" events --utc --kind release
EXPECT_OUT="$(TZ=Asia/Kolkata date -d @$(((now_ms - 10000) / 1000)) '+%Y-%m-%d %H:%M:%S') +05:30  02:00:00:00:00:01 released" \
  expect 0 "events prints local times with their offset" -- env TZ=Asia/Kolkata "$warden" --pin-dir "$tmp/pins" --state-dir "$tmp/ev" events --kind release

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all CLI checks passed"
