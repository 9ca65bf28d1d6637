#!/usr/bin/env bash
# Installs every Debian package that building, testing, benchmarking and the demo need.
# Idempotent: when everything is present it only checks and returns (about a second).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libyaml-cpp-dev libfmt-dev libboost-program-options-dev doctest-dev nlohmann-json3-dev libssl-dev
  # the fuzz tier: clang's libFuzzer and sanitizer runtimes (libclang-rt-dev is the runtime of
  # Debian's default clang, libclang-rt-14-dev on Debian 12); without them the tier cannot run
  libclang-rt-dev
  # identity: the IEEE MAC address registry (OUI vendors)
  ieee-data
  # network plumbing used by warden, the testbed and the tests
  iproute2 nftables iputils-ping curl iperf3 nmap hping3 dnsmasq-base isc-dhcp-client
  python3 python3-scapy xdp-tools tcpdump procps util-linux kmod
  # metrics and the status page: the HTTP library, promtool (from prometheus; the server is
  # not started), and headless chromium + node for the browser test (tests/browser)
  libcpp-httplib-dev prometheus chromium nodejs
  # warden top (ncurses) and its tmux test; systemd-analyze for the unit check (systemd is
  # not started); aha and a monospace font for scripts/screenshot-top.sh
  libncurses-dev tmux systemd dash aha fonts-dejavu-core
)
# npm comes with NodeSource's nodejs; with Debian's nodejs it is a package of its own (and
# Debian's npm conflicts with NodeSource's nodejs, so it is asked for only when missing).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi

# One dpkg-query for all of them (one call each took seconds on a busy machine); a package
# dpkg has never heard of gets no line, so it counts as missing too.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null |
  awk '/ install ok installed$/ { print $1 }' || true)
missing=()
for p in "${packages[@]}"; do
  grep -qxF -- "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
elif [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or with sudo) to install them" >&2
  exit 1
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The browser test's one npm package (playwright-core, driving Debian's chromium), at the
# version tests/browser/package-lock.json pins, into tests/browser/node_modules. Not fatal:
# without the npm registry only that test cannot run (and says so).
browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if node -e '
  const dir = process.argv[1];
  const locked = require(dir + "/package-lock.json").packages["node_modules/playwright-core"].version;
  let have;
  try { have = require(dir + "/node_modules/playwright-core/package.json").version; } catch (e) {}
  process.exit(have === locked ? 0 : 1);' "$browser_dir" 2>/dev/null; then
  echo "install-deps: browser test packages present"
elif npm ci --no-audit --no-fund --prefix "$browser_dir" >/dev/null; then
  echo "install-deps: browser test packages installed (tests/browser/node_modules)"
else
  echo "install-deps: warning: npm ci in $browser_dir failed (is the npm registry reachable?);" \
       "the status page's browser test cannot run" >&2
fi
