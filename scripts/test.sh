#!/usr/bin/env bash
# The test command: installs dependencies, builds everything, runs every ctest tier
# (unit, packet, integration, replay, fuzz). Run as root: the packet and integration tiers
# load BPF programs and make network namespaces. Ends with ctest's summary line and exits
# non-zero on any failure. A test the machine cannot run is reported as skipped; with CI set
# (CI=true, as .ci/run sets it) it fails instead (tests/support/run_test.sh).
#   sudo scripts/test.sh            # everything
#   sudo scripts/test.sh -L unit    # extra arguments go to ctest (here: one tier)
#   sudo CI=true scripts/test.sh    # as CI runs it: a skipped test fails
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${WARDEN_BUILD_DIR:-$root/build}"

"$root/scripts/install-deps.sh"
if [[ $(id -u) -eq 0 ]] && ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2
cd "$build"
echo "test.sh: CI=${CI:-(not set)}: a test that skips under CI fails (tests/support/run_test.sh)"
ctest --output-on-failure "$@"
