#!/usr/bin/env bash
# Installs every Debian package that building, testing, benchmarking and the demo need.
# Idempotent: when everything is present it only checks and returns (about a second).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libyaml-cpp-dev libfmt-dev libboost-program-options-dev doctest-dev nlohmann-json3-dev
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

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or with sudo) to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
