#!/usr/bin/env bash
# Benchmarks the behaviour engine (issue 5, "Benchmark"): its CPU per tick for 1,024
# simulated devices with their typical contacts, against a baseline measured in the same run
# on the same samples (the same learned engine with every detector off: windows and
# baselines only), its memory per device and per type profile, and the size of its state
# file. Builds tests/bench/engine/bench_engine if needed, runs it RUNS times, takes the
# median of each figure, prints the table and writes it into docs/BENCHMARKS.md between
# <!-- engine-bench:begin --> and <!-- engine-bench:generated-end --> (the written analysis
# after it, up to <!-- engine-bench:end -->, is kept).
#
#   scripts/bench-engine.sh                            # build dir ./build, writes docs/BENCHMARKS.md
#   BUILD_DIR=/tmp/b NO_DOC=1 scripts/bench-engine.sh  # only print the table
#   RUNS=7 DEVICES=2048 TICKS=120 scripts/bench-engine.sh
#
# No root, no network: the devices are simulated (tests/replay/simulate.h). About 8 s a run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DOC=${DOC:-$ROOT/docs/BENCHMARKS.md}
RUNS=${RUNS:-5}
DEVICES=${DEVICES:-1024}
TICKS=${TICKS:-60}
WARMUP_HOURS=${WARMUP_HOURS:-6}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}  # seconds a run may take

