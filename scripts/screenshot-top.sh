#!/usr/bin/env bash
# Makes docs/top.png: a real `warden top`, on a small home network of namespaces with real
# traffic, in an 80x24 tmux pane; the pane's colours (capture-pane -e) turned into HTML by
# aha and photographed by Debian's headless Chromium.
#
#   sudo scripts/screenshot-top.sh [WARDEN] [OUT.png]
#     WARDEN  default build/controller/warden; OUT default docs/top.png
#
# The network: wdshot-gw (the gateway: bridge br-lan 198.18.0.1/24 with ports lan1..lan6,
# wan0 198.19.0.2/24 to wdshot-wan 198.19.0.1) and six devices wdshot-d1..d6 at 198.18.0.1K
# with MACs of real vendors' prefixes. What they do, all bounded in time (about a minute):
# pings of different sizes and UDP streams up and down; two send a DHCP request naming
# themselves (their hostnames show); one reaches a blocklisted address; the operator
# isolates one and restricts another. Nothing is faked: every number is warden's own.
# Only 198.18.0.0/15 is used and nothing leaves the namespaces; Chromium opens a local file
# with its network features off. Everything made is removed at the end.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
warden=$(realpath "${1:-$here/build/controller/warden}")
out=$(realpath -m "${2:-$here/docs/top.png}")
readonly PREFIX=wdshot PINS=/sys/fs/bpf/wdshot SOCK=wdshot COLS=80 ROWS=24
readonly PY=/usr/bin/python3 # scapy imports only under the system python

[[ $(id -u) -eq 0 ]] || { echo "screenshot-top: needs root (it loads XDP programs)" >&2; exit 1; }
for tool in tmux aha chromium nsenter ip; do
  command -v "$tool" >/dev/null || { echo "screenshot-top: missing $tool (scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x "$warden" ]] || { echo "screenshot-top: no warden at $warden (build it first)" >&2; exit 1; }

# name MAC type-or-empty   (a name of "-" leaves the device unnamed in the policy)
devices=(
  "Living-room camera|a4:cf:12:3c:5e:01|camera"
  "Home assistant|b8:27:eb:12:34:02|hub"
  "-|3c:22:fb:aa:bb:03|"
  "-|f0:18:98:4d:20:04|"
  "Kitchen plug|68:ff:7b:10:20:05|plug"
  "Bedroom TV|44:07:0b:77:66:06|tv"
)
hostname_of=([3]=annas-iphone [4]=macbook-air)

work=
warden_pid=
pids=()
cleanup() {
  tmux -L "$SOCK" kill-server 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "$warden_pid" ]] && kill -0 "$warden_pid" 2>/dev/null; then
    kill -TERM "$warden_pid"
    for _ in $(seq 50); do kill -0 "$warden_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [[ -d "$PINS" ]] && ip netns list | grep -qw "$PREFIX-gw"; then
    nsenter --net="/var/run/netns/$PREFIX-gw" "$warden" --pin-dir "$PINS" --state-dir "${work:-/nonexistent}/state" \
      detach >/dev/null 2>&1 || true
  fi
  rm -rf "$PINS"
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$PREFIX-(gw|wan|d[0-9])$" || true); do ip netns del "$ns"; done
  [[ -n "$work" ]] && rm -rf "$work"
  return 0
}
cleanup # what an interrupted run left (all of it named for this script)
work=$(mktemp -d /tmp/wdshot.XXXXXX)
trap cleanup EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

in_ns() { local ns=$1; shift; ip netns exec "$PREFIX-$ns" "$@"; }

