#!/usr/bin/env bash
# `warden top` as a person sees it: a real controller on a tiny network of its own, and the
# full-screen view in an 80x24 tmux pane, read back with capture-pane.
#
#   tests/integration/test_top.sh WARDEN
#
# Network (198.18.0.0/15 only, nothing routes out):
#   wdtop-dev:  eth0 02:00:00:74:00:03 198.18.0.2 ══ lan0 198.18.0.1 ┐
#   wdtop-dev2: eth0 02:00:00:74:00:02 198.18.1.2 ══ lan1 198.18.1.1 ┴ wdtop-gw: wan0 198.19.0.2
#                                                          ══ eth0 198.19.0.1 :wdtop-wan
# The first device ("test-laptop") pings small, to two addresses; the second ("z-printer")
# pings big, to one: by up rate the printer comes first, by name and by flows the laptop, so
# a sort key that does nothing is seen.
# The controller runs in wdtop-gw (nsenter, so bpffs stays visible) with its own pin dir and
# state dir. Needs root and tmux; exits 77 (skipped; under CI a failure) without them. Cleans up
# what it made: its tmux server, its controller (by PID), its pins, its namespaces, its work
# dir.
set -uo pipefail

warden=${1:?usage: test_top.sh WARDEN}
skip() {
  echo "SKIP: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (it loads XDP programs)"
for tool in tmux ip nsenter ping dash python3; do
  command -v "$tool" >/dev/null || skip "missing $tool (scripts/install-deps.sh installs it)"
done
[[ -x "$warden" ]] || skip "no warden binary at $warden"

readonly NS_GW=wdtop-gw NS_DEV=wdtop-dev NS_DEV2=wdtop-dev2 NS_WAN=wdtop-wan
# The printer has the lower MAC, so where a sort key ties, the printer is above.
readonly DEV_MAC=02:00:00:74:00:03 DEV2_MAC=02:00:00:74:00:02
readonly PINS=/sys/fs/bpf/wdtop-test
readonly PIDFILE=/run/wdtop-test.pid  # the controller a killed run may have left behind
readonly SOCK=wdtop-test              # our own tmux server (-L), never the user's
work=  # made after the leftovers of an earlier run are gone
warden_pid=
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

# A PID is ours while its command line names our pin dir's policy (a recycled PID is not).
ours() { [[ -n "$1" ]] && grep -qs "wdtop-test" "/proc/$1/cmdline"; }

stop_controller() {
  local pid=$1
  ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do
    ours "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
}

cleanup() {
  tmux -L "$SOCK" kill-server 2>/dev/null
  [[ -n "$warden_pid" ]] && stop_controller "$warden_pid"
  [[ -f "$PIDFILE" ]] && stop_controller "$(cat "$PIDFILE")"
  rm -f "$PIDFILE"
  if [[ -d "$PINS" ]]; then
    if ip netns list | grep -qw "$NS_GW"; then
      nsenter --net="/var/run/netns/$NS_GW" "$warden" --pin-dir "$PINS" --state-dir "${work:-/nonexistent}/state" \
        detach >/dev/null 2>&1
    fi
    rm -rf "$PINS"
  fi
  for ns in "$NS_DEV" "$NS_DEV2" "$NS_WAN" "$NS_GW"; do
    ip netns list | grep -qw "$ns" && ip netns del "$ns"
  done
  [[ -n "$work" ]] && rm -rf "$work"
}
cleanup_and_report() {
  local rc=$?
  if ((failures > 0)) && [[ -f "${work:-/nonexistent}/warden.log" ]]; then
    echo "--- controller log (last 20 lines) ---"
    tail -20 "$work/warden.log"
  fi
  cleanup
  exit $rc
}

# Whatever a killed earlier run left (all named for this test only), then ours from the start.
cleanup
work=$(mktemp -d /tmp/wdtop-test.XXXXXX)
trap cleanup_and_report EXIT
mount | grep -q 'type bpf' || mount -t bpf bpf /sys/fs/bpf

# ---- the network ----
set -e
ip netns add "$NS_GW"
ip netns add "$NS_DEV"
ip netns add "$NS_DEV2"
ip netns add "$NS_WAN"
ip -n "$NS_GW" link add lan0 type veth peer name eth0 netns "$NS_DEV"
ip -n "$NS_GW" link add lan1 type veth peer name eth0 netns "$NS_DEV2"
ip -n "$NS_GW" link add wan0 type veth peer name eth0 netns "$NS_WAN"
ip -n "$NS_DEV" link set eth0 address "$DEV_MAC"
ip -n "$NS_DEV2" link set eth0 address "$DEV2_MAC"
ip -n "$NS_GW" addr add 198.18.0.1/24 dev lan0
ip -n "$NS_GW" addr add 198.18.1.1/24 dev lan1
ip -n "$NS_GW" addr add 198.19.0.2/24 dev wan0
ip -n "$NS_DEV" addr add 198.18.0.2/24 dev eth0
ip -n "$NS_DEV2" addr add 198.18.1.2/24 dev eth0
ip -n "$NS_WAN" addr add 198.19.0.1/24 dev eth0
for ns in "$NS_GW" "$NS_DEV" "$NS_DEV2" "$NS_WAN"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up 2>/dev/null || true
done
ip -n "$NS_GW" link set lan0 up
ip -n "$NS_GW" link set lan1 up
ip -n "$NS_GW" link set wan0 up
set +e

# ---- the controller ----
cat >"$work/policy.yaml" <<EOF
# written by tests/integration/test_top.sh
interfaces:
  wan: wan0
  lan: [lan0, lan1]
interval: 1s
paths:
  pin_dir: $PINS
  state_dir: $work/state
devices:
  - mac: $DEV_MAC
    name: test-laptop
    type: laptop
  - mac: $DEV2_MAC
    name: z-printer
    type: printer
EOF
nsenter --net="/var/run/netns/$NS_GW" "$warden" run --config "$work/policy.yaml" >"$work/warden.log" 2>&1 &
warden_pid=$!
echo "$warden_pid" >"$PIDFILE"
cli=("$warden" --config "$work/policy.yaml")
for _ in $(seq 100); do
  "${cli[@]}" status >/dev/null 2>&1 && break
  ours "$warden_pid" || break
  sleep 0.1
done
if ! "${cli[@]}" status >/dev/null 2>&1; then
  fail "warden run did not come up"
  exit 1
fi
ok "warden run is up (pid $warden_pid)"

# The devices talk (bounded: 200 pings each, 40 s at most), so they are counted and have rates.
ip netns exec "$NS_DEV" ping -q -c 200 -i 0.2 -W 1 198.18.0.1 >/dev/null 2>&1 &
ping_pid=$!
ip netns exec "$NS_DEV" ip route add 198.19.0.0/24 via 198.18.0.1
ip netns exec "$NS_DEV" ping -q -c 200 -i 0.2 -W 1 198.19.0.2 >/dev/null 2>&1 &
ping3_pid=$!
ip netns exec "$NS_DEV2" ping -q -c 200 -i 0.2 -W 1 -s 1200 198.18.1.1 >/dev/null 2>&1 &
ping2_pid=$!
for _ in $(seq 50); do
  "${cli[@]}" devices --json 2>/dev/null | grep -q "$DEV2_MAC" && break
  sleep 0.1
done

# Until the controller's snapshot has both devices' rates and active flows (the flow table
# is walked a slice at a time, every few seconds).
flows_seen() {
  "${cli[@]}" top --once --json 2>/dev/null | python3 -c '
import json, sys
flows = {d["mac"]: d.get("rate", {}).get("active_flows", 0) for d in json.load(sys.stdin)["devices"]}
sys.exit(0 if flows.get(sys.argv[1], 0) >= 2 and flows.get(sys.argv[2], 0) >= 1 else 1)' "$DEV_MAC" "$DEV2_MAC"
}
for _ in $(seq 60); do
  flows_seen && break
  sleep 0.25
done
flows_seen || fail "the controller's snapshot did not show the devices' flows within 15 s"

# ---- the plain snapshot when stdout is not a terminal ----
snapshot=$("${cli[@]}" top | cat)
rc=$?
if [[ $rc -ne 0 ]]; then
  fail "warden top | cat exited $rc: $snapshot"
elif [[ "$snapshot" == *$'\e'* ]]; then
  fail "the plain snapshot has escape codes in it"
elif ! grep -q "^warden running (pid $warden_pid" <<<"$snapshot"; then
  fail "the snapshot's header does not say warden is running (pid $warden_pid): $(head -1 <<<"$snapshot")"
elif ! grep -Eq '^NAME +MAC +VENDOR +TYPE +STATE +UP/s +DOWN/s +FLOWS +DROPS$' <<<"$snapshot"; then
  fail "the snapshot lacks the column headers:"$'\n'"$snapshot"
elif ! grep -Eq "^test-laptop +$DEV_MAC +- +laptop +ok +[0-9.]+ [kMG]?B +[0-9.]+ [kMG]?B +[0-9]+ +0$" <<<"$snapshot"; then
  fail "the snapshot lacks the device's row (name, MAC, type, ok, rates, flows, drops):"$'\n'"$snapshot"
elif ! grep -q '^total: ' <<<"$snapshot"; then
  fail "the snapshot lacks the totals line"
else
  ok "warden top | cat prints a plain snapshot with the device's row"
fi
"${cli[@]}" top --once --json >"$work/top.json"
if python3 - "$work/top.json" "$DEV_MAC" <<'EOF'; then
import json, sys
top = json.load(open(sys.argv[1]))
mac = sys.argv[2]
row = [d for d in top["devices"] if d["mac"] == mac]
assert top["controller"]["running"], top["controller"]
assert row and row[0]["state"] == "ok" and row[0]["name"] == "test-laptop", row
assert row[0]["up"]["packets"] > 0 and row[0]["down"]["packets"] > 0, row[0]
assert top["totals"]["devices"] == len(top["devices"]) >= 1
EOF
  ok "warden top --json: the device, its counters and the totals"
else
  fail "warden top --json is not what was expected: $(head -c 600 "$work/top.json")"
fi

# ---- the live view in an 80x24 tmux pane ----
# dash as the pane's shell: it edits no lines, so the terminal modes after top exits are
# exactly the ones top left behind.
tmux -L "$SOCK" -f /dev/null new-session -d -s top -x 80 -y 24 \
  "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=screen HOME=/root PS1='wdtop\$ ' dash -i" \; \
  set-option -g status off \; set-option -g window-size manual \; resize-window -t top -x 80 -y 24
pane() { tmux -L "$SOCK" capture-pane -p -t top; }
pane_var() { tmux -L "$SOCK" display-message -p -t top "$1"; }
# wait_pane TEXT SECONDS: true once the pane shows TEXT (a grep -E pattern).
wait_pane() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    pane | grep -Eq -- "$1" && return 0
    sleep 0.2
  done
  return 1
}
wait_pane 'wdtop\$' 5 || fail "the tmux pane's shell did not start"
start_top() {
  tmux -L "$SOCK" send-keys -t top "clear; '$warden' --config '$work/policy.yaml' top; echo top-exit=\$?" Enter
}

