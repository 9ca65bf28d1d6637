#!/usr/bin/env bash
# Tests the namespace testbed itself (scripts/testbed.sh): every device gets its DHCP and
# SLAAC address, reaches the gateway and the internet over IPv4 (through NAT) and IPv6,
# resolves names through the gateway, downloads and uploads over HTTP, runs iperf3; a second
# `up` changes nothing, a broken part is repaired, and `down` leaves nothing of ours behind.
# Uses its own prefix ("wdt" unless WD_TEST_TESTBED_PREFIX says otherwise) so a developer's
# "wd" testbed is never touched. Exit 0 pass, 1 fail, 77 skip (not root, or a tool missing).
set -euo pipefail

TESTBED="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)/testbed.sh"
readonly TESTBED
readonly DEVICES=3
readonly BLOB_BYTES=100000
readonly UPLOAD_BYTES=50000
export WD_TESTBED_PREFIX="${WD_TEST_TESTBED_PREFIX:-wdt}"
unset WD_TESTBED_STATE_DIR # the default state dir is part of what is tested

skip() {
  echo "SKIP: $*"
  exit 77
}

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, nftables)"
for tool in ip nft dnsmasq dhclient iperf3 curl ping getent nsenter setsid flock ss timeout \
  unshare /usr/bin/python3; do
  command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps.sh installs it)"
done
unshare --net true 2>/dev/null || skip "this machine does not allow network namespaces"

started=$SECONDS
torn_down=0
failures=0

step() { printf '[%3ss] %s\n' "$((SECONDS - started))" "$*"; }
pass() { echo "  ok - $*"; }
fail() {
  echo "  FAIL - $*" >&2
  failures=$((failures + 1))
}
abort() { # a failure that makes the following checks meaningless
  fail "$*"
  exit 1
}

on_exit() {
  local rc=$?
  if ((!torn_down)); then
    if ((rc != 0 || failures != 0)); then
      echo "--- testbed status at failure:" >&2
      bash "$TESTBED" status >&2 || true
    fi
    bash "$TESTBED" down >/dev/null || echo "cleanup: testbed down failed" >&2
  fi
  if ((rc == 0 && failures != 0)); then rc=1; fi
  if ((rc == 0)); then echo "PASS: testbed ($((SECONDS - started)) s)"; else echo "FAIL: testbed" >&2; fi
  exit "$rc"
}
trap on_exit EXIT

in_dev() { ip netns exec "$1" "${@:2}"; } # ip netns exec: the device's own resolv.conf

step "leftovers of an aborted earlier run of this test are removed (prefix $WD_TESTBED_PREFIX only)"
bash "$TESTBED" down

step "up --devices $DEVICES"
up_started=$SECONDS
bash "$TESTBED" up --devices "$DEVICES" || abort "testbed up failed"
pass "up took $((SECONDS - up_started)) s"
eval "$(bash "$TESTBED" env)"
[[ $WD_DEVICES == "$DEVICES" && $WD_GW_NS == "$WD_TESTBED_PREFIX-gw" ]] ||
  abort "env does not describe this testbed: WD_DEVICES=$WD_DEVICES WD_GW_NS=$WD_GW_NS"
[[ $WD_LAN_IFS == "lan1 lan2 lan3" && $WD_WAN_IF == wan0 && $WD_INET_IP4 == 198.19.0.1 &&
  $WD_TARGET_RANGE == 198.18.64.0/18 ]] || fail "env has unexpected topology values"

step "each device: DHCP address, identity sent by DHCP, SLAAC address"
for ((k = 1; k <= DEVICES; k++)); do
  ns_var=WD_DEV_NS_$k mac_var=WD_DEV_MAC_$k ip4_var=WD_DEV_IP4_$k ip6_var=WD_DEV_IP6_$k
  ns=${!ns_var} mac=${!mac_var} ip4=${!ip4_var} ip6=${!ip6_var}
  [[ $ip4 == "198.18.0.$((100 + k))" && $mac == "$(printf '02:00:00:00:01:%02x' "$k")" ]] ||
    fail "dev$k: env says $mac $ip4, expected the fixed plan"
  addrs=$(ip -n "$ns" -o addr show dev eth0)
  [[ $addrs == *" $ip4/24 "* ]] && pass "dev$k has $ip4/24 on eth0" ||
    fail "dev$k lacks $ip4/24 on eth0: $addrs"
  [[ $(ip -n "$ns" -o link show dev eth0) == *"link/ether $mac "* ]] ||
    fail "dev$k eth0 does not have MAC $mac"
  # dnsmasq's lease file: expiry MAC IP hostname client-id; the host name proves dhclient sent it
  grep -Eq "^[0-9]+ $mac $ip4 dev$k " "$WD_GW_LEASES" && pass "dev$k leased $ip4 as host dev$k" ||
    fail "dev$k has no lease '$mac $ip4 dev$k' in $WD_GW_LEASES"
  grep -q "vendor class: warden-testbed-$k\$" "$WD_GW_DNS_LOG" && pass "dev$k sent vendor class" ||
    fail "the gateway never saw vendor class warden-testbed-$k ($WD_GW_DNS_LOG)"
  slaac=$(ip -n "$ns" -6 -o addr show dev eth0 scope global)
  [[ $slaac == *" $ip6/64 "* && $slaac != *tentative* ]] && pass "dev$k has SLAAC $ip6" ||
    fail "dev$k lacks SLAAC address $ip6/64: $slaac"