# ---- the network ----
ip netns add "$PREFIX-gw"
ip netns add "$PREFIX-wan"
ip -n "$PREFIX-gw" link add br-lan type bridge
ip -n "$PREFIX-gw" addr add 198.18.0.1/24 dev br-lan
ip -n "$PREFIX-gw" link add wan0 type veth peer name eth0 netns "$PREFIX-wan"
ip -n "$PREFIX-gw" addr add 198.19.0.2/24 dev wan0
ip -n "$PREFIX-wan" addr add 198.19.0.1/24 dev eth0
lans=()
for k in "${!devices[@]}"; do
  n=$((k + 1))
  IFS='|' read -r _ mac _ <<<"${devices[$k]}"
  ip netns add "$PREFIX-d$n"
  ip -n "$PREFIX-gw" link add "lan$n" type veth peer name eth0 netns "$PREFIX-d$n"
  ip -n "$PREFIX-gw" link set "lan$n" master br-lan up
  ip -n "$PREFIX-d$n" link set eth0 address "$mac"
  ip -n "$PREFIX-d$n" addr add "198.18.0.1$n/24" dev eth0
  ip -n "$PREFIX-d$n" link set eth0 up
  ip -n "$PREFIX-d$n" link set lo up
  ip -n "$PREFIX-d$n" route add default via 198.18.0.1
  lans+=("lan$n")
done
ip -n "$PREFIX-gw" link set br-lan up
ip -n "$PREFIX-gw" link set wan0 up
ip -n "$PREFIX-wan" link set eth0 up
ip -n "$PREFIX-wan" route add 198.18.0.0/24 via 198.19.0.2
in_ns gw sysctl -qw net.ipv4.ip_forward=1

# ---- warden ----
{
  echo "# written by scripts/screenshot-top.sh"
  echo "interfaces:"
  echo "  wan: wan0"
  echo "  lan: [$(IFS=,; echo "${lans[*]}" | sed 's/,/, /g')]"
  echo "paths:"
  echo "  pin_dir: $PINS"
  echo "  state_dir: $work/state"
  echo "devices:"
  for d in "${devices[@]}"; do
    IFS='|' read -r name mac type <<<"$d"
    [[ $name == - ]] && continue
    echo "  - {mac: \"$mac\", name: $name, type: $type}"
  done
} >"$work/policy.yaml"
nsenter --net="/var/run/netns/$PREFIX-gw" "$warden" run --config "$work/policy.yaml" >"$work/warden.log" 2>&1 &
warden_pid=$!
W() { "$warden" --config "$work/policy.yaml" "$@"; }
for _ in $(seq 100); do
  [[ -e "$work/state/status.json" ]] && break
  kill -0 "$warden_pid" 2>/dev/null || { cat "$work/warden.log" >&2; exit 1; }
  sleep 0.1
done

# ---- the household (every loop bounded: at most 90 s) ----
# udp_stream NS DEST BYTES PER_SECOND SECONDS PORT
udp_stream() {
  in_ns "$1" "$PY" -c '
import socket, sys, time
dest, size, rate, secs, port = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end, payload = time.monotonic() + secs, b"w" * size
while time.monotonic() < end:
    try: s.sendto(payload, (dest, port))
    except OSError: pass
    time.sleep(1 / rate)' "$2" "$3" "$4" "$5" "$6" >/dev/null 2>&1 &
  pids+=($!)
}
ping_bg() { # NS DEST SIZE INTERVAL COUNT
  in_ns "$1" ping -q -s "$3" -i "$4" -c "$5" -W 1 "$2" >/dev/null 2>&1 &
  pids+=($!)
}
# The devices appear, then the two unnamed ones ask for an address with their hostname.
for k in "${!devices[@]}"; do ping_bg "d$((k + 1))" 198.18.0.1 56 0.5 180; done
sleep 1
for n in "${!hostname_of[@]}"; do
  in_ns "d$n" "$PY" -c '
import sys
from scapy.all import BOOTP, DHCP, IP, UDP, Ether, get_if_hwaddr, sendp
mac = get_if_hwaddr("eth0")
frame = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
         UDP(sport=68, dport=67) / BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")), xid=0x5eed) /
         DHCP(options=[("message-type", "discover"), ("hostname", sys.argv[1]), "end"]))