start_top
if wait_pane "test-laptop +$DEV_MAC" 10; then
  ok "warden top shows the device's row in the pane"
else
  fail "warden top did not show the device within 10 s:"$'\n'"$(pane)"
fi
screen=$(pane)
[[ $(pane_var '#{alternate_on}') == 1 ]] && ok "top draws on the alternate screen" ||
  fail "top is not on the alternate screen"
grep -q "^warden running (pid $warden_pid" <<<"$screen" && ok "the header says warden is running" ||
  fail "the header does not say warden is running:"$'\n'"$screen"
grep -Eq "^test-laptop +$DEV_MAC +laptop +ok +" <<<"$screen" && ok "the row has name, MAC, type and state ok" ||
  fail "the row lacks name, MAC, type or state ok:"$'\n'"$screen"
grep -Eq '^NAME +MAC +TYPE +STATE +UP/s +DOWN/s +FLOWS +DROPS' <<<"$screen" &&
  ok "at 80 columns: every column but VENDOR" || fail "the column headers at 80 columns:"$'\n'"$screen"
grep -q '^total: ' <<<"$screen" && grep -q 'sort: up' <<<"$screen" && ok "the footer has totals and the sort key" ||
  fail "the footer lacks totals or the sort key:"$'\n'"$screen"
[[ $(wc -l <<<"$screen") -le 24 ]] && awk 'length > 80 { exit 1 }' <<<"$screen" &&
  ok "it fits 80x24" || fail "the screen is larger than 80x24"

