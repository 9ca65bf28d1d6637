#!/usr/bin/env bash
# Benchmarks warden's data plane (issue 2, "Benchmark") and writes the tables into
# docs/BENCHMARKS.md. Builds the bench program if needed, makes its own namespaces and veths
# (names wdb-*), loads xdp-filter as the peer to compare with, runs
# tests/bench/bench_dataplane, and removes everything it made, also on failure or Ctrl-C.
#
#   sudo scripts/bench-dataplane.sh              # build dir ./build, writes docs/BENCHMARKS.md
#   sudo BUILD_DIR=/tmp/b NO_DOC=1 scripts/bench-dataplane.sh   # only print the tables
#   sudo scripts/bench-dataplane.sh --blocklist-v4 0 --runs 11  # extra arguments go to the bench
#                                                               # (bench_dataplane --help lists them)
#
# Exit code: 0 when both parts were measured (whether or not the targets were met; the tables
# say), 3 when part 2 could not run on this kernel (it refuses BPF_F_TEST_XDP_LIVE_FRAMES):
# part 1 is measured and written, part 2 says why it was not, and keeps the figures of the
# last run that measured it, marked as such; 1 on failure, 77 when it cannot run here (not root).
#
# Traffic stays between the two ends of its veth pair (198.18.0.0/15); the whole run is bounded
# (the bench itself by a timeout, each measurement by a frame count and a time limit).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DOC=${DOC:-$ROOT/docs/BENCHMARKS.md}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-150}  # seconds; the whole script must stay under 3 minutes

# One place for the names and addresses the bench uses.
DEVICE_MAC=02:00:00:00:00:01    # a known device: its frames pass
ISOLATED_MAC=02:00:00:0b:ad:01  # quarantined in warden, listed in xdp-filter and nftables
GEN_NS=wdb-gen GEN_DEV=wdb-gen0 GEN_IP=198.18.0.2
DUT_NS=wdb-dut DUT_DEV=wdb-dut0 DUT_IP=198.18.0.1
XF_NS=wdb-xf XF_DEV=wdb-xf0 XF_PEER=wdb-xf1
XDP_FILTER_PINS=/sys/fs/bpf/xdp-filter

