#!/usr/bin/env bash
# Makes docs/status-page.png and docs/status-page-phone.png (375 px wide), the README's
# pictures of the status page: runs the browser
# scenario of tests/integration/test_web.py (a testbed of its own, warden run with the page on
# the LAN, headless chromium quarantining a device from the page) and copies the screenshot
# it takes while the device is in quarantine. Root, like the test.
#   sudo scripts/screenshot-status-page.sh [BUILD_DIR]     (default: $WARDEN_BUILD_DIR or build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-${WARDEN_BUILD_DIR:-$root/build}}"
warden="$build/controller/warden"
[[ -x $warden ]] || { echo "screenshot-status-page: no warden binary at $warden (build first)" >&2; exit 1; }

artifacts="$(mktemp -d /tmp/warden-status-page-XXXXXX)"
trap 'rm -rf "$artifacts"' EXIT
set +e
/usr/bin/python3 "$root/tests/integration/test_web.py" --warden "$warden" --source "$root" \
  --artifacts "$artifacts" --only browser
status=$?
set -e
if [[ $status -ne 0 || ! -s $artifacts/status-page.png || ! -s $artifacts/status-page-phone.png ]]; then
  echo "screenshot-status-page: the browser scenario did not pass (exit $status); docs/ unchanged" >&2
  exit 1
fi
cp "$artifacts/status-page.png" "$root/docs/status-page.png"
cp "$artifacts/status-page-phone.png" "$root/docs/status-page-phone.png"
echo "screenshot-status-page: wrote docs/status-page.png and docs/status-page-phone.png"
