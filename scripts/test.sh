#!/usr/bin/env bash
# The test command: installs dependencies, builds everything, runs every ctest tier
# (unit, packet, integration, replay, fuzz). Run as root: the packet and integration tiers
# load BPF programs and make network namespaces. Ends with ctest's summary line and exits
# non-zero on any failure.
#   sudo scripts/test.sh            # everything
#   sudo scripts/test.sh -L unit    # extra arguments go to ctest (here: one tier)
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
ctest --output-on-failure "$@"
