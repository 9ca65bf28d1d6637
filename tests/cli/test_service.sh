#!/usr/bin/env bash
# config/warden.service passes `systemd-analyze verify` with nothing to say: any warning (an
# unknown key, a bad value, a missing binary) fails. The unit names /usr/bin/warden, which a
# build machine may not have, so a copy that names the built binary is verified; everything
# else is the file as shipped. Exits 77 (skipped) without systemd-analyze.
#   tests/cli/test_service.sh WARDEN SOURCE_DIR
set -uo pipefail
warden=${1:?usage: test_service.sh WARDEN SOURCE_DIR}
src=${2:?usage: test_service.sh WARDEN SOURCE_DIR}
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze (apt-get install systemd)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

unit="$src/config/warden.service"
grep -q '^ExecStart=/usr/bin/warden run --config /etc/warden/policy.yaml$' "$unit" ||
  { echo "FAIL: ExecStart is not /usr/bin/warden run --config /etc/warden/policy.yaml"; failures=$((failures + 1)); }
sed "s#/usr/bin/warden#$(realpath "$warden")#g" "$unit" >"$tmp/warden.service"

# verify: exit 0 and no output at all (systemd reports most problems as warnings, exit 0).
check() {
  local what=$1 file=$2 expect=$3 out rc
  out=$(cd "$tmp" && systemd-analyze verify --man=no "$file" 2>&1)
  rc=$?
  if [[ $expect == clean && ($rc -ne 0 || -n "$out") ]]; then
    echo "FAIL: $what: systemd-analyze verify (exit $rc) says:"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  elif [[ $expect == complains && $rc -eq 0 && -z "$out" ]]; then
    echo "FAIL: $what: systemd-analyze verify found nothing wrong (the check could not fail)"
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}
check "config/warden.service verifies without a warning" "$tmp/warden.service" clean

# The check itself can fail: a unit with a misspelt key and one naming a missing binary.
sed 's/^ProtectHome=yes/ProtectHome=yes\nProtectHomme=yes/' "$tmp/warden.service" >"$tmp/typo.service"
check "a misspelt key is caught" "$tmp/typo.service" complains
sed "s#$(realpath "$warden")#/nonexistent/warden#" "$tmp/warden.service" >"$tmp/missing.service"
check "a missing binary is caught" "$tmp/missing.service" complains

# The capabilities are what `warden run` was seen to need, nothing more.
caps=$(grep '^CapabilityBoundingSet=' "$unit" | cut -d= -f2)
if [[ "$caps" == "CAP_BPF CAP_NET_ADMIN CAP_PERFMON" ]] && grep -q "^AmbientCapabilities=$caps\$" "$unit"; then
  echo "ok: capabilities limited to CAP_BPF CAP_NET_ADMIN CAP_PERFMON"
else
  echo "FAIL: capabilities are \"$caps\""
  failures=$((failures + 1))
fi

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "warden.service: all checks passed"
