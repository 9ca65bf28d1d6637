#!/usr/bin/env bash
# A small home network made of network namespaces, for warden's integration tests, demos and
# benchmarks. warden itself is not started here: tests start it in the gateway namespace.
#
#   scripts/testbed.sh up [--devices N] [--lease-time T]   build it (idempotent; repairs)
#   scripts/testbed.sh down                                 remove exactly what `up` made
#   scripts/testbed.sh status                               topology and health of each part
#   scripts/testbed.sh env                                  shell assignments for tests to eval
#
# Topology. P is $WD_TESTBED_PREFIX (default "wd"; two prefixes give two independent testbeds),
# N is --devices (default 3, at most 99), K runs 1..N, KK is K as two hex digits (10 → 0a).
#
#   P-devK: eth0 ══veth══ lanK ─┐
#                               ├─ br-lan ─ P-gw (routing, NAT) ─ wan0 ══veth══ inet0: P-inet
#   P-devJ: eth0 ══veth══ lanJ ─┘
#
#   P-devK  eth0 02:00:00:00:01:KK; IPv4 by DHCP: 198.18.0.(100+K)/24 (static lease); IPv6 by
#           SLAAC: fd00:1::ff:fe00:1KK/64; resolv.conf → 198.18.0.1; dhclient sends host-name
#           "devK" and vendor class "warden-testbed-K"
#   P-gw    br-lan 198.18.0.1/24 fd00:1::1/64 (02:00:00:00:00:01), ports lanK (02:00:00:00:02:KK);
#           wan0 198.19.0.2/24 fd00:ffff::2/64 (02:00:00:00:00:02), default routes via P-inet;
#           IPv4 and IPv6 forwarding; nftables table ip warden_testbed masquerades LAN → wan0;
#           dnsmasq on br-lan: DHCPv4 198.18.0.100-199, RA for fd00:1::/64, DNS → 198.19.0.1
#   P-inet  inet0 198.19.0.1/24 fd00:ffff::1/64 (02:00:00:00:00:03), route fd00:1::/64 via the
#           gateway (IPv6 is routed, not translated); lo: local 198.18.64.0/18 and fd00:64::/64
#           (many scan targets); HTTP :80 and one iperf3 server per device on :(5200+K), both
#           on every address; dnsmasq DNS :53 for test. names
#
# Names: namespaces P-gw, P-inet, P-devK; inside them the fixed interface names above (wan0,
# br-lan, lanK, eth0, inet0). DNS names served by P-inet: www.inet.test → 198.19.0.1 and
# fd00:ffff::1, cdn.inet.test → 198.18.64.10 and fd00:64::10, dns.inet.test → 198.19.0.1,
# cloud.example.test → 198.18.64.20 and fd00:64::20 (a cloud service for identity tests).
# IPv4 is masqueraded to 198.19.0.2; IPv6 is routed (P-inet routes fd00:1::/64 back to the gw).
# Only 198.18.0.0/15 and fd00::/8 are used, and nothing routes out of the namespaces.
# Run a command on a device with `ip netns exec P-devK CMD` (it then uses the device's
# resolv.conf); anything that pins or opens pins under /sys/fs/bpf needs
# `nsenter --net=/run/netns/P-gw CMD`, because `ip netns exec` hides bpffs.
#
# State dir ($WD_TESTBED_STATE_DIR, default /run/warden-testbed-P): testbed.conf, `objects`
# (every namespace, process and host file, recorded before it is made), run/*.pid, log/*.log,
# the daemons' configs and lease files. `down` stops exactly the recorded processes (by PID,
# after checking the PID is still ours), deletes exactly the recorded namespaces and files, and
# is safe to run twice or after a half-done `up`.
set -euo pipefail
set -E # the ERR trap below also names failures inside functions
trap 'echo "testbed ${WD_TESTBED_PREFIX:-wd}: error: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

HELPERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/testbed"
readonly HELPERS
readonly PREFIX="${WD_TESTBED_PREFIX:-wd}"
readonly STATE="${WD_TESTBED_STATE_DIR:-/run/warden-testbed-$PREFIX}"
readonly PYTHON=/usr/bin/python3 # the system python: the HTTP service needs only its stdlib
readonly MAX_DEVICES=99          # devK gets 198.18.0.(100+K): the DHCP range ends at .199
readonly DHCP_WAIT_S=15
readonly DEFAULT_DEVICES=3
readonly DEFAULT_LEASE_TIME=1h

readonly NS_GW="$PREFIX-gw" NS_INET="$PREFIX-inet"
readonly WAN_IF=wan0 INET_IF=inet0 BRIDGE=br-lan DEV_IF=eth0
readonly GW_LAN4=198.18.0.1 GW_LAN6=fd00:1::1 LAN4_NET=198.18.0.0/24 LAN6_NET=fd00:1::/64
readonly GW_WAN4=198.19.0.2 GW_WAN6=fd00:ffff::2 INET4=198.19.0.1 INET6=fd00:ffff::1
readonly TARGETS4=198.18.64.0/18 TARGETS6=fd00:64::/64
readonly BRIDGE_MAC=02:00:00:00:00:01 WAN_MAC=02:00:00:00:00:02 INET_MAC=02:00:00:00:00:03
readonly HTTP_PORT=80 IPERF_BASE_PORT=5200
readonly NFT_TABLE=warden_testbed
readonly MARKER="$STATE/.warden-testbed" # proves a directory is ours before `down` empties it

