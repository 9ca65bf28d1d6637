#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on a copy of its seed corpus (the committed
# corpus stays as it is) and fails on any crash, leak, timeout or sanitizer report. An input
# that fails is kept in <findings dir> and printed, to become a unit test.
#   run_fuzzer.sh <fuzzer binary> <seed corpus dir> <findings dir> [seconds] [max input bytes]
#                 [extra seed files...]
# Extra seeds are files kept elsewhere in the tree (config/policy.yaml), so they never drift.
set -euo pipefail

fuzzer=$1 seeds=$2 findings=$3 seconds=${4:-20} max_len=${5:-4096}
extra_seeds=("${@:6}")
[[ -x $fuzzer ]] || { echo "SKIP: $fuzzer not built"; exit 77; }
[[ -d $seeds ]] || { echo "FAIL: no seed corpus at $seeds"; exit 1; }

work=$(mktemp -d /tmp/warden-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp -r "$seeds"/. "$work/corpus/"
for f in "${extra_seeds[@]}"; do
  [[ -f $f ]] || { echo "FAIL: extra seed $f is missing"; exit 1; }
  cp "$f" "$work/corpus/extra-$(basename "$f")"
done

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -max_len="$max_len" \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1 || status=$?

# libFuzzer exits non-zero on a crash, leak, timeout or OOM; a sanitizer report that did
# not stop the run (it should, with halt_on_error) is a failure too.
if ((status != 0)) || grep -qE 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer|invariant failed' "$work/log"; then
  tail -n 60 "$work/log"
  mkdir -p "$findings"
  for f in "$work"/artifacts/*; do
    [[ -e $f ]] || continue
    cp "$f" "$findings/"
    echo "kept $findings/$(basename "$f"):"
    od -A d -t x1 "$f" | head -n 20
  done
  echo "FAIL: $(basename "$fuzzer") (exit $status)"
  exit 1
fi
grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/log" || true
# A run that executed nothing tested nothing, whatever its exit code.
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
if ! [[ ${runs:-0} =~ ^[0-9]+$ ]] || ((${runs:-0} == 0)); then
  tail -n 20 "$work/log"
  echo "FAIL: $(basename "$fuzzer") executed no input (stat::number_of_executed_units is not above 0)"
  exit 1
fi
echo "corpus: $(ls "$seeds" | wc -l) seeds -> $(ls "$work/corpus" | wc -l) inputs"
echo "PASS: $(basename "$fuzzer") ran ${seconds}s without a finding"
