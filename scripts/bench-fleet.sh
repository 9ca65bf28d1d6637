#!/usr/bin/env bash
# Benchmarks the fleet channel (docs/FLEET.md): how fast one aggregator (`warden fleet
# aggregate`, pinned to one core) merges the profiles of 10,000 simulated gateways and how
# long until their priors are published, its memory; and what the channel costs a gateway of
# 30 devices: CPU per poll, memory added and bytes sent upstream an hour, against the same
# poll loop with the channel off, measured side by side in the same run.
#
# Everything runs on loopback: a mosquitto broker of its own (mutual TLS, certificates made
# here with openssl, a free port), tests/bench/fleet/bench_fleet as the load generator and as
# the gateway, and the real aggregator. RUNS runs; the table gives the median of each figure,
# and is written into docs/BENCHMARKS.md between <!-- fleet-bench:begin --> and
# <!-- fleet-bench:generated-end --> (notes after it, up to <!-- fleet-bench:end -->, are kept).
#
#   scripts/bench-fleet.sh                              # build dir ./build, writes docs/BENCHMARKS.md
#   BUILD_DIR=/tmp/b NO_DOC=1 scripts/bench-fleet.sh    # only print the table
#   RUNS=3 GATEWAYS=10000 AGENT_SECONDS=70 scripts/bench-fleet.sh
#
# Bounded: GATEWAYS at most 100,000, every step under a timeout; about 2 minutes a run.
# Exit code: 0 when the table was made (targets met or not: the table says), 1 on failure,
# 77 when a tool is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DOC=${DOC:-$ROOT/docs/BENCHMARKS.md}
RUNS=${RUNS:-3}
GATEWAYS=${GATEWAYS:-10000}
HOMES=${HOMES:-20}              # distinct simulated homes the gateways' profiles come from
EVERY=${EVERY:-10s}             # the aggregator's publishing interval (and state saves)
AGENT_SECONDS=${AGENT_SECONDS:-70}  # long enough for every kind of message (the first profiles go at 60 s)
STEP_TIMEOUT=${STEP_TIMEOUT:-180}

