#!/usr/bin/env bash
# Benchmarks warden's controller (issue 3, "Controller benchmark"): the CPU time of one poll
# cycle of `warden run` and its resident memory, first with empty maps, then with 1,024
# devices and 65,536 flows in them, and writes the table into docs/BENCHMARKS.md.
#
# It makes a namespace of its own (wdc-gw, with a LAN and a WAN veth; no traffic is sent),
# starts `warden run` there with its own policy, pin dir (/sys/fs/bpf/wdc-bench) and state
# dir (under a temp dir), measures a number of polls from outside (tests/bench/controller/
# sample_controller.py), fills the pinned maps (bench_fill_maps), measures again, and removes
# everything it made, also on failure or Ctrl-C. About 40 seconds; at most 2 minutes.
#
#   sudo scripts/bench-controller.sh                    # build dir ./build, writes docs/BENCHMARKS.md
#   BUILD_DIR=/tmp/b NO_DOC=1 sudo scripts/bench-controller.sh   # only print the table
#   CYCLES=20 DEVICES=2048 FLOWS=131072 ACTIVE_SHARE=10 sudo scripts/bench-controller.sh
#
# Exit code: 0 when the table was made (whether or not the targets were met; the table says),
# 1 on failure, 77 when it cannot run here (not root, no bpffs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DOC=${DOC:-$ROOT/docs/BENCHMARKS.md}
DEVICES=${DEVICES:-1024}
FLOWS=${FLOWS:-65536}
CYCLES=${CYCLES:-12}      # polls measured per phase (the median needs at least 10)
# Seconds for the whole run after the build: two phases of CYCLES polls at 1 s, start-up,
# fill and clean-up; about 40 s with the defaults, and the deadline keeps it under 2 minutes.
DEADLINE=${DEADLINE:-$((2 * CYCLES + 80))}
# Percentage of the flows the controller finds active (seen within its interval) at every
# poll: 100 is the most work a poll can have.
ACTIVE_SHARE=${ACTIVE_SHARE:-100}
# The device and flow maps are LRU hashes sized exactly to the fill (the default home sizing).
# An LRU map evicts before it is full when other CPUs hold free slots in their local lists
# (up to 128 each, LOCAL_FREE_TARGET in kernel/bpf/bpf_lru_list.c), so the namespace sends
# nothing (no IPv6: no ND or MLD) and bench_fill_maps writes from one CPU. Should entries go
# missing anyway, LRU_HEADROOM=256 gives the maps that much room above the fill.
LRU_HEADROOM=${LRU_HEADROOM:-0}
MAP_DEVICES=$((DEVICES + LRU_HEADROOM))
MAP_FLOWS=$((FLOWS + LRU_HEADROOM))

# One place for the names the bench makes; cleanup removes exactly these.
GW_NS=wdc-gw
LAN_DEV=wdc-lan0 LAN_PEER=wdc-lan0p
WAN_DEV=wdc-wan0 WAN_PEER=wdc-wan0p
PIN_DIR=/sys/fs/bpf/wdc-bench
SAMPLER=$ROOT/tests/bench/controller/sample_controller.py