say() { echo "bench-dataplane: $*" >&2; }
die() { say "$*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then
  say "skipped: needs root (CAP_BPF, CAP_NET_ADMIN) for BPF_PROG_TEST_RUN and namespaces"
  exit 77
fi
for tool in cmake ip nft nsenter xdp-filter bpftool python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done
mount | grep -q '^bpf on /sys/fs/bpf' || die "bpffs is not mounted: mount -t bpf bpf /sys/fs/bpf"

# ---- build (quick when nothing changed) ----
if ! build_log=$({ [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -B "$BUILD_DIR" -S "$ROOT"; } 2>&1 &&
  cmake --build "$BUILD_DIR" -j2 --target bench_dataplane 2>&1); then
  echo "$build_log" | tail -40 >&2
  die "the build failed (above); nothing was set up"
fi
BENCH=$BUILD_DIR/tests/bench/bench_dataplane

# ---- refuse to touch what is not ours ----
for ns in "$GEN_NS" "$DUT_NS" "$XF_NS"; do
  [[ ! -e /var/run/netns/$ns ]] ||
    die "network namespace $ns exists already; if an earlier run left it, remove it: ip netns del $ns"
done
[[ ! -e $XDP_FILTER_PINS ]] ||
  die "$XDP_FILTER_PINS exists: another xdp-filter is loaded, and ours would share its maps"

# ---- set-up, undone by cleanup in reverse order ----
made_ns=()
xdp_filter_loaded=0
bench_pid=
out=$(mktemp)
cleanup() {
  local rc=$?
  if [[ -n $bench_pid ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill "$bench_pid" 2>/dev/null || true  # timeout(1) passes it on to the bench
    wait "$bench_pid" 2>/dev/null || true
  fi
  if ((xdp_filter_loaded)); then
    nsenter --net="/var/run/netns/$XF_NS" xdp-filter unload "$XF_DEV" >/dev/null 2>&1 ||
      say "could not unload xdp-filter from $XF_DEV"
  fi
  local i
  for ((i = ${#made_ns[@]} - 1; i >= 0; i--)); do
    ip netns del "${made_ns[i]}" 2>/dev/null || say "could not delete namespace ${made_ns[i]}"
  done
  rm -f "$out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_ns() { ip netns add "$1"; made_ns+=("$1"); ip -n "$1" link set lo up; }

# Generator and DUT: one veth pair across two namespaces.
make_ns "$GEN_NS"
make_ns "$DUT_NS"
ip link add "$GEN_DEV" netns "$GEN_NS" type veth peer name "$DUT_DEV" netns "$DUT_NS"
ip -n "$GEN_NS" addr add "$GEN_IP/24" dev "$GEN_DEV"
ip -n "$DUT_NS" addr add "$DUT_IP/24" dev "$DUT_DEV"
ip -n "$GEN_NS" link set "$GEN_DEV" up
ip -n "$DUT_NS" link set "$DUT_DEV" up

# xdp-filter, the peer: loaded in skb mode on a veth of its own namespace (nsenter, not
# `ip netns exec`, so it sees bpffs for its pins), set to drop the isolated MAC.
make_ns "$XF_NS"
ip -n "$XF_NS" link add "$XF_DEV" type veth peer name "$XF_PEER"
ip -n "$XF_NS" link set "$XF_DEV" up
ip -n "$XF_NS" link set "$XF_PEER" up
xdp_filter_loaded=1
nsenter --net="/var/run/netns/$XF_NS" xdp-filter load "$XF_DEV" -m skb -f ethernet
nsenter --net="/var/run/netns/$XF_NS" xdp-filter ether "$ISOLATED_MAC" --mode src
xf_prog=$(ip -n "$XF_NS" -j link show dev "$XF_DEV" | python3 -c '
import json, sys
link = json.load(sys.stdin)[0]
print(link.get("xdp", {}).get("prog", {}).get("id", ""))')
[[ -n $xf_prog ]] || die "xdp-filter loaded, but no XDP program is attached to $XF_DEV"
xf_name=$(bpftool -j prog show id "$xf_prog" | python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])')
[[ $xf_name == xdpfilt_alw_eth ]] ||
  die "program $xf_prog on $XF_DEV is $xf_name, expected xdpfilt_alw_eth (allow policy, ethernet feature)"

# ---- run ----
say "running the bench (at most ${BENCH_TIMEOUT}s)"
started=$(date +%s)
# In the background so a signal to this script reaches the trap at once, not after the bench.
timeout "$BENCH_TIMEOUT" "$BENCH" \
  --device-mac "$DEVICE_MAC" --isolated-mac "$ISOLATED_MAC" --xdp-filter-prog "$xf_prog" \
  --gen-netns "$GEN_NS" --gen-dev "$GEN_DEV" --gen-ip "$GEN_IP" \
  --dut-netns "$DUT_NS" --dut-dev "$DUT_DEV" --dut-ip "$DUT_IP" "$@" >"$out" &
bench_pid=$!
bench_rc=0
wait "$bench_pid" || bench_rc=$?
bench_pid=
((bench_rc == 0 || bench_rc == 3)) || die "the bench failed (exit $bench_rc, 124 = timed out); nothing written to $DOC"
cat "$out"
say "bench took $(($(date +%s) - started))s"
# Part 2 could not run: part 1 is still worth writing, but nobody may miss that part 2 is not.
part2_missing() {
  ((bench_rc == 3)) || return 0
  local bar="========================================================================"
  say "$bar"
  say "PART 2 (frames per second through a veth pair) WAS NOT MEASURED:"
  say "  $(grep -m1 '^\*\*Not measured in this run\*\*' "$out" | sed 's/^\*\*Not measured in this run\*\*: //')"
  say "  Part 1 was measured.${1:+ $1}"
  say "$bar"
}

# ---- write the generated section of docs/BENCHMARKS.md ----
if [[ -n ${NO_DOC:-} ]]; then
  part2_missing
  exit "$bench_rc"
fi
kernel=$(uname -r)
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ncpu=$(nproc)
tools="xdp-tools $(dpkg-query -W -f='${Version}' xdp-tools 2>/dev/null || echo '?'), $(nft --version 2>/dev/null || echo 'nftables ?')"
run="$(date -u '+%Y-%m-%d %H:%M UTC') on kernel $kernel, $cpu ($ncpu CPUs), $tools"
python3 "$ROOT/scripts/lib/dataplane_doc.py" "$DOC" "$out" "$run"
say "tables written to $DOC"
part2_missing "Its last measured figures stay in $DOC, marked with the run they come from."
exit "$bench_rc"