say() { echo "bench-fleet: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in cmake python3 timeout openssl mosquitto taskset; do
  command -v "$tool" >/dev/null || { say "skipped: $tool is missing (scripts/install-deps.sh)"; exit 77; }
done
((RUNS >= 1 && GATEWAYS >= 5 && GATEWAYS <= 100000)) || die "RUNS >= 1 and 5 <= GATEWAYS <= 100000"

# ---- build (quick when nothing changed) ----
if ! build_log=$({ [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -B "$BUILD_DIR" -S "$ROOT"; } 2>&1 &&
  cmake --build "$BUILD_DIR" -j2 --target warden bench_fleet 2>&1); then
  echo "$build_log" | tail -40 >&2
  die "the build failed (above)"
fi
WARDEN=$BUILD_DIR/controller/warden
BENCH=$BUILD_DIR/tests/bench/fleet/bench_fleet

tmp=$(mktemp -d /tmp/warden-bench-fleet.XXXXXX)
pids=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- certificates: a CA, the broker (127.0.0.1), one client each; the operator's key ----
pki=$tmp/pki
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" \
  -days 2 -subj "/CN=warden bench CA" 2>/dev/null
for name in broker gw-bench aggregator loadgen watcher; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$name.key" -out "$pki/$name.csr" \
    -subj "/CN=$name" 2>/dev/null
  if [[ $name == broker ]]; then echo "subjectAltName=IP:127.0.0.1" >"$pki/$name.ext"; else
    echo "basicConstraints=CA:FALSE" >"$pki/$name.ext"; fi
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    -extfile "$pki/$name.ext" -out "$pki/$name.pem" 2>/dev/null
done
openssl genpkey -algorithm ed25519 -out "$pki/operator.key" 2>/dev/null
openssl pkey -in "$pki/operator.key" -pubout -out "$pki/operator.pub"

client() { echo --host 127.0.0.1 --port "$port" --ca "$pki/ca.pem" --cert "$pki/$1.pem" --key "$pki/$1.key"; }

# Starts a broker of its own on a free loopback port (fresh each run: no retained priors).
start_broker() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$tmp/mosquitto.conf" <<EOF
user root
allow_anonymous false
persistence false
max_queued_messages 100000
listener $port 127.0.0.1
cafile $pki/ca.pem
certfile $pki/broker.pem
keyfile $pki/broker.key
require_certificate true
use_identity_as_username true
log_dest file $tmp/mosquitto.log
EOF
  mosquitto -c "$tmp/mosquitto.conf" &
  broker_pid=$!
  pids+=("$broker_pid")
  local i
  for ((i = 0; i < 50; i++)); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  die "mosquitto did not listen on 127.0.0.1:$port within 5 s"
}
stop() {  # stops one process of ours and forgets it
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() pid
  for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
  pids=("${keep[@]}")
}
# CPU seconds (user + system) and peak and current RSS (kB) of a process.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
rss() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

load_start=$(cut -d' ' -f1 /proc/loadavg)
results=$tmp/results.txt
for ((run = 1; run <= RUNS; run++)); do
  start_broker
  # ---- the aggregator, on one core ----
  say "run $run of $RUNS: $GATEWAYS gateways' profiles to one aggregator (every $EVERY)"
  # shellcheck disable=SC2046
  taskset -c 0 "$WARDEN" fleet aggregate $(client aggregator) --sign-key "$pki/operator.key" --min-homes 5 \
    --every "$EVERY" --state "$tmp/aggregate-$run.json" 2>"$tmp/aggregate-$run.log" &
  agg_pid=$!
  pids+=("$agg_pid")
  sleep 1
  kill -0 "$agg_pid" 2>/dev/null || { cat "$tmp/aggregate-$run.log" >&2; die "the aggregator did not start"; }
  agg_cpu0=$(cpu_s "$agg_pid")
  agg_rss0=$(rss "$agg_pid" VmRSS)
  # shellcheck disable=SC2046
  timeout "$STEP_TIMEOUT" "$BENCH" publish --gateways "$GATEWAYS" --homes "$HOMES" --timeout-s "$((STEP_TIMEOUT - 10))" \
    $(client loadgen) >"$tmp/publish.txt" || { rc=$?; ((rc == 3)) || die "the load generator failed ($rc)"; }
  agg_cpu1=$(cpu_s "$agg_pid")
  agg_hwm=$(rss "$agg_pid" VmHWM)
  agg_rss1=$(rss "$agg_pid" VmRSS)
  stop "$agg_pid"
  echo "$(cat "$tmp/publish.txt") agg_cpu_s=$(python3 -c "print($agg_cpu1 - $agg_cpu0)") agg_rss_idle_kb=$agg_rss0 \
agg_rss_kb=$agg_rss1 agg_hwm_kb=$agg_hwm" >>"$results"
  grep -q 'complete=1' "$tmp/publish.txt" || say "run $run: not every prior was published in time (see the table)"

  # ---- the gateway agent: the same poll loop with the channel on and off, side by side ----
  say "run $run of $RUNS: a 30-device gateway's poll loop, fleet on and off, ${AGENT_SECONDS}s"
  mkdir -p "$tmp/state-$run"
  # shellcheck disable=SC2046
  timeout "$STEP_TIMEOUT" "$BENCH" watch --seconds "$((AGENT_SECONDS + 3))" $(client watcher) >"$tmp/watch.txt" &
  watch_pid=$!
  sleep 1
  # shellcheck disable=SC2046
  timeout "$STEP_TIMEOUT" "$BENCH" agent --fleet on --seconds "$AGENT_SECONDS" --state "$tmp/state-$run" \
    --operator-key "$pki/operator.pub" $(client gw-bench) >"$tmp/on.txt" 2>"$tmp/on.log" &
  on_pid=$!
  # shellcheck disable=SC2046
  timeout "$STEP_TIMEOUT" "$BENCH" agent --fleet off --seconds "$AGENT_SECONDS" --state "$tmp/state-$run" \
    --operator-key "$pki/operator.pub" $(client gw-bench) >"$tmp/off.txt" 2>"$tmp/off.log" || die "the fleet-off run failed"
  wait "$on_pid" || { cat "$tmp/on.log" >&2; die "the fleet-on run failed"; }
  wait "$watch_pid" || die "the watcher failed"
  echo "agent $(sed 's/\([a-z_]*\)=/on_\1=/g' "$tmp/on.txt" "$tmp/watch.txt" | tr '\n' ' ') \
$(sed 's/\([a-z_]*\)=/off_\1=/g' "$tmp/off.txt")" >>"$results"
  stop "$broker_pid"
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

kernel=$(uname -r)
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
mosquitto_version=$( (mosquitto -h 2>/dev/null || true) | head -1 | sed 's/^mosquitto version //; s/ .*//')
SCRIPTS_LIB="$ROOT/scripts/lib" python3 "$ROOT/tests/bench/fleet/fleet_table.py" "$results" "$DOC" "${NO_DOC:-}" \
  "$kernel" "$cpu" "$(nproc)" "$load_start" "$load_end" "${build_type:-unknown}" "$EVERY" "$mosquitto_version" \
  "$AGENT_SECONDS"