# Sort keys: the footer names the key in force, and the rows change places.
# first_row NAME_A NAME_B: true when NAME_A's row is above NAME_B's.
first_row() {
  local a b
  a=$(pane | grep -n "^$1 " | head -1 | cut -d: -f1)
  b=$(pane | grep -n "^$2 " | head -1 | cut -d: -f1)
  [[ -n "$a" && -n "$b" && "$a" -lt "$b" ]]
}
# sorts KEY WORD FIRST SECOND
sorts() {
  tmux -L "$SOCK" send-keys -t top "$1"
  local deadline=$((SECONDS + 3))
  while ((SECONDS < deadline)); do
    if pane | grep -Eq "sort: $2( |\$)" && first_row "$3" "$4"; then
      ok "key $1 sorts by $2 ($3 above $4)"
      return
    fi
    sleep 0.2
  done
  fail "key $1 did not sort by $2 ($3 above $4):"$'\n'"$(pane)"
}
# Each key below puts the rows in the other order than the key before it.
sorts n name test-laptop z-printer
sorts u up z-printer test-laptop
sorts n name test-laptop z-printer
sorts d down z-printer test-laptop
sorts f flows test-laptop z-printer
sorts u up z-printer test-laptop

# Narrow and wide terminals: columns drop out and come back.
tmux -L "$SOCK" resize-window -t top -x 60 -y 24 >/dev/null 2>&1
if wait_pane '^NAME +MAC +STATE' 3 && ! pane | grep -q 'TYPE'; then
  ok "at 60 columns the less important columns drop out, MAC and STATE stay"