sendp(frame, iface="eth0", count=2, inter=0.5, verbose=False)' "${hostname_of[$n]}"
done
udp_stream d1 198.19.0.1 1200 120 90 5004       # the camera uploads
udp_stream gw 198.18.0.14 1300 300 90 5201      # the laptop downloads
udp_stream gw 198.18.0.16 1400 200 90 6000      # the TV streams
udp_stream d6 198.19.0.1 200 20 90 6001
udp_stream d3 198.19.0.1 300 15 90 443
udp_stream d4 198.19.0.1 400 30 90 443
udp_stream d2 198.19.0.1 100 5 90 1883
ping_bg d2 198.19.0.1 56 0.5 180
# A known-bad address: blocked for everyone; the plug keeps trying it.
W block add 198.19.0.66 --direction out >/dev/null
ip -n "$PREFIX-wan" addr add 198.19.0.66/32 dev eth0
ping_bg d5 198.19.0.66 56 0.3 300
sleep 3
W quarantine add 68:ff:7b:10:20:05 --level isolate --for 1h --reason "kept reaching a blocklisted address" >/dev/null
W quarantine add 44:07:0b:77:66:06 --level restricted --for 30m --reason "new destinations at night" >/dev/null
sleep 8 # rates over a few polls, and a walk of the flow table

# ---- the picture ----
tmux -L "$SOCK" -f /dev/null new-session -d -s top -x "$COLS" -y "$ROWS" \
  "env TERM=screen '$warden' --config '$work/policy.yaml' top --sort state" \; \
  set-option -g status off \; set-option -g window-size manual \; resize-window -t top -x "$COLS" -y "$ROWS"
sleep 3
tmux -L "$SOCK" capture-pane -e -N -p -t top >"$work/top.ansi"  # -N: coloured blanks at line ends too
tmux -L "$SOCK" send-keys -t top q
{
  # aha's classes (--stylesheet) in a dark terminal's palette: "dimgray" is ANSI black.
  cat <<'HTML'
<!doctype html>
<meta charset="utf-8">
<style>
  html, body { margin: 0; background: #101418; }
  pre { margin: 0; padding: 12px 14px; color: #d0d4d8; font: 15px/18px "DejaVu Sans Mono", monospace; }
  .reset { color: #d0d4d8; } .bg-reset { background: transparent; }
  .inverted { color: #101418; } .bg-inverted { background: #d0d4d8; }
  .dimgray { color: #101418; } .red { color: #ff6b6b; } .green { color: #6bd968; }
  .yellow { color: #f0c75e; } .blue { color: #6f9cff; } .purple { color: #e07ce0; }
  .cyan { color: #4fc9d9; } .white { color: #e8eaec; }
  .bg-black { background: #101418; } .bg-red { background: #c83c3c; } .bg-green { background: #3c9a3c; }
  .bg-yellow { background: #b8952e; } .bg-blue { background: #3a5fb0; } .bg-purple { background: #9a4c9a; }
  .bg-cyan { background: #3fb6c6; } .bg-white { background: #c8ccd0; }
  .bold { font-weight: bold; } .underline { text-decoration: underline; }
</style>
<pre>
HTML
  aha --stylesheet --no-header <"$work/top.ansi"
  echo "</pre>"
} >"$work/top.html"
# 80 columns of DejaVu Sans Mono at 15px are about 723px; 24 lines of 18px are 432px.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
  --user-data-dir="$work/chromium" --window-size=752,458 --screenshot="$work/top.png" \
  "file://$work/top.html" >"$work/chromium.log" 2>&1
mkdir -p "$(dirname "$out")"
cp "$work/top.png" "$out"
echo "screenshot-top: wrote $out"
sed 's/\x1b\[[0-9;]*m//g' "$work/top.ansi"  # the screen as text, for the record
