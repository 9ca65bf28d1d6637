#!/usr/bin/env bash
# The demo: builds warden, makes a small home network out of network namespaces
# (scripts/testbed.sh: a gateway, five devices of different types, an "internet"), starts
# `warden run` on the gateway with a short learning period and walks through what it does,
# printing every command before its output: devices and their traffic, flows, a quarantine
# that cuts a device off in both directions while the others carry on, its release, a
# blocked destination, the events log; then the camera turns bad (a Mirai-like telnet sweep
# of the internet's target range) and the behaviour engine isolates it by itself within
# seconds: the finding with its evidence, the devices, proof that the camera is cut off while
# the others work, and its release. Each claim is checked (✓/✗); a failed check makes the
# demo exit non-zero. Everything it makes is removed at the end, also on Ctrl-C (--keep
# leaves it running to explore).
#   sudo scripts/demo.sh [--keep]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (sudo scripts/demo.sh): warden loads BPF programs" >&2; exit 1; }

export WD_TESTBED_PREFIX=wdemo
build="${WARDEN_BUILD_DIR:-$root/build}"
work="$(mktemp -d /tmp/warden-demo.XXXXXX)"
pin_dir=/sys/fs/bpf/warden-demo
warden="$build/controller/warden"
gw_ns="$WD_TESTBED_PREFIX-gw"
warden_pid=""
sweep_pid=""