say() { echo "bench-engine: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in cmake python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done
((RUNS >= 3)) || die "RUNS=$RUNS: the median needs at least 3 runs"

# ---- build (quick when nothing changed) ----
if ! build_log=$({ [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -B "$BUILD_DIR" -S "$ROOT"; } 2>&1 &&
  cmake --build "$BUILD_DIR" -j2 --target bench_engine 2>&1); then
  echo "$build_log" | tail -40 >&2
  die "the build failed (above)"
fi
BENCH=$BUILD_DIR/tests/bench/engine/bench_engine
[[ -x $BENCH ]] || die "$BENCH is missing after the build"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")

tmp=$(mktemp -d /tmp/warden-bench-engine.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
load_start=$(cut -d' ' -f1 /proc/loadavg)
for ((run = 1; run <= RUNS; run++)); do
  say "run $run of $RUNS: $DEVICES devices, $WARMUP_HOURS h of learning, $TICKS timed ticks"
  timeout "$RUN_TIMEOUT" "$BENCH" --devices "$DEVICES" --warmup-hours "$WARMUP_HOURS" \
    --ticks "$TICKS" --seed "$run" >>"$tmp/runs.txt" ||
    die "bench_engine failed or took more than ${RUN_TIMEOUT}s (run $run)"
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

kernel=$(uname -r)
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
SCRIPTS_LIB="$ROOT/scripts/lib" python3 - "$tmp/runs.txt" "$DOC" "${NO_DOC:-}" "$kernel" "$cpu" "$(nproc)" "$load_start" \
  "$load_end" "${build_type:-unknown}" <<'EOF'
import datetime, os, statistics, sys
sys.path.insert(0, os.environ["SCRIPTS_LIB"])
from docsection import write_section

runs_path, doc, no_doc, kernel, cpu, ncpu, load_start, load_end, build_type = sys.argv[1:10]
runs = []
for line in open(runs_path):
    fields = dict(kv.split("=", 1) for kv in line.split())
    runs.append({k: float(v) for k, v in fields.items()})
if not runs:
    sys.exit("bench-engine: no results")

def med(key):
    return statistics.median(r[key] for r in runs)

def spread(key, fmt):
    values = sorted(r[key] for r in runs)
    return f"{fmt(values[0])}–{fmt(values[-1])}"

ms = lambda v: f"{v:.2f} ms"
kb = lambda v: f"{v / 1024:,.1f} kB"
mb = lambda v: f"{v / 1024 / 1024:,.1f} MB"
devices = int(runs[0]["devices"])
full, base = med("tick_ms_median"), med("baseline_tick_ms_median")
budget_ms = 10.0
rows = [
    ("Engine CPU per tick, all detectors on (median of the per-run medians)", ms(full), spread("tick_ms_median", ms), f"< {budget_ms:g} ms", "yes" if full < budget_ms else "no"),
    ("Engine CPU per tick, 90th percentile", ms(med("tick_ms_p90")), spread("tick_ms_p90", ms), "—", "—"),
    ("Engine CPU per tick, slowest tick", ms(med("tick_ms_max")), spread("tick_ms_max", ms), "—", "—"),
    ("CPU per device per tick", f"{med('ns_per_device'):,.0f} ns", spread("ns_per_device", lambda v: f"{v:,.0f}"), "—", "—"),
    ("Baseline: the same engine, every detector off (windows and baselines only)", ms(base), spread("baseline_tick_ms_median", ms), "—", "—"),
    ("Ratio full / baseline", f"{full / base:.2f}×" if base > 0 else "—", "—", "—", "—"),
    ("New connections per tick, all devices (the samples' contacts)", f"{med('contacts_per_tick'):,.0f}", "—", "—", "—"),
    ("Engine memory, all devices and types (its own accounting)", mb(med("engine_kb") * 1024), spread("engine_kb", lambda v: f"{v / 1024:,.1f}"), "—", "—"),
    ("Memory per device, mean", kb(med("device_bytes")), "—", "—", "—"),
    ("Memory of the largest device", kb(med("largest_device_bytes")), "—", "—", "—"),
    (f"Memory per type profile ({int(med('types'))} types)", kb(med("type_bytes")), "—", "—", "—"),
    ("State file (engine.json, compact JSON)", mb(med("state_bytes")), "—", "—", "—"),
    ("State file per device", kb(med("state_bytes") / devices), "—", "—", "—"),
    ("Process RSS growth (two engines: the learned one and its copy, and the simulators)", mb(med("rss_growth_kb") * 1024), "—", "—", "—"),
    ("Findings during the timed ticks (benign devices: 0 expected)", f"{int(med('findings'))}", "—", "—", "—"),
]
table = ["| figure | median | range over runs | target | met? |", "|---|---:|---:|---:|:---:|"]
table += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
table = "\n".join(table)
print(table)
if no_doc:
    sys.exit(0)

when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
begin = "<!-- engine-bench:begin -->"
generated_end = "<!-- engine-bench:generated-end -->"
end = "<!-- engine-bench:end -->"
generated = f"""{begin}
<!-- generated by scripts/bench-engine.sh; edits up to generated-end are overwritten -->
The behaviour engine observing {devices:,} simulated devices (a fifth phones and laptops, the
rest cameras, plugs, speakers and TVs; `tests/replay/simulate.h`), after {int(runs[0]['warmup_hours'])} simulated hours of
learning at 10 s ticks, then {int(runs[0]['ticks'])} ticks of 1 s timed in the evening's busy hours (streaming,
browsing). Only `Engine::observe` is timed (thread CPU time); the samples are made before.
The baseline runs in the same process on the same samples: a copy of the learned engine with
every detector off, timed alternately with the full one within each tick. {len(runs)} runs
(seeds 1..{len(runs)}); the table gives the median of the runs' figures. Run {when}, build type
{build_type}, kernel {kernel}, {cpu} ({ncpu} CPUs); load average (1 min) {load_start} at the
start, {load_end} at the end (other work on the machine inflates CPU times).
Rerun: `scripts/bench-engine.sh` (no root; `RUNS`, `DEVICES`, `TICKS`, `WARMUP_HOURS`,
`BUILD_DIR`, `NO_DOC=1` to only print).

{table}
{generated_end}
"""
write_section(doc, begin, end, generated, "## Behaviour engine", notes_marker=generated_end)
print(f"bench-engine: table written to {doc}", file=sys.stderr)
EOF