done

step "each device: ping gateway and internet (IPv4, IPv6), DNS via the gateway, HTTP through NAT"
for ((k = 1; k <= DEVICES; k++)); do
  ns_var=WD_DEV_NS_$k ip4_var=WD_DEV_IP4_$k
  ns=${!ns_var} ip4=${!ip4_var}
  for target in "$WD_GW_LAN_IP4" "$WD_INET_IP4" "$WD_GW_LAN_IP6" "$WD_INET_IP6"; do
    in_dev "$ns" timeout 5 ping -c 2 -i 0.2 -W 1 "$target" >/dev/null && pass "dev$k pings $target" ||
      fail "dev$k cannot ping $target"
  done
  answer=$(in_dev "$ns" timeout 10 getent ahostsv4 www.inet.test | awk 'NR == 1 {print $1}') || true
  [[ $answer == "$WD_INET_IP4" ]] && pass "dev$k resolves www.inet.test to $answer" ||
    fail "dev$k resolved www.inet.test to '$answer', expected $WD_INET_IP4"
  grep -q "query\[A\] www.inet.test from $ip4\$" "$WD_GW_DNS_LOG" ||
    fail "the gateway's DNS log has no query from $ip4: the name was not resolved through it"
  size=$(in_dev "$ns" curl -4 -sS --max-time 10 -o /dev/null -w '%{size_download}' \
    "http://www.inet.test/blob/$BLOB_BYTES") || true
  [[ $size == "$BLOB_BYTES" ]] && pass "dev$k downloaded $size bytes over IPv4" ||
    fail "dev$k downloaded '$size' bytes of /blob/$BLOB_BYTES"
  echo=$(head -c "$UPLOAD_BYTES" /dev/zero |
    in_dev "$ns" curl -4 -sS --max-time 10 --data-binary @- "http://www.inet.test/upload") || true
  [[ $echo == "$UPLOAD_BYTES" ]] && pass "dev$k uploaded $UPLOAD_BYTES bytes" ||
    fail "dev$k upload: the server counted '$echo' bytes, expected $UPLOAD_BYTES"
done
# The server logs client addresses: IPv4 clients must arrive as the gateway's WAN address.
nat_downloads=$(grep -c "^$WD_GW_WAN_IP4 .*GET /blob/$BLOB_BYTES " "$WD_HTTP_LOG" || true)
[[ $nat_downloads == "$DEVICES" ]] && pass "all $DEVICES downloads reached the internet from $WD_GW_WAN_IP4 (NAT)" ||
  fail "$nat_downloads of $DEVICES downloads came from $WD_GW_WAN_IP4 ($WD_HTTP_LOG)"
grep -q "^198\.18\.0\." "$WD_HTTP_LOG" && fail "a LAN address reached the internet untranslated"

step "IPv6 is routed (not translated) and the target ranges answer"
size=$(in_dev "$WD_DEV_NS_1" curl -6 -sS --max-time 10 -o /dev/null -w '%{size_download}' \
  "http://www.inet.test/blob/1234") || true
[[ $size == 1234 ]] && grep -q "^$WD_DEV_IP6_1 .*GET /blob/1234 " "$WD_HTTP_LOG" &&
  pass "dev1 downloaded over IPv6 from its own address $WD_DEV_IP6_1" ||
  fail "IPv6 download: size '$size', or the server did not see $WD_DEV_IP6_1"
for target in 198.18.64.10 198.18.127.254 fd00:64::10; do
  url_host=$target
  [[ $target == *:* ]] && url_host="[$target]"
  health=$(in_dev "$WD_DEV_NS_1" curl -sS --max-time 5 "http://$url_host/health") || true
  [[ $health == ok ]] && pass "target $target answers HTTP" || fail "target $target: '$health'"
