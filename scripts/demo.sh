#!/usr/bin/env bash
# The demo: builds warden, makes a small home network out of network namespaces
# (scripts/testbed.sh: a gateway, three devices, an "internet"), starts `warden run` on the
# gateway and walks through what it does, printing every command before its output:
# devices and their traffic, flows, a quarantine that cuts a device off in both directions
# while the others carry on, its release, a blocked destination, and the events log.
# Everything it makes is removed at the end (--keep leaves it running to explore).
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

failures=0
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
  if [[ -n "$warden_pid" ]] && kill "$warden_pid" 2>/dev/null; then wait "$warden_pid" 2>/dev/null || true; fi
  if [[ -e "/run/netns/$gw_ns" ]]; then
    in_gw "$warden" -c "$work/policy.yaml" detach >/dev/null || echo "demo: warden detach failed" >&2
  fi
  "$root/scripts/testbed.sh" down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bold "Setting up: dependencies, build, a namespace home network"
"$root/scripts/install-deps.sh"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target warden >/dev/null
"$root/scripts/testbed.sh" up --devices 3
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

if ((failures > 0)); then
  echo "demo: $failures expectation(s) failed" >&2
  exit 1
fi
echo
echo "demo: done; everything behaved as described"