failures=0
# The Mirai-like sweep: SYNs to telnet (23) on this many addresses of the internet
# namespace's target range (198.18.64.0/18, all local there), at this rate; nmap's own
# time limit and `timeout` bound it. The engine must isolate the camera within this time.
sweep_targets=198.18.65.1-250 sweep_rate=200 sweep_limit_s=20
auto_quarantine_within_s=10
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[36m$ %s\033[0m\n' "$*"; "$@" || true; }
# expect ok|fail WHAT COMMAND...: runs it quietly and says whether it did what the demo claims.
expect() {
  local want=$1 what=$2 got=ok
  shift 2
  printf '\033[36m$ %s\033[0m\n' "$*"
  "$@" >/dev/null 2>&1 || got=fail
  if [[ $got == "$want" ]]; then
    printf '  \033[32m✓\033[0m %s\n' "$what"
  else
    printf '  \033[31m✗ expected %s but it did not happen\033[0m\n' "$what"
    failures=$((failures + 1))
  fi
}
in_gw() { nsenter --net="/run/netns/$gw_ns" "$@"; }
on_dev() { local k=$1; shift; ip netns exec "$WD_TESTBED_PREFIX-dev$k" "$@"; }
W() { "$warden" -c "$work/policy.yaml" "$@"; }

cleanup() {
  if $keep; then
    echo
    echo "left running (--keep): warden pid $warden_pid, policy $work/policy.yaml, testbed $WD_TESTBED_PREFIX"
    echo "  try: $warden -c $work/policy.yaml devices"
    echo "  stop: kill $warden_pid; nsenter --net=/run/netns/$gw_ns $warden -c $work/policy.yaml detach;"
    echo "        WD_TESTBED_PREFIX=$WD_TESTBED_PREFIX $root/scripts/testbed.sh down; rm -rf $work"
    return
  fi
  if [[ -n "$sweep_pid" ]] && kill "$sweep_pid" 2>/dev/null; then wait "$sweep_pid" 2>/dev/null || true; fi
  if [[ -n "$warden_pid" ]] && kill "$warden_pid" 2>/dev/null; then wait "$warden_pid" 2>/dev/null || true; fi
  if [[ -e "/run/netns/$gw_ns" ]]; then
    in_gw "$warden" -c "$work/policy.yaml" detach >/dev/null || echo "demo: warden detach failed" >&2
  fi
  "$root/scripts/testbed.sh" down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# Ctrl-C or a kill: leave through the EXIT trap, which cleans up.
trap 'exit 130' INT TERM

bold "Setting up: dependencies, build, a namespace home network"
"$root/scripts/install-deps.sh"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target warden >/dev/null
"$root/scripts/testbed.sh" up --devices 5
eval "$("$root/scripts/testbed.sh" env)"

cat >"$work/policy.yaml" <<YAML
# The demo's policy: the testbed gateway's ports, and names for its devices.
interfaces:
  wan: $WD_WAN_IF
  lan: [${WD_LAN_IFS// /, }]
interval: 1s
paths:
  pin_dir: $pin_dir
  state_dir: $work/state
quarantine:
  default_level: isolate
  default_duration: 10m
devices:
  - {mac: "$WD_DEV_MAC_1", name: Living-room camera, type: camera}
  - {mac: "$WD_DEV_MAC_2", name: Kitchen speaker, type: speaker}
  - {mac: "$WD_DEV_MAC_3", name: Laptop, type: laptop}
  - {mac: "$WD_DEV_MAC_4", name: Kettle plug, type: plug}
  - {mac: "$WD_DEV_MAC_5", name: Television, type: tv}
# The behaviour engine: a short learning period for the demo (the default is 24h). Until a
# device's own history counts, it is held to its type's profile or conservative defaults,
# so protection starts at once.
detectors:
  learning_period: 1m
  propagation: {action: isolate, duration: 10m}
YAML
show "$warden" policy check "$work/policy.yaml"

bold "Starting warden on the gateway"
# nsenter execs warden in place, so $! is warden's own PID.
nsenter --net="/run/netns/$gw_ns" "$warden" run -c "$work/policy.yaml" >"$work/warden.log" 2>&1 &
warden_pid=$!
for _ in $(seq 100); do
  [[ -e "$work/state/status.json" ]] && break
  kill -0 "$warden_pid" 2>/dev/null || break
  sleep 0.1
done
sed 's/^/  | /' "$work/warden.log"
if ! kill -0 "$warden_pid" 2>/dev/null; then
  echo "demo: warden did not start (its log is above)" >&2
  exit 1
fi

bold "The household uses the network"
show on_dev 1 curl -s -o /dev/null -w 'camera uploaded %{size_upload} bytes\n' --max-time 10 \
  --data-binary @<(head -c 3000000 /dev/zero) "http://$WD_INET_IP4/upload"
show on_dev 2 iperf3 -c "$WD_INET_IP4" -p "$WD_DEV_IPERF_PORT_2" -t 2 -R --logfile /dev/null
echo "(speaker streamed for 2 s)"
show on_dev 3 ping -c 3 -i 0.2 -q "$WD_INET_IP4"
show on_dev 4 curl -s -o /dev/null -w 'plug checked in with its cloud: HTTP %{http_code}\n' --max-time 5 "http://cloud.example.test/health"
show on_dev 5 curl -s -o /dev/null -w 'tv downloaded %{size_download} bytes\n' --max-time 10 "http://cdn.inet.test/health"
sleep 1.2
show W devices
show W flows --top 6

bold "The camera misbehaves: quarantine it (isolate: nothing in or out)"
show W quarantine add "$WD_DEV_MAC_1" --for 10m --reason "demo: acting like a bot"
expect fail "the camera reaches nothing" on_dev 1 ping -c 2 -W 1 -i 0.3 -q "$WD_INET_IP4"
expect fail "nothing reaches the camera" in_gw ping -c 2 -W 1 -i 0.3 -q "$WD_DEV_IP4_1"
expect ok "the speaker carries on" on_dev 2 ping -c 2 -W 1 -i 0.3 -q "$WD_INET_IP4"
show W quarantine list

bold "Release it"
show W quarantine del "$WD_DEV_MAC_1"
expect ok "the camera is back" on_dev 1 ping -c 2 -W 1 -i 0.3 -q "$WD_INET_IP4"

bold "A known-bad destination: block it for everyone"
expect ok "cdn.inet.test answers before" on_dev 3 curl -s -o /dev/null --max-time 2 "http://cdn.inet.test/health"
show W block add 198.18.64.0/24 --direction out
show W block add fd00:64::/64 --direction out
expect fail "cdn.inet.test (198.18.64.10, fd00:64::10) is blocked" on_dev 3 curl -s -o /dev/null --max-time 2 "http://cdn.inet.test/health"
expect ok "www.inet.test still works" on_dev 3 curl -s -o /dev/null --max-time 2 "http://www.inet.test/health"
show W block list
show W block del 198.18.64.0/24
show W block del fd00:64::/64

bold "What happened, in the events log"
sleep 1.2
show W events
show W status

bold "The camera turns bad: a Mirai-like telnet sweep (nobody touches warden)"
# Is warden's engine isolating a device by itself? (quarantine list --json: origin "detector")
auto_quarantined() {
  W quarantine list --json 2>/dev/null | python3 -c '
import json, sys
mac = sys.argv[1]
sys.exit(0 if any(q.get("mac") == mac and q.get("origin") == "detector" for q in json.load(sys.stdin)) else 1)
' "$1"
}
if auto_quarantined "$WD_DEV_MAC_1"; then
  echo "demo: the camera is quarantined by the engine before its attack" >&2
  failures=$((failures + 1))
fi
printf '\033[36m$ %s\033[0m\n' "on_dev 1 nmap -n -Pn -sS -p 23 --max-retries 0 --max-rate $sweep_rate $sweep_targets &"
sweep_started=$(date +%s.%N)
# ip netns exec and timeout exec in place: $! is timeout's PID, which cleanup can stop.
ip netns exec "$WD_TESTBED_PREFIX-dev1" timeout "$sweep_limit_s" nmap -n -Pn -sS -p 23 --max-retries 0 --max-rate "$sweep_rate" \
  --host-timeout 5s "$sweep_targets" >"$work/sweep.log" 2>&1 &
sweep_pid=$!
found_after=""
while :; do
  now=$(date +%s.%N)
  if auto_quarantined "$WD_DEV_MAC_1"; then
    found_after=$(python3 -c "print(f'{$now - $sweep_started:.1f}')")
    break
  fi
  python3 -c "import sys; sys.exit(0 if $now - $sweep_started < $auto_quarantine_within_s else 1)" || break
  sleep 0.2
done
wait "$sweep_pid" 2>/dev/null || true
sweep_pid=""
tail -n 2 "$work/sweep.log" | sed 's/^/  | /'
if [[ -n $found_after ]]; then
  printf '  \033[32m✓\033[0m %s\n' "warden quarantined the camera by itself, ${found_after} s after the sweep began"
else
  printf '  \033[31m✗ expected %s but it did not happen\033[0m\n' \
    "warden to quarantine the camera by itself within ${auto_quarantine_within_s} s"
  failures=$((failures + 1))
fi
show W alerts --device "$WD_DEV_MAC_1"
show W devices
show W quarantine list
expect fail "the camera reaches nothing" on_dev 1 ping -c 2 -W 1 -i 0.3 -q "$WD_INET_IP4"
expect fail "nothing reaches the camera" in_gw ping -c 2 -W 1 -i 0.3 -q "$WD_DEV_IP4_1"
for k in 2 3 4 5; do
  expect ok "device $k works as before" on_dev "$k" ping -c 2 -W 1 -i 0.3 -q "$WD_INET_IP4"
  mac_var=WD_DEV_MAC_$k
  expect fail "device $k is not quarantined" auto_quarantined "${!mac_var}"
done

bold "Release the camera (the operator cleaned it)"
show W quarantine del "$WD_DEV_MAC_1"
expect ok "the camera is back" on_dev 1 ping -c 2 -W 1 -i 0.3 -q "$WD_INET_IP4"

if ((failures > 0)); then
  echo "demo: $failures expectation(s) failed" >&2
  exit 1
fi
echo
echo "demo: done; everything behaved as described"