ns_dev() { echo "$PREFIX-dev$1"; }
dev_mac() { printf '02:00:00:00:01:%02x' "$1"; }
port_mac() { printf '02:00:00:00:02:%02x' "$1"; }
dev_ip4() { echo "198.18.0.$((100 + $1))"; }
dev_ip6() { printf 'fd00:1::ff:fe00:1%02x' "$1"; } # EUI-64 of dev_mac
iperf_port() { echo $((IPERF_BASE_PORT + $1)); }

say() { echo "testbed $PREFIX: $*"; }
warn() { echo "testbed $PREFIX: warning: $*" >&2; }
die() {
  echo "testbed $PREFIX: error: $*" >&2
  exit 1
}

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Small helpers

in_ns() { nsenter --net="/run/netns/$1" "${@:2}"; } # quick commands; keeps the host's /sys
pidfile() { echo "$STATE/run/$1.pid"; }
logfile() { echo "$STATE/log/$1.log"; }

record() { # the objects list is written before the object is made, so `down` finds it
  grep -qxF -- "$*" "$STATE/objects" 2>/dev/null || echo "$*" >>"$STATE/objects"
}

recorded() { grep -qxF -- "$*" "$STATE/objects" 2>/dev/null; }

# wait_until SECONDS COMMAND...: polls every 0.1 s; returns 1 when time runs out
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

log_tail() { if [[ -f $1 ]]; then tail -n 5 "$1" | sed 's/^/    | /' >&2; fi; }

# Check functions return 0 when the part is healthy, else 1 with the reason in $PROBLEM.
PROBLEM=""
problem() {
  PROBLEM="$*"
  return 1
}

link_is_up() { # NS IF: exists, admin up and carrier (for a veth: its peer exists and is up)
  local flags
  flags=$(ip -n "$1" -o link show dev "$2" 2>/dev/null) || problem "$2 is missing in $1" || return
  [[ $flags =~ [\<,]UP[,\>] ]] || problem "$2 in $1 is down" || return
  [[ $flags =~ [\<,]LOWER_UP[,\>] ]] || problem "$2 in $1 has no carrier (peer missing or down)"
}

has_addr() { # NS IF ADDR/PLEN
  [[ $(ip -n "$1" -o addr show dev "$2" 2>/dev/null) == *" $3 "* ]] ||
    problem "$2 in $1 lacks address $3"
}

has_route() { # NS FAMILY DESTINATION TEXT
  # shellcheck disable=SC2086 # $3 may be "table local PREFIX"
  [[ $(ip -n "$1" "$2" route show $3 2>/dev/null) == *"$4"* ]] ||
    problem "$1 lacks route $3 $4"
}

sysctl_is() { # NS KEY VALUE
  [[ $(in_ns "$1" sysctl -n "$2" 2>/dev/null) == "$3" ]] || problem "$1: $2 is not $3"
}

listens() { # NS PROTO PORT
  [[ -n $(in_ns "$1" ss -Hln"${2:0:1}" "sport = :$3" 2>/dev/null) ]] ||
    problem "nothing listens on $2 port $3 in $1"
}

# ---------------------------------------------------------------------------------------------
# Processes: each writes $STATE/run/NAME.pid. A PID counts as ours only while the process's
# command line names our state dir (every daemon gets a config or pid file path from it), so
# a recycled PID is never signalled.