else
  fail "at 60 columns:"$'\n'"$(pane)"
fi
tmux -L "$SOCK" resize-window -t top -x 120 -y 30 >/dev/null 2>&1
if wait_pane '^NAME +MAC +VENDOR +TYPE +STATE' 3; then ok "at 120 columns VENDOR is back"; else fail "at 120 columns:"$'\n'"$(pane)"; fi
tmux -L "$SOCK" resize-window -t top -x 80 -y 24 >/dev/null 2>&1

# A finding for the device (as the behaviour engine logs it): alerting, and in the footer
# under the device's name.
now_ms=$(($(date +%s%3N)))
printf '{"kind":"finding","mac":"%s","detector":"port_scan","evidence":"tried 300 ports on 198.18.0.1","action":"alert","ts_ms":%s}\n' \
  "$DEV_MAC" "$now_ms" >>"$work/state/events.jsonl"
if wait_pane "$DEV_MAC +laptop +alerting" 4 && wait_pane "port_scan on test-laptop: tried 300 ports" 1; then
  ok "a finding makes the device alerting and shows in the footer"
else
  fail "a finding did not show:"$'\n'"$(pane)"
fi
sorts u up z-printer test-laptop
sorts s state test-laptop z-printer  # alerting before ok

# q: top exits 0, the alternate screen is left, the shell is back with sane modes.
tmux -L "$SOCK" send-keys -t top q
if wait_pane 'top-exit=0' 5; then ok "q quits (exit 0)"; else fail "q did not quit:"$'\n'"$(pane)"; fi
check_restored() {
  local how=$1
  [[ $(pane_var '#{alternate_on}') == 0 ]] || fail "after $how the pane is still on the alternate screen"
  [[ $(pane_var '#{pane_current_command}') == dash ]] || fail "after $how the pane runs $(pane_var '#{pane_current_command}'), not the shell"
  tmux -L "$SOCK" send-keys -t top "clear; stty -a | tr ' ' '\\n' | grep -Ex -- '-?(icanon|echo)' | tr '\\n' ' '; echo" Enter
  if wait_pane '^(-?icanon|-?echo) (-?icanon|-?echo) ?$' 3 && pane | grep -Eq '^icanon echo ?$'; then
    ok "after $how the terminal is restored (icanon echo, main screen, shell back)"
  else
    fail "after $how the terminal modes are not restored:"$'\n'"$(pane)"
  fi
}
check_restored q

# Ctrl-C (SIGINT) and SIGTERM restore the terminal too.
start_top
wait_pane "test-laptop +$DEV_MAC" 10 || fail "top did not start again"
tmux -L "$SOCK" send-keys -t top C-c
wait_pane 'top-exit=' 5 || fail "Ctrl-C did not end top"
check_restored Ctrl-C

start_top
wait_pane "test-laptop +$DEV_MAC" 10 || fail "top did not start again"
shell_pid=$(pane_var '#{pane_pid}')
top_pid=$(pgrep -P "$shell_pid" | head -1)
if [[ -n "$top_pid" ]] && grep -qs top "/proc/$top_pid/cmdline"; then
  kill -TERM "$top_pid"
  wait_pane 'top-exit=' 5 || fail "SIGTERM did not end top"
  check_restored SIGTERM
else
  fail "cannot find top's pid under the pane's shell ($shell_pid)"
fi

kill "$ping_pid" "$ping2_pid" "$ping3_pid" 2>/dev/null
wait "$ping_pid" "$ping2_pid" "$ping3_pid" 2>/dev/null

# With the controller stopped (programs stay attached, maps pinned), top says so.
stop_controller "$warden_pid"
snapshot=$("${cli[@]}" top | cat)
if grep -q '^warden controller NOT running' <<<"$snapshot" && grep -q "$DEV_MAC" <<<"$snapshot"; then
  ok "with the controller stopped the header says so, and the devices are still listed"
else
  fail "with the controller stopped:"$'\n'"$snapshot"
fi

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all warden top checks passed"
exit 0
