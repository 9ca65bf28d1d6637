#!/usr/bin/env bash
# The build's layering check (cmake/check_layering.cmake) refuses a folder that includes a
# header of a folder it may not use, names the file and the line, and lets everything else by:
# its own folder, folders it may use, and includes that are not controller folders.
set -euo pipefail
cmake=$1 script=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/low" "$tmp/mid" "$tmp/high"
printf '#include "low/a.h"\n#include "mid/m.h"\n#include "warden/abi.h"\n' >"$tmp/low/a.cpp"
: >"$tmp/low/a.h"

check() {  # FOLDER ALLOWED
  "$cmake" -DFOLDER="$1" -DROOT="$tmp" -DALLOWED="$2" -DLAYERS="low;mid;high" \
    -DSTAMP="$tmp/stamp" -P "$script" 2>&1
}

out=$(check low "mid") || { echo "FAIL: allowed includes refused:"; echo "$out"; exit 1; }
[[ -f $tmp/stamp ]] || { echo "FAIL: no stamp written for a clean folder"; exit 1; }

rm -f "$tmp/stamp"
printf '  #  include "high/h.h"  // a call upwards\n' >>"$tmp/low/a.cpp"
if out=$(check low "mid"); then
  echo "FAIL: low including high/h.h was let through"; exit 1
fi
for want in "controller/low may use only mid" 'a.cpp:   #  include "high/h.h"'; do
  [[ $out == *"$want"* ]] || { echo "FAIL: the refusal does not say: $want"; echo "$out"; exit 1; }
done
[[ ! -f $tmp/stamp ]] || { echo "FAIL: a stamp was written for a refused folder"; exit 1; }
echo "layering check: allowed includes pass, an include upwards is refused and named"