pid_is_ours() { # PID
  [[ $1 =~ ^[0-9]+$ && -r /proc/$1/cmdline ]] &&
    [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") == *"$STATE/"* ]]
}

pid_has_exited() { # PID: gone, or a zombie waiting for its parent (init) to reap it
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  [[ ${stat##*) } == Z* ]]
}

proc_is_healthy() { # NAME NS
  local pid
  pid=$(cat "$(pidfile "$1")" 2>/dev/null) || problem "$1 was not started (no pid file)" || return
  pid_is_ours "$pid" || problem "$1 (pid $pid) is not running" || return
  [[ $(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) == $(stat -L -c %i "/run/netns/$2" 2>/dev/null) ]] ||
    problem "$1 (pid $pid) runs outside namespace $2 (left from an earlier one)"
}

stop_proc() { # NAME: TERM, then KILL after 3 s; only if the pid is still ours
  local pid file
  file=$(pidfile "$1")
  pid=$(cat "$file" 2>/dev/null) || return 0
  if pid_is_ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    # (its command line empties while it exits, so wait for the exit itself)
    if ! wait_until 3 pid_has_exited "$pid"; then
      warn "$1 (pid $pid) ignored SIGTERM for 3 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_until 2 pid_has_exited "$pid" || warn "$1 (pid $pid) is still alive"
    fi
  fi
  rm -f "$file"
}

# start_daemon NAME NS COMMAND...: for programs that fork into the background themselves and
# write $(pidfile NAME). fd 9 (our lock) is closed so a daemon never holds the lock; output goes
# to the log so that nobody waiting on our stdout (a test runner) waits for the daemon.
start_daemon() {
  local name=$1 ns=$2
  shift 2
  record "proc $name $ns"
  stop_proc "$name"
  if ! ip netns exec "$ns" "$@" </dev/null >>"$(logfile "$name")" 2>&1 9<&-; then
    log_tail "$(logfile "$name")"
    die "$name did not start in $ns (log: $(logfile "$name"))"
  fi
  wait_until 5 test -s "$(pidfile "$name")" ||
    die "$name wrote no pid file $(pidfile "$name") within 5 s (log: $(logfile "$name"))"
}

# ---------------------------------------------------------------------------------------------
# The parts. Each has check_X (healthy?) and build_X (make or repair; safe on a half-made part).

check_netns() { # NS
  [[ -e /run/netns/$1 ]] || problem "namespace $1 is missing" || return
  [[ $(ip -n "$1" -o link show dev lo 2>/dev/null) =~ [\<,]UP[,\>] ]] ||
    problem "namespace $1 is unusable or its lo is down"
}

build_netns() { # NS
  if [[ -e /run/netns/$1 ]] && ! recorded "netns $1"; then
    die "namespace $1 exists but this testbed did not make it (not in $STATE/objects);" \
      "delete it yourself or pick another WD_TESTBED_PREFIX"
  fi
  record "netns $1"
  if [[ -e /run/netns/$1 ]] && ! ip -n "$1" link show dev lo &>/dev/null; then
    ip netns del "$1" 2>/dev/null || rm -f "/run/netns/$1" # a stale mount point of ours
  fi
  [[ -e /run/netns/$1 ]] || ip netns add "$1"
  ip -n "$1" link set lo up
  # Duplicate address detection only delays a lab with fixed, unique addresses; links made
  # later in the namespace take these defaults.
  in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

check_wan() {
  link_is_up "$NS_GW" "$WAN_IF" && link_is_up "$NS_INET" "$INET_IF" &&
    has_addr "$NS_GW" "$WAN_IF" "$GW_WAN4/24" && has_addr "$NS_GW" "$WAN_IF" "$GW_WAN6/64" &&
    has_addr "$NS_INET" "$INET_IF" "$INET4/24" && has_addr "$NS_INET" "$INET_IF" "$INET6/64" &&
    has_route "$NS_GW" -4 default "via $INET4 dev $WAN_IF" &&
    has_route "$NS_GW" -6 default "via $INET6 dev $WAN_IF" &&
    has_route "$NS_INET" -6 "$LAN6_NET" "via $GW_WAN6 dev $INET_IF"
}

build_wan() {
  if ! ip -n "$NS_GW" link show dev "$WAN_IF" &>/dev/null ||
    ! ip -n "$NS_INET" link show dev "$INET_IF" &>/dev/null; then
    ip -n "$NS_GW" link del "$WAN_IF" 2>/dev/null || true
    ip -n "$NS_INET" link del "$INET_IF" 2>/dev/null || true
    ip -n "$NS_GW" link add "$WAN_IF" address "$WAN_MAC" type veth \
      peer name "$INET_IF" address "$INET_MAC" netns "$NS_INET"
  fi
  ip -n "$NS_GW" link set "$WAN_IF" up
  ip -n "$NS_INET" link set "$INET_IF" up
  ip -n "$NS_GW" addr replace "$GW_WAN4/24" dev "$WAN_IF"
  ip -n "$NS_GW" addr replace "$GW_WAN6/64" dev "$WAN_IF" nodad
  ip -n "$NS_INET" addr replace "$INET4/24" dev "$INET_IF"
  ip -n "$NS_INET" addr replace "$INET6/64" dev "$INET_IF" nodad
  ip -n "$NS_GW" -4 route replace default via "$INET4" dev "$WAN_IF"
  ip -n "$NS_GW" -6 route replace default via "$INET6" dev "$WAN_IF"
  # IPv6 is routed, not translated, as in most homes: the internet needs the way back.
  ip -n "$NS_INET" -6 route replace "$LAN6_NET" via "$GW_WAN6" dev "$INET_IF"
}

check_bridge() {
  local details
  details=$(ip -n "$NS_GW" -d -o link show dev "$BRIDGE" 2>/dev/null)
  [[ $details == *" bridge "* ]] || problem "bridge $BRIDGE is missing in $NS_GW" || return
  [[ $details =~ [\<,]UP[,\>] ]] ||
    problem "$BRIDGE in $NS_GW is down" || return
  has_addr "$NS_GW" "$BRIDGE" "$GW_LAN4/24" && has_addr "$NS_GW" "$BRIDGE" "$GW_LAN6/64"
}

build_bridge() {
  if [[ $(ip -n "$NS_GW" -d -o link show dev "$BRIDGE" 2>/dev/null) != *" bridge "* ]]; then
    ip -n "$NS_GW" link del "$BRIDGE" 2>/dev/null || true
    # No STP and no snooping: ports forward at once and RA/ND multicast reaches every device.
    ip -n "$NS_GW" link add "$BRIDGE" address "$BRIDGE_MAC" type bridge \
      stp_state 0 forward_delay 0 mcast_snooping 0
  fi
  ip -n "$NS_GW" link set "$BRIDGE" up
  ip -n "$NS_GW" addr replace "$GW_LAN4/24" dev "$BRIDGE"
  ip -n "$NS_GW" addr replace "$GW_LAN6/64" dev "$BRIDGE" nodad
}

check_port() { # K
  local ns
  ns=$(ns_dev "$1")
  link_is_up "$NS_GW" "lan$1" && link_is_up "$ns" "$DEV_IF" || return
  [[ $(ip -n "$NS_GW" -o link show dev "lan$1") == *"master $BRIDGE "* ]] ||
    problem "lan$1 is not a port of $BRIDGE" || return
  [[ $(ip -n "$ns" -o link show dev "$DEV_IF") == *"link/ether $(dev_mac "$1") "* ]] ||
    problem "$DEV_IF in $ns does not have MAC $(dev_mac "$1")"
}

build_port() { # K
  local ns
  ns=$(ns_dev "$1")
  # Device addresses are predictable: EUI-64 SLAAC, no temporary (privacy) addresses.
  in_ns "$ns" sysctl -qw net.ipv6.conf.default.use_tempaddr=0 net.ipv6.conf.default.addr_gen_mode=0
  if ! ip -n "$NS_GW" link show dev "lan$1" &>/dev/null ||
    ! ip -n "$ns" link show dev "$DEV_IF" &>/dev/null; then
    ip -n "$NS_GW" link del "lan$1" 2>/dev/null || true
    ip -n "$ns" link del "$DEV_IF" 2>/dev/null || true
    ip -n "$NS_GW" link add "lan$1" address "$(port_mac "$1")" type veth \
      peer name "$DEV_IF" address "$(dev_mac "$1")" netns "$ns"
  fi
  ip -n "$ns" link set "$DEV_IF" address "$(dev_mac "$1")"
  ip -n "$NS_GW" link set "lan$1" master "$BRIDGE" up
  ip -n "$ns" link set "$DEV_IF" up
}

check_gw_routing() {
  sysctl_is "$NS_GW" net.ipv4.ip_forward 1 &&
    sysctl_is "$NS_GW" net.ipv6.conf.all.forwarding 1 || return
  local rule="oifname \"$WAN_IF\" .* masquerade"
  [[ $(in_ns "$NS_GW" nft list table ip "$NFT_TABLE" 2>/dev/null) =~ $rule ]] ||
    problem "nftables table ip $NFT_TABLE (LAN → WAN masquerade) is missing in $NS_GW"
}

build_gw_routing() {
  in_ns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  # Declaring, deleting and redeclaring the table in one transaction replaces it atomically.
  in_ns "$NS_GW" nft -f - <<EOF
table ip $NFT_TABLE
delete table ip $NFT_TABLE
table ip $NFT_TABLE {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "$WAN_IF" ip saddr $LAN4_NET masquerade
  }
}
EOF
}

check_targets() {
  has_route "$NS_INET" -4 "table local $TARGETS4" "local $TARGETS4 dev lo" &&
    has_route "$NS_INET" -6 "table local $TARGETS6" "local $TARGETS6 dev lo"
}

build_targets() {
  ip -n "$NS_INET" -4 route replace local "$TARGETS4" dev lo
  ip -n "$NS_INET" -6 route replace local "$TARGETS6" dev lo
}

check_inet_dns() {
  proc_is_healthy inet-dnsmasq "$NS_INET" && listens "$NS_INET" udp 53
}

build_inet_dns() {
  cat >"$STATE/inet-dnsmasq.conf" <<EOF
# DNS of the testbed's internet ($NS_INET), written by scripts/testbed.sh: answers for the
# test. names below, NXDOMAIN for other test. names, and forwards nothing anywhere.
port=53
listen-address=$INET4
listen-address=$INET6
bind-dynamic
no-resolv
no-hosts
local=/test/
host-record=www.inet.test,$INET4,$INET6
host-record=dns.inet.test,$INET4
host-record=cdn.inet.test,198.18.64.10,fd00:64::10
host-record=cloud.example.test,198.18.64.20,fd00:64::20
pid-file=$(pidfile inet-dnsmasq)
log-queries
log-facility=$(logfile inet-dnsmasq-queries)
user=root
EOF
  start_daemon inet-dnsmasq "$NS_INET" dnsmasq --conf-file="$STATE/inet-dnsmasq.conf"
  wait_until 5 listens "$NS_INET" udp 53 || die "inet DNS does not listen: $PROBLEM"
}

check_inet_http() {
  proc_is_healthy inet-http "$NS_INET" && listens "$NS_INET" tcp "$HTTP_PORT"
}

build_inet_http() {
  record "proc inet-http $NS_INET"
  stop_proc inet-http
  # setsid -f: its own session, so a terminal's Ctrl-C or a test runner's process group
  # signal does not reach it; the server writes its pid file once it listens.
  setsid -f ip netns exec "$NS_INET" "$PYTHON" "$HELPERS/http_server.py" --port "$HTTP_PORT" \
    --pid-file "$(pidfile inet-http)" </dev/null >>"$(logfile inet-http)" 2>&1 9<&-
  wait_until 5 test -s "$(pidfile inet-http)" || {
    log_tail "$(logfile inet-http)"
    die "the HTTP server did not start within 5 s (log: $(logfile inet-http))"
  }
}

check_inet_iperf() { # K
  proc_is_healthy "inet-iperf3-$1" "$NS_INET" && listens "$NS_INET" tcp "$(iperf_port "$1")"
}

build_inet_iperf() { # K: one server per device, so devices can measure at the same time
  start_daemon "inet-iperf3-$1" "$NS_INET" iperf3 --server --daemon --port "$(iperf_port "$1")" \
    --pidfile "$(pidfile "inet-iperf3-$1")" --logfile "$(logfile "inet-iperf3-$1")"
  wait_until 5 listens "$NS_INET" tcp "$(iperf_port "$1")" ||
    die "iperf3 server $1 does not listen: $PROBLEM"
}

check_gw_dnsmasq() {
  proc_is_healthy gw-dnsmasq "$NS_GW" && listens "$NS_GW" udp 67 && listens "$NS_GW" udp 53
}

build_gw_dnsmasq() {
  local k hosts=""
  for ((k = 1; k <= DEVICES; k++)); do
    hosts+="dhcp-host=$(dev_mac "$k"),$(dev_ip4 "$k"),dev$k,$LEASE_TIME"$'\n'
  done
  cat >"$STATE/gw-dnsmasq.conf" <<EOF
# The gateway's DHCP, RA and DNS on $BRIDGE ($NS_GW), written by scripts/testbed.sh.
interface=$BRIDGE
bind-interfaces
no-resolv
no-hosts
server=$INET4
dhcp-authoritative
dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,$LEASE_TIME
dhcp-option=option:router,$GW_LAN4
dhcp-option=option:dns-server,$GW_LAN4
# static leases: devK always gets 198.18.0.(100+K)
$hosts
enable-ra
dhcp-range=${LAN6_NET%/64},ra-only,64
ra-param=$BRIDGE,10,1800
dhcp-leasefile=$STATE/gw-dnsmasq.leases
pid-file=$(pidfile gw-dnsmasq)
log-queries
log-dhcp
log-facility=$(logfile gw-dnsmasq-queries)
user=root
EOF
  start_daemon gw-dnsmasq "$NS_GW" dnsmasq --conf-file="$STATE/gw-dnsmasq.conf"
  wait_until 5 listens "$NS_GW" udp 67 || die "gateway DHCP does not listen: $PROBLEM"
}

# Each namespace gets its own resolv.conf (ip netns exec mounts it over /etc/resolv.conf).
resolver_of() { # NS
  case $1 in
    "$NS_GW" | "$NS_INET") echo "$INET4" ;;
    *) echo "$GW_LAN4" ;;
  esac
}

check_resolv() { # NS
  [[ $(cat "/etc/netns/$1/resolv.conf" 2>/dev/null) == "nameserver $(resolver_of "$1")" ]] ||
    problem "/etc/netns/$1/resolv.conf is missing or changed"
}

build_resolv() { # NS
  [[ -d /etc/netns ]] || {
    record "dir /etc/netns"
    mkdir /etc/netns
  }
  [[ -d /etc/netns/$1 ]] || {
    record "dir /etc/netns/$1"
    mkdir "/etc/netns/$1"
  }
  record "file /etc/netns/$1/resolv.conf"
  echo "nameserver $(resolver_of "$1")" >"/etc/netns/$1/resolv.conf"
}

check_dhcp() { # K: dhclient runs and the leased address is on eth0
  local ns
  ns=$(ns_dev "$1")
  proc_is_healthy "dev$1-dhclient" "$ns" &&
    has_addr "$ns" "$DEV_IF" "$(dev_ip4 "$1")/24" &&
    has_route "$ns" -4 default "via $GW_LAN4 dev $DEV_IF"
}

build_dhcp() { # K: starts dhclient; wait_for_addresses waits for all devices at once
  local dir="$STATE/dev$1"
  mkdir -p "$dir"
  cat >"$dir/dhclient.conf" <<EOF
# dhclient settings of testbed device $1 ($(ns_dev "$1")), written by scripts/testbed.sh.
# host-name and vendor class identify the device to warden's identity code.
send host-name "dev$1";
send vendor-class-identifier "warden-testbed-$1";
request subnet-mask, broadcast-address, routers, domain-name-servers, dhcp-lease-time;
timeout $DHCP_WAIT_S;
retry 2;
initial-interval 1;
backoff-cutoff 2;
EOF
  start_daemon "dev$1-dhclient" "$(ns_dev "$1")" dhclient -4 -nw -cf "$dir/dhclient.conf" \
    -lf "$dir/dhclient.leases" -pf "$(pidfile "dev$1-dhclient")" \
    -sf "$STATE/dhclient-script" "$DEV_IF"
}

check_slaac() { # K
  local ns line
  ns=$(ns_dev "$1")
  # (no `grep -q` in a pipeline anywhere here: its early exit fails the writer under pipefail)
  line=$(ip -n "$ns" -6 -o addr show dev "$DEV_IF" scope global 2>/dev/null |
    grep -F " $(dev_ip6 "$1")/64 " || true)
  [[ -n $line && $line != *tentative* ]] ||
    problem "$DEV_IF in $ns has no SLAAC address $(dev_ip6 "$1")/64 yet"
}

wait_for_addresses() { # every device: DHCP address and SLAAC address, within DHCP_WAIT_S
  local k deadline=$((SECONDS + DHCP_WAIT_S)) missing
  while :; do
    missing=()
    for ((k = 1; k <= DEVICES; k++)); do
      check_dhcp "$k" && check_slaac "$k" || missing+=("dev$k: $PROBLEM")
    done
    ((${#missing[@]} == 0)) && return 0
    ((SECONDS < deadline)) || break
    sleep 0.2
  done
  printf '  %s\n' "${missing[@]}" >&2
  log_tail "$(logfile gw-dnsmasq-queries)"
  die "devices did not get their addresses within ${DHCP_WAIT_S} s; logs: $STATE/log/" \
    "(gw-dnsmasq-queries.log has the server's DHCP side, devK-dhclient.log the client's)"
}

# ---------------------------------------------------------------------------------------------
# The whole testbed as an ordered list of parts: "label|check args|build args".

parts() {
  local k
  echo "namespace $NS_GW|check_netns $NS_GW|build_netns $NS_GW"
  echo "namespace $NS_INET|check_netns $NS_INET|build_netns $NS_INET"
  for ((k = 1; k <= DEVICES; k++)); do
    echo "namespace $(ns_dev "$k")|check_netns $(ns_dev "$k")|build_netns $(ns_dev "$k")"
  done
  echo "WAN link $WAN_IF<->$INET_IF and routes|check_wan|build_wan"
  echo "LAN bridge $BRIDGE|check_bridge|build_bridge"
  for ((k = 1; k <= DEVICES; k++)); do
    echo "LAN port lan$k<->$(ns_dev "$k"):$DEV_IF|check_port $k|build_port $k"
  done
  echo "gateway forwarding and NAT|check_gw_routing|build_gw_routing"
  echo "target ranges $TARGETS4 $TARGETS6 in $NS_INET|check_targets|build_targets"
  echo "inet DNS (dnsmasq)|check_inet_dns|build_inet_dns"
  echo "inet HTTP :$HTTP_PORT|check_inet_http|build_inet_http"
  for ((k = 1; k <= DEVICES; k++)); do
    echo "inet iperf3 :$(iperf_port "$k")|check_inet_iperf $k|build_inet_iperf $k"
  done
  echo "gateway dnsmasq (DHCP, RA, DNS)|check_gw_dnsmasq|build_gw_dnsmasq"
  for ns in "$NS_GW" "$NS_INET" $(for ((k = 1; k <= DEVICES; k++)); do ns_dev "$k"; done); do
    echo "resolv.conf of $ns|check_resolv $ns|build_resolv $ns"
  done
  for ((k = 1; k <= DEVICES; k++)); do
    echo "DHCP of $(ns_dev "$k")|check_dhcp $k|build_dhcp $k"
  done
}

read_conf() { # sets DEVICES and LEASE_TIME from the state dir; 1 if there is none
  [[ -f $STATE/testbed.conf ]] || return 1
  DEVICES=$(sed -n 's/^devices=//p' "$STATE/testbed.conf")
  LEASE_TIME=$(sed -n 's/^lease_time=//p' "$STATE/testbed.conf")
  [[ $DEVICES =~ ^[0-9]+$ && -n $LEASE_TIME ]] || die "$STATE/testbed.conf is damaged; run down, then up"
}

lock_state() { # one up/down at a time per testbed; daemons never inherit fd 9
  exec 9<"$STATE"
  flock -w 60 9 || die "another up/down of this testbed holds $STATE for over 60 s"
}

require_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, nftables)"; }

require_tools() {
  local tool missing=()
  for tool in ip nft dnsmasq dhclient iperf3 nsenter setsid flock ss sysctl "$PYTHON"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (scripts/install-deps.sh installs them)"
}

cmd_up() {
  local want_devices=$1 want_lease=$2 fresh=0 part label check build changed=0 k all_parts
  require_root
  require_tools
  [[ -d $STATE ]] || fresh=1
  mkdir -p "$STATE/run" "$STATE/log"
  touch "$MARKER" "$STATE/objects"
  lock_state
  if read_conf; then
    [[ -z $want_devices || $want_devices == "$DEVICES" ]] ||
      die "testbed is up with $DEVICES devices, not $want_devices; run down first"
    [[ -z $want_lease || $want_lease == "$LEASE_TIME" ]] ||
      die "testbed is up with lease time $LEASE_TIME, not $want_lease; run down first"
  else
    DEVICES=${want_devices:-$DEFAULT_DEVICES}
    LEASE_TIME=${want_lease:-$DEFAULT_LEASE_TIME}
    printf 'devices=%s\nlease_time=%s\n' "$DEVICES" "$LEASE_TIME" >"$STATE/testbed.conf"
  fi
  install -m 0755 "$HELPERS/dhclient-script.sh" "$STATE/dhclient-script"

  # read into an array first: builders must not see the list on their stdin
  mapfile -t all_parts < <(parts)
  for part in "${all_parts[@]}"; do
    IFS='|' read -r label check build <<<"$part"
    # check and build are "function arg..." and meant to be split
    if $check; then continue; fi
    if ((fresh)); then say "creating $label"; else say "repairing $label: $PROBLEM"; fi
    changed=1
    $build
    # DHCP is awaited for all devices at once below; everything else must be right now.
    if [[ $check != check_dhcp* ]] && ! $check; then
      die "$label is still broken after building it: $PROBLEM"
    fi
  done

  if ((changed)); then
    wait_for_addresses
    local addresses=""
    for ((k = 1; k <= DEVICES; k++)); do addresses+="${addresses:+ }$(dev_ip4 "$k")"; done
    say "up: $DEVICES devices ($addresses); state in $STATE"
  else
    # SLAAC is not part of the loop (the kernel owns it); still, `up` promises it
    for ((k = 1; k <= DEVICES; k++)); do check_slaac "$k" || wait_for_addresses; done
    say "everything in place ($DEVICES devices); state in $STATE"
  fi
}

cmd_down() {
  require_root
  if [[ ! -d $STATE ]]; then
    say "nothing to take down ($STATE does not exist)"
    warn_unrecorded
    return 0
  fi
  [[ -f $MARKER ]] || die "$STATE has no $(basename "$MARKER") marker; refusing to remove it"
  lock_state
  local kind name ns pid
  # processes first (a namespace only dies with its last process), then namespaces, then files
  while read -r kind name ns; do
    if [[ $kind == proc ]]; then stop_proc "$name"; fi
  done <"$STATE/objects"
  while read -r kind name _; do
    if [[ $kind != netns || ! -e /run/netns/$name ]]; then continue; fi
    for pid in $(ip netns pids "$name" 2>/dev/null); do
      warn "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) still runs in $name; not ours to" \
        "kill, it keeps the namespace alive until it exits"
    done
    ip netns del "$name" || warn "could not delete namespace $name"
  done <"$STATE/objects"
  while read -r kind name _; do
    if [[ $kind == file ]]; then rm -f -- "$name"; fi
  done <"$STATE/objects"
  # directories last and deepest first; rmdir leaves one that someone else still uses
  while read -r kind name _; do
    if [[ $kind == dir ]]; then rmdir -- "$name" 2>/dev/null || true; fi
  done < <(tac "$STATE/objects")
  rm -rf -- "$STATE" # it carries our marker: every file in it is ours
  say "down"
}

warn_unrecorded() { # namespaces named like ours that no state records (e.g. state dir deleted)
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns == "$PREFIX-gw" || $ns == "$PREFIX-inet" || $ns =~ ^$PREFIX-dev[0-9]+$ ]] &&
      warn "namespace $ns exists but no state records it; not touching it"
  done
  return 0
}

cmd_status() {
  local label check build broken=0 k kind name pid part all_parts
  if ! read_conf; then
    say "not up ($STATE/testbed.conf does not exist)"
    warn_unrecorded
    return 3
  fi
  say "$DEVICES devices, lease time $LEASE_TIME, state in $STATE"
  echo "  $NS_INET: $INET_IF $INET4 $INET6; targets $TARGETS4 $TARGETS6; HTTP :$HTTP_PORT, DNS :53, iperf3 :$(iperf_port 1)-$(iperf_port "$DEVICES")"
  echo "  $NS_GW: $WAN_IF $GW_WAN4 $GW_WAN6; $BRIDGE $GW_LAN4 $GW_LAN6; ports lan1..lan$DEVICES"
  for ((k = 1; k <= DEVICES; k++)); do
    echo "  $(ns_dev "$k"): $DEV_IF $(dev_mac "$k") $(dev_ip4 "$k") $(dev_ip6 "$k")"
  done
  mapfile -t all_parts < <(parts)
  for part in "${all_parts[@]}"; do
    IFS='|' read -r label check build <<<"$part"
    if $check; then
      printf '  %-8s %s\n' ok "$label"
    else
      printf '  %-8s %s: %s\n' BROKEN "$label" "$PROBLEM"
      broken=1
    fi
  done
  for ((k = 1; k <= DEVICES; k++)); do
    if check_slaac "$k"; then printf '  %-8s %s\n' ok "SLAAC of $(ns_dev "$k")"; else
      printf '  %-8s %s: %s\n' BROKEN "SLAAC of $(ns_dev "$k")" "$PROBLEM"
      broken=1
    fi
  done
  echo "  processes:"
  while read -r kind name _; do
    if [[ $kind != proc ]]; then continue; fi
    pid=$(cat "$(pidfile "$name")" 2>/dev/null || echo -)
    echo "    $name pid $pid"
  done <"$STATE/objects"
  return $broken
}

cmd_env() {
  local k lans=""
  read_conf || die "not up ($STATE/testbed.conf does not exist); run: $0 up"
  for ((k = 1; k <= DEVICES; k++)); do lans+="${lans:+ }lan$k"; done
  {
    echo "WD_TESTBED_PREFIX $PREFIX"
    echo "WD_STATE_DIR $STATE"
    echo "WD_DEVICES $DEVICES"
    echo "WD_GW_NS $NS_GW"
    echo "WD_INET_NS $NS_INET"
    echo "WD_WAN_IF $WAN_IF"
    echo "WD_LAN_BRIDGE $BRIDGE"
    echo "WD_LAN_IFS $lans"
    echo "WD_GW_LAN_IP4 $GW_LAN4"
    echo "WD_GW_LAN_IP6 $GW_LAN6"
    echo "WD_GW_WAN_IP4 $GW_WAN4"
    echo "WD_GW_WAN_IP6 $GW_WAN6"
    echo "WD_INET_IF $INET_IF"
    echo "WD_INET_IP4 $INET4"
    echo "WD_INET_IP6 $INET6"
    echo "WD_INET_NAME www.inet.test"
    echo "WD_TARGET_RANGE $TARGETS4"
    echo "WD_TARGET_RANGE6 $TARGETS6"
    echo "WD_HTTP_PORT $HTTP_PORT"
    echo "WD_HTTP_LOG $(logfile inet-http)"
    echo "WD_GW_DNS_LOG $(logfile gw-dnsmasq-queries)"
    echo "WD_GW_LEASES $STATE/gw-dnsmasq.leases"
    echo "WD_DEV_IF $DEV_IF"
    for ((k = 1; k <= DEVICES; k++)); do
      echo "WD_DEV_NS_$k $(ns_dev "$k")"
      echo "WD_DEV_MAC_$k $(dev_mac "$k")"
      echo "WD_DEV_IP4_$k $(dev_ip4 "$k")"
      echo "WD_DEV_IP6_$k $(dev_ip6 "$k")"
      echo "WD_DEV_LAN_IF_$k lan$k"
      echo "WD_DEV_IPERF_PORT_$k $(iperf_port "$k")"
    done
  } | while read -r name value; do printf '%s=%q\n' "$name" "$value"; done
}

main() {
  [[ $# -ge 1 ]] || usage
  local command=$1 devices="" lease=""
  shift
  while [[ $# -gt 0 ]]; do
    case $1 in
      --devices)
        if ! [[ ${2:-} =~ ^[0-9]{1,3}$ ]] || ((10#$2 < 1 || 10#$2 > MAX_DEVICES)); then
          die "--devices needs a number from 1 to $MAX_DEVICES, got '${2:-}'"
        fi
        devices=$((10#$2))
        shift 2
        ;;
      --lease-time)
        # dnsmasq's syntax; it refuses leases under 2 minutes
        [[ ${2:-} =~ ^[0-9]+[mhd]?$ ]] || die "--lease-time needs e.g. 2m, 1h or 3600, got '${2:-}'"
        lease=$2
        shift 2
        ;;
      -h | --help) usage ;;
      *) die "unknown argument '$1' (see $0 --help)" ;;
    esac
  done
  [[ $PREFIX =~ ^[a-z][a-z0-9]{0,7}$ ]] ||
    die "WD_TESTBED_PREFIX must be 1-8 lower-case letters/digits starting with a letter, got '$PREFIX'"
  case $command in
    up) cmd_up "$devices" "$lease" ;;
    down) cmd_down ;;
    status)
      local rc=0 # (status's exit code is its answer, not an error)
      cmd_status || rc=$?
      exit "$rc"
      ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) die "unknown command '$command' (up, down, status, env)" ;;
  esac
}

main "$@"