done
cdn=$(in_dev "$WD_DEV_NS_1" timeout 10 getent ahostsv4 cdn.inet.test | awk 'NR == 1 {print $1}') || true
[[ $cdn == 198.18.64.10 ]] || fail "cdn.inet.test resolved to '$cdn', expected 198.18.64.10"
cloud=$(in_dev "$WD_DEV_NS_1" timeout 10 getent ahostsv4 cloud.example.test | awk 'NR == 1 {print $1}') || true
[[ $cloud == 198.18.64.20 ]] || fail "cloud.example.test resolved to '$cloud', expected 198.18.64.20"
if in_dev "$WD_DEV_NS_1" timeout 10 getent hosts nosuch.inet.test >/dev/null; then
  fail "nosuch.inet.test resolved; the inet DNS should answer NXDOMAIN for unknown test. names"
fi

step "iperf3 for 2 s from dev1 to the inet server"
report=$(in_dev "$WD_DEV_NS_1" timeout 15 iperf3 -c "$WD_INET_IP4" -p "$WD_DEV_IPERF_PORT_1" -t 2 -J) ||
  fail "iperf3 failed: $(tail -c 300 <<<"$report")"
received=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bytes"]))' \
  <<<"$report" 2>/dev/null) || received=0
((received > 1000000)) && pass "iperf3 moved $((received / 1000000)) MB in 2 s" ||
  fail "iperf3 moved only $received bytes"

step "a second up finds everything in place"
again_started=$SECONDS
output=$(bash "$TESTBED" up 2>&1) || fail "second up failed: $output"
[[ $output == *"everything in place"* && $output != *repairing* && $output != *creating* ]] &&
  pass "second up changed nothing ($((SECONDS - again_started)) s)" || fail "second up did work: $output"
((SECONDS - again_started <= 5)) || fail "second up took $((SECONDS - again_started)) s"
bash "$TESTBED" up --devices 5 >/dev/null 2>&1 && fail "up with a different device count succeeded"

step "up repairs a killed service and a deleted NAT table"
kill "$(cat "$WD_STATE_DIR/run/inet-http.pid")"
ip netns exec "$WD_GW_NS" nft delete table ip warden_testbed
status_rc=0
bash "$TESTBED" status >/dev/null || status_rc=$?
((status_rc == 1)) && pass "status reports the damage (exit 1)" || fail "status exited $status_rc with broken parts"
output=$(bash "$TESTBED" up 2>&1) || fail "repairing up failed: $output"
[[ $output == *"repairing inet HTTP"* && $output == *"repairing gateway forwarding and NAT"* ]] &&
  pass "up named both repairs" || fail "up did not name the repairs: $output"
size=$(in_dev "$WD_DEV_NS_2" curl -4 -sS --max-time 10 -o /dev/null -w '%{size_download}' \
  "http://www.inet.test/blob/$BLOB_BYTES") || true
[[ $size == "$BLOB_BYTES" ]] && pass "HTTP through NAT works again" || fail "after repair: '$size' bytes"
bash "$TESTBED" status >/dev/null && pass "status is healthy again" || fail "status still unhealthy"

step "down removes everything of ours"
pids=()
for file in "$WD_STATE_DIR"/run/*.pid; do pids+=("$(<"$file")"); done # (iperf3 ends without a newline)
# two dnsmasq, the HTTP server, and per device one iperf3 server and one dhclient
((${#pids[@]} == 3 + 2 * DEVICES)) || fail "expected $((3 + 2 * DEVICES)) pid files, found ${#pids[@]}"
bash "$TESTBED" down || fail "down failed"
torn_down=1
leftover=$(ip netns list | awk -v p="$WD_TESTBED_PREFIX-" 'index($1, p) == 1 {print $1}')
[[ -z $leftover ]] && pass "no $WD_TESTBED_PREFIX-* namespaces" || fail "namespaces left: $leftover"
for pid in "${pids[@]}"; do
  # gone, or a zombie not yet reaped by init, or the PID reused by something not ours
  if stat=$(cat "/proc/$pid/stat" 2>/dev/null) && [[ ${stat##*) } != Z* ]] &&
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$WD_STATE_DIR/"* ]]; then
    fail "process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) is still running"
  fi
done
pass "all ${#pids[@]} processes stopped"
[[ ! -e $WD_STATE_DIR ]] && pass "state dir removed" || fail "$WD_STATE_DIR still exists"
compgen -G "/etc/netns/$WD_TESTBED_PREFIX-*" >/dev/null && fail "/etc/netns/$WD_TESTBED_PREFIX-* left behind"
bash "$TESTBED" down >/dev/null && pass "a second down is a no-op" || fail "a second down failed"