say() { echo "bench-controller: $*" >&2; }
die() { say "$*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then
  say "skipped: needs root (CAP_BPF, CAP_NET_ADMIN) to load warden and make a namespace"
  exit 77
fi
if ! mount | grep -q '^bpf on /sys/fs/bpf'; then
  say "skipped: bpffs is not mounted (mount -t bpf bpf /sys/fs/bpf)"
  exit 77
fi
for tool in cmake ip nsenter python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done
((CYCLES >= 10)) || die "CYCLES=$CYCLES: the median needs at least 10 cycles"

# ---- build (quick when nothing changed) ----
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  cmake -B "$BUILD_DIR" -S "$ROOT" >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target warden bench_fill_maps >/dev/null ||
  die "build failed: run cmake --build $BUILD_DIR --target warden bench_fill_maps to see why"
WARDEN=$BUILD_DIR/controller/warden
FILL=$BUILD_DIR/tests/bench/controller/bench_fill_maps

# ---- refuse to touch what is not ours ----
[[ ! -e /var/run/netns/$GW_NS ]] ||
  die "network namespace $GW_NS exists already; if an earlier run left it: ip netns del $GW_NS"
[[ ! -e $PIN_DIR ]] ||
  die "$PIN_DIR exists; if an earlier run left it: rm -r $PIN_DIR (its programs' veths went with namespace $GW_NS)"

# ---- set-up, undone by cleanup in reverse order ----
made_ns=0
warden_pid=
tmp=$(mktemp -d /tmp/wdc-bench.XXXXXX)
policy=$tmp/policy.yaml
state_dir=$tmp/state
child=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [[ -n $warden_pid ]] && kill -0 "$warden_pid" 2>/dev/null; then
    kill -TERM "$warden_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$warden_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$warden_pid" 2>/dev/null; then
      say "warden ($warden_pid) did not stop on SIGTERM within 5 s: killing it"
      kill -KILL "$warden_pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  if ((made_ns)); then
    # detach removes the XDP links and tc filters of this namespace and the map pins.
    nsenter --net="/var/run/netns/$GW_NS" "$WARDEN" detach -c "$policy" >/dev/null 2>&1 ||
      say "warden detach reported a problem; removing what is left by hand"
  fi
  if [[ -e $PIN_DIR ]]; then
    rm -rf "$PIN_DIR" || say "could not remove $PIN_DIR"
  fi
  if ((made_ns)); then
    ip netns del "$GW_NS" 2>/dev/null || say "could not delete namespace $GW_NS"
  fi
  [[ -n "${KEEP_LOG:-}" && -s "$tmp/warden.log" ]] && cp "$tmp/warden.log" "$KEEP_LOG"
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs a step in the background and waits for it: bash runs a trap only between foreground
# commands, so this way a signal reaches cleanup at once, and cleanup stops the step.
run_step() {
  "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return "$rc"
}

started=$(date +%s)
load_start=$(cut -d' ' -f1 /proc/loadavg)
left() {  # seconds left before the deadline, at least 1
  local s=$((DEADLINE - ($(date +%s) - started)))
  echo $((s > 1 ? s : 1))
}

# The gateway: one LAN and one WAN port, each a veth whose peer stays in the namespace up, so
# the programs attach natively. Nothing is sent: IPv6 is off before the links exist, so not
# even neighbour discovery puts an entry into the maps.
ip netns add "$GW_NS"
made_ns=1
ip netns exec "$GW_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$GW_NS" link set lo up
ip -n "$GW_NS" link add "$LAN_DEV" type veth peer name "$LAN_PEER"
ip -n "$GW_NS" link add "$WAN_DEV" type veth peer name "$WAN_PEER"
ip -n "$GW_NS" addr add 198.18.0.1/24 dev "$LAN_DEV"
ip -n "$GW_NS" addr add 198.18.1.1/24 dev "$WAN_DEV"
for dev in "$LAN_DEV" "$LAN_PEER" "$WAN_DEV" "$WAN_PEER"; do
  ip -n "$GW_NS" link set "$dev" up
done

cat >"$policy" <<EOF
# generated by scripts/bench-controller.sh
interfaces:
  wan: $WAN_DEV
  lan: [$LAN_DEV]
xdp_mode: auto
interval: 1s
log_level: ${LOG_LEVEL:-info}
paths:
  pin_dir: $PIN_DIR
  state_dir: $state_dir
map_sizes:
  devices: $MAP_DEVICES
  flows: $MAP_FLOWS
EOF
"$WARDEN" policy check "$policy" >/dev/null || die "the generated policy $policy is invalid"

# nsenter execs warden in its own process, so $! is warden's PID.
nsenter --net="/var/run/netns/$GW_NS" "$WARDEN" run -c "$policy" 2>"$tmp/warden.log" &
warden_pid=$!
status=$state_dir/status.json
for ((i = 0; i < 200; i++)); do
  [[ -s $status ]] && break
  kill -0 "$warden_pid" 2>/dev/null || { cat "$tmp/warden.log" >&2; die "warden run exited during start-up (log above)"; }
  sleep 0.1
done
[[ -s $status ]] || { cat "$tmp/warden.log" >&2; die "no $status after 20 s (log above)"; }
[[ $(cat "/proc/$warden_pid/comm") == warden ]] || die "process $warden_pid is not warden"
say "warden running as pid $warden_pid; measuring $CYCLES polls with empty maps"

run_step timeout "$(left)" python3 "$SAMPLER" measure --pid "$warden_pid" --status "$status" \
  --cycles "$CYCLES" --skip 1 --time-limit "$(left)" >"$tmp/empty.json" ||
  { cat "$tmp/warden.log" >&2; die "measuring the empty maps failed"; }

say "filling the maps: $DEVICES devices, $FLOWS flows"
# The active devices and flows stay "seen" until the deadline (see bench_fill_maps --help).
run_step timeout 30 "$FILL" --pin-dir "$PIN_DIR" --devices "$DEVICES" --flows "$FLOWS" \
  --active-for "$DEADLINE" --active-share "$ACTIVE_SHARE" --time-reads 9 --reads-json "$tmp/reads.json" >&2 ||
  die "bench_fill_maps failed"

say "measuring $CYCLES polls with full maps"
run_step timeout "$(left)" python3 "$SAMPLER" measure --pid "$warden_pid" --status "$status" \
  --cycles "$CYCLES" --skip 2 --time-limit "$(left)" >"$tmp/filled.json" ||
  { cat "$tmp/warden.log" >&2; die "measuring the full maps failed"; }
kill -0 "$warden_pid" 2>/dev/null || { cat "$tmp/warden.log" >&2; die "warden stopped during the run"; }
if grep -E ' error |^<[0-3]>' "$tmp/warden.log" >&2; then
  say "warden logged errors during the run (above)"
fi

met=0
python3 "$SAMPLER" report "$tmp/empty.json" "$tmp/filled.json" --devices "$DEVICES" --flows "$FLOWS" \
  --reads "$tmp/reads.json" >"$tmp/table.md" || met=$?
((met == 0 || met == 3)) || die "making the table failed"
cat "$tmp/table.md"
((met == 0)) || say "targets missed (see the table)"
load_end=$(cut -d' ' -f1 /proc/loadavg)
say "run took $(($(date +%s) - started))s; load average (1 min) $load_start at the start, $load_end at the end"

# ---- write the controller section of docs/BENCHMARKS.md ----
if [[ -n ${NO_DOC:-} ]]; then
  exit 0
fi
kernel=$(uname -r)
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
SCRIPTS_LIB="$ROOT/scripts/lib" python3 - "$DOC" "$tmp/table.md" "$kernel" "$cpu" "$(nproc)" "$DEVICES" "$FLOWS" "$ACTIVE_SHARE" \
  "$load_start" "$load_end" "$MAP_DEVICES" "$MAP_FLOWS" <<'EOF'
import datetime, os, sys
sys.path.insert(0, os.environ["SCRIPTS_LIB"])
from docsection import write_section
doc, table, kernel, cpu, ncpu, devices, flows, active, load_start, load_end, map_devices, map_flows = sys.argv[1:13]
sizing = ("The maps are sized exactly to the fill, the default home\nsizing."
          if (map_devices, map_flows) == (devices, flows)
          else f"The maps have room for {int(map_devices):,} devices and\n{int(map_flows):,} flows (LRU_HEADROOM).")
# From begin to generated-end: rewritten on every run. From there to end: notes written by
# hand (the analysis of a run), kept as they are.
begin = "<!-- controller-bench:begin -->"
generated_end = "<!-- controller-bench:generated-end -->"
end = "<!-- controller-bench:end -->"
when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
generated = f"""{begin}
<!-- generated by scripts/bench-controller.sh; edits up to generated-end are overwritten -->
One poll cycle of `warden run` (interval 1 s) with empty maps, then with {int(devices):,} devices
(per-CPU entries) and {int(flows):,} flows in its pinned maps, {active} % of the flows active (seen
within the interval) at every poll. {sizing} Run {when} on kernel {kernel}, {cpu} ({ncpu} CPUs);
load average (1 min) {load_start} at the start and {load_end} at the end (other work on the
machine inflates CPU times).
Rerun: `sudo scripts/bench-controller.sh` (about 40 s; `BUILD_DIR=...` picks the build
directory, `NO_DOC=1` only prints; `DEVICES`, `FLOWS`, `ACTIVE_SHARE`, `CYCLES` change the run).

How: a namespace `wdc-gw` with one LAN and one WAN veth and nothing sent; warden started there
with its own policy, pin dir and state dir; `tests/bench/controller/sample_controller.py`
watches the status file and reads `/proc/PID` just after each poll. `bench_fill_maps` writes
the entries with `bpf_map_update_elem` on the pins (counters of the last hour, last-seen
stamps of the last seconds, dated ahead for the active ones so they stay active through the
run), checks that none was evicted, and times full reads of the filled maps. "Empty" and
"filled" are the same warden process, before and after the fill. The first cycle after the
start and the first two after the fill are left out (one-off work: new devices, inventory).

{open(table).read().rstrip()}
{generated_end}
"""
write_section(doc, begin, end, generated, "## Controller", notes_marker=generated_end)
EOF
say "table written to $DOC"
