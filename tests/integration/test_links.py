#!/usr/bin/python3
"""warden when the gateway's interfaces come and go, on the namespace testbed.

Brings up its own testbed (prefix "wdl" unless WD_TEST_TESTBED_PREFIX says otherwise), runs
`warden run` in the gateway namespace with a policy naming lan1..lan3 and wan0 (pins under
/sys/fs/bpf/warden-links-<prefix>, state in a temp dir), then runs each scenario:

  late_port  lan3 does not exist when warden starts: warden starts anyway, enforces on lan1
             and lan2 (a quarantine there cuts the device off) and says lan3 is waiting; lan3
             is created 5 s later: warden attaches to it within 1 s and enforces there
  recreate   dev2 isolated, its port lan2 deleted, then made again under the same name and put
             back in the bridge (what a Wi-Fi reload does to a radio): warden's programs are
             on the new lan2 within 1 s of it coming up and dev2's pings fail again; the log
             and an event name the re-attach; released, dev2 talks again through the new port
  removed    another process takes warden's programs off a port: `ip link set dev lan1 xdp
             off` (refused by the kernel while warden's bpf_link holds the hook: noted), the XDP
             link detached through its pin (lan1 and wan0), `tc filter del`, `tc qdisc del clsact`:
             warden puts each back within 1 s and says so (log, event)

In every scenario `warden status --json` lists exactly the programs `bpftool net` shows in the
gateway namespace, and marks each port attached or waiting as it really is.

Prints "PASS name (seconds)" or "FAIL name: why" per scenario and a summary. Exit 0 when all
pass, 1 when any fails, 77 (SKIP) when the machine cannot run it. Whatever happens, it stops the
controller it started (by PID), detaches warden, removes its pin dir and takes its testbed down.

usage: test_links.py --warden PATH --source DIR [--only NAME,...] [--keep-testbed]
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (Failed, Skip, TestbedRun, argument_parser, check, chosen_scenarios,  # noqa: E402
                       interrupt_on_sigterm, preflight, run, run_scenario, summarize, wait_for)

DEVICES = 3
BACK_WITHIN_S = 1.0   # warden's programs are on a port this soon after it appears or loses them
LATE_AFTER_S = 5.0    # late_port: the port is created this long after warden started
STATUS_WITHIN_S = 3.0  # the status snapshot catches up with the kernel (written each poll)


def now_ms():
    return int(time.time() * 1000)


class Context:
    def __init__(self, testbed, warden):
        self.tb = testbed
        self.w = warden
        self.dev = testbed.devices
        self.gw4 = testbed.env["WD_GW_LAN_IP4"]
        self.inet4 = testbed.env["WD_INET_IP4"]
        self.wan = testbed.env["WD_WAN_IF"]
        self.bridge = testbed.env["WD_LAN_BRIDGE"]
        # Each port's MAC as the testbed made it, to make the port again the same way.
        self.port_macs = {}
        for k in range(1, DEVICES + 1):
            result = run(["ip", "-n", testbed.gw_ns, "-j", "link", "show", "dev", f"lan{k}"])
            check(result.returncode == 0, f"lan{k} is missing in {testbed.gw_ns}: {result.stderr.strip()}")
            self.port_macs[k] = json.loads(result.stdout)[0]["address"]

    def reset(self):
        """Every scenario starts from the same place: every port there, a running controller,
        nothing quarantined."""
        for k in range(1, DEVICES + 1):
            if not self.port_exists(k):
                self.create_port(k)
        if not self.w.running:
            self.w.start()
        for q in self.w.cli_json("quarantine", "list"):
            self.w.cli_ok("quarantine", "del", q["mac"])
        for d in self.dev:
            check(wait_for(lambda: self.tb.pings(d.ns, self.gw4), 5, interval=0.2), f"{d} cannot ping the gateway")

    # --- the ports, as a Wi-Fi reload or a replug treats them --------------------------------

    def port_exists(self, k):
        return run(["ip", "-n", self.tb.gw_ns, "link", "show", "dev", f"lan{k}"]).returncode == 0

    def delete_port(self, k):
        result = run(["ip", "-n", self.tb.gw_ns, "link", "del", f"lan{k}"])
        check(result.returncode == 0, f"cannot delete lan{k}: {result.stderr.strip()}")

    def create_port(self, k):
        """Makes lanK again as the testbed does (a veth to devK's eth0, same MACs), puts it in
        the bridge and up, and gives devK its addresses back (its DHCP lease is still good).
        Returns the monotonic time lanK came up."""
        d, gw = self.dev[k - 1], self.tb.gw_ns
        dev_if = self.tb.env["WD_DEV_IF"]
        steps = [["ip", "-n", gw, "link", "add", f"lan{k}", "address", self.port_macs[k], "type", "veth",
                  "peer", "name", dev_if, "address", d.mac, "netns", d.ns],
                 ["ip", "-n", gw, "link", "set", f"lan{k}", "master", self.bridge, "up"]]
        for cmd in steps:
            result = run(cmd)
            check(result.returncode == 0, f"`{' '.join(cmd)}` failed: {result.stderr.strip()}")
        up = time.monotonic()
        for cmd in (["ip", "-n", d.ns, "link", "set", dev_if, "up"],
                    ["ip", "-n", d.ns, "addr", "replace", f"{d.ip4}/24", "dev", dev_if],
                    ["ip", "-n", d.ns, "route", "replace", "default", "via", self.gw4, "dev", dev_if],
                    ["ip", "-n", d.ns, "-6", "addr", "replace", f"{d.ip6}/64", "dev", dev_if, "nodad"]):
            result = run(cmd)
            check(result.returncode == 0, f"`{' '.join(cmd)}` failed: {result.stderr.strip()}")
        return up

    # --- what the kernel has, and what warden says it has ----------------------------------

    def kernel_programs(self):
        """{(interface, hook, prog id, mode)} of every XDP program and tc filter `bpftool net`
        shows in the gateway namespace; mode is native/generic for XDP, "tc" for tc."""
        result = run(self.w.gw_cmd("bpftool", "-j", "net"))
        check(result.returncode == 0, f"bpftool net failed: {result.stderr.strip()}")
        found = set()
        for section in json.loads(result.stdout):
            for x in section.get("xdp", []):
                modes = {"driver": "native", "generic": "generic", "offload": "offload"}
                found.add((x["devname"], "xdp", x["id"], modes.get(x.get("mode"), x.get("mode"))))
            for t in section.get("tc", []):
                hook = {"clsact/egress": "tc egress", "clsact/ingress": "tc ingress"}.get(t["kind"], t["kind"])
                found.add((t["devname"], hook, t["id"], "tc"))
        return found

    def programs_on(self, port):
        return {(hook, mode) for dev, hook, _, mode in self.kernel_programs() if dev == port}

    def status(self):
        return self.w.cli_json("status")

    def status_programs(self, status):
        return {(a.get("interface"), a.get("hook"), a.get("id"), a.get("mode")) for a in status.get("attachments", [])}

    def status_matches_kernel(self, when):
        """`status --json` lists exactly what bpftool net shows (waiting for the next status
        snapshot if needed); returns the status."""
        last = {}

        def same():
            last["status"] = self.status()
            last["kernel"] = self.kernel_programs()
            return self.status_programs(last["status"]) == last["kernel"]
        if not wait_for(same, STATUS_WITHIN_S, interval=0.2):
            raise Failed(f"{when}: status --json lists {sorted(self.status_programs(last['status']))}, "
                         f"bpftool net shows {sorted(last['kernel'])}")
        return last["status"]

    def port_state(self, status, interface):
        return next((p for p in status.get("ports", []) if p["interface"] == interface), None)

    def wait_programs(self, port, expected, since, what):
        """Waits until `port` has exactly the expected {(hook, mode)}: returns the seconds since
        `since`, or fails after 3 s saying what the kernel had."""
        got = wait_for(lambda: self.programs_on(port) >= expected, 3, interval=0.02)
        took = time.monotonic() - since
        check(got, f"{what}: {port} still lacks {sorted(expected - self.programs_on(port))} 3 s later "
                   f"(the kernel has {sorted(self.programs_on(port))})")
        return took

    def metrics(self):
        """{sample name with labels: value} of the controller's /metrics (in the gateway namespace)."""
        result = run(self.w.gw_cmd("curl", "-sS", "--max-time", "3", "http://127.0.0.1:9464/metrics"), timeout=10)
        check(result.returncode == 0, f"cannot scrape /metrics: {result.stderr.strip()}")
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                for line in result.stdout.splitlines() if line and not line.startswith("#")}

    def page_ports(self):
        """The ports as the status page's /api/summary has them, fetched from dev1 (the LAN side)."""
        result = run(self.tb.in_ns(self.dev[0].ns, "curl", "-sS", "--max-time", "3",
                                   f"http://{self.gw4}:8080/api/summary"), timeout=10)
        check(result.returncode == 0, f"cannot fetch /api/summary from dev1: {result.stderr.strip()}")
        return {p["interface"]: p["state"] for p in json.loads(result.stdout).get("ports", [])}

    def cut_off(self, device):
        answered = self.tb.pings_many([(device.ns, self.gw4), (device.ns, self.inet4)], count=2, wait=1)
        return not any(answered.values())

    def events_since(self, since_ms, kind, interface):
        return [e for e in self.w.events()
                if e.get("ts_ms", 0) >= since_ms and e.get("kind") == kind and e.get("interface") == interface]


LAN_PROGRAMS = {("xdp", "native"), ("tc egress", "tc")}
WAN_PROGRAMS = {("xdp", "native")}


# ----------------------------------------------------------------------------------------------
# Scenarios. Each returns a short note of what it measured (printed after PASS).

def scenario_late_port(t):
    d1, d3 = t.dev[0], t.dev[2]
    if t.w.running:
        t.w.stop()
    t.delete_port(3)
    log = t.w.start()  # an older warden refuses to start here ("interface(s) not found")
    started = time.monotonic()
    started_ms = now_ms()
    check("lan port lan3 is not there" in log, f"the start log does not say lan3 is missing:\n{log}")

    status = t.status_matches_kernel("lan3 missing at start")
    states = {p["interface"]: p["state"] for p in status["ports"]}
    check(states == {"lan1": "attached", "lan2": "attached", "lan3": "waiting", t.wan: "attached"},
          f"status --json ports while lan3 is missing: {states}")
    text = t.w.cli_ok("status")
    check("waiting" in text and "lan3" in text, f"`warden status` does not show lan3 waiting:\n{text}")
    waiting = 'warden_port_waiting{interface="lan3",role="lan",optional="false"}'
    check(wait_for(lambda: t.metrics().get(waiting) == 1, STATUS_WITHIN_S, interval=0.2),
          f"/metrics lacks {waiting} 1")
    check(wait_for(lambda: t.page_ports().get("lan3") == "waiting", STATUS_WITHIN_S, interval=0.2),
          f"the status page's summary does not show lan3 waiting: {t.page_ports()}")

    # Meanwhile the other ports are enforced.
    t.w.cli_ok("quarantine", "add", d1.mac, "--level", "isolate", "--for", "10m")
    check(t.cut_off(d1), "with lan3 missing, an isolated dev1 (on lan1) still gets through")
    t.w.cli_ok("quarantine", "del", d1.mac)
    check(wait_for(lambda: t.tb.pings(d1.ns, t.gw4), 3, interval=0.1), "released dev1 cannot ping the gateway")

    check(LATE_AFTER_S > time.monotonic() - started, "the checks above took longer than the 5 s wait")
    time.sleep(LATE_AFTER_S - (time.monotonic() - started))
    check(t.w.running, "warden run stopped while lan3 was missing")
    up = t.create_port(3)
    took = t.wait_programs("lan3", LAN_PROGRAMS, up, "lan3 created 5 s after the start")
    check(took <= BACK_WITHIN_S, f"warden attached to lan3 {took:.2f} s after it came up (allowed {BACK_WITHIN_S} s)")
    check(wait_for(lambda: "attached lan_ingress on lan3" in t.w.log(), 2),
          f"the log does not say warden attached to lan3:\n{t.w.log()[-1500:]}")
    attached = t.events_since(started_ms, "port_attached", "lan3")
    check(attached and attached[-1].get("why") == "the interface appeared",
          f"events has no port_attached for lan3: {attached}")

    status = t.status_matches_kernel("after lan3 appeared")
    check(t.port_state(status, "lan3")["state"] == "attached", f"status after lan3 appeared: {status['ports']}")
    check(wait_for(lambda: t.metrics().get(waiting) == 0 and t.page_ports().get("lan3") == "attached",
                   STATUS_WITHIN_S, interval=0.2),
          f"metrics and the page still show lan3 waiting: {t.page_ports()}")
    check(wait_for(lambda: t.tb.pings(d3.ns, t.gw4), 3, interval=0.1), "dev3 cannot ping the gateway on the new lan3")
    t.w.cli_ok("quarantine", "add", d3.mac, "--level", "isolate", "--for", "10m")
    check(t.cut_off(d3), "an isolated dev3 gets through the late lan3")
    t.w.cli_ok("quarantine", "del", d3.mac)
    return f"lan3 attached {took * 1000:.0f} ms after it came up, {LATE_AFTER_S:.0f} s after the start"


def scenario_recreate(t):
    d2 = t.dev[1]
    started_ms = now_ms()
    t.w.cli_ok("quarantine", "add", d2.mac, "--level", "isolate", "--for", "10m", "--reason", "links test")
    check(t.cut_off(d2), "isolated dev2 still gets through before its port is touched")
    before = t.port_state(t.status_matches_kernel("before lan2 is deleted"), "lan2")
    check(before and before["state"] == "attached", f"lan2 before the test: {before}")

    t.delete_port(2)
    check(wait_for(lambda: (t.port_state(t.status(), "lan2") or {}).get("state") == "waiting", STATUS_WITHIN_S,
                   interval=0.2),
          f"status does not show lan2 waiting after it was deleted: {t.status().get('ports')}")
    t.status_matches_kernel("lan2 deleted")

    up = t.create_port(2)
    took = t.wait_programs("lan2", LAN_PROGRAMS, up, "lan2 re-created")
    check(took <= BACK_WITHIN_S, f"warden re-attached to lan2 {took:.2f} s after it came up (allowed {BACK_WITHIN_S} s)")
    wait_for(lambda: time.monotonic() - up >= BACK_WITHIN_S, 2, interval=0.05)
    check(t.cut_off(d2), "isolated dev2 gets through the re-created lan2")
    check(wait_for(lambda: "re-attached lan_ingress on lan2" in t.w.log(), 2),
          f"the log does not name the re-attach of lan2:\n{t.w.log()[-1500:]}")
    check("the interface was re-created" in t.w.log(), "the log does not say why lan2 was re-attached")
    detached = t.events_since(started_ms, "port_detached", "lan2")
    reattached = t.events_since(started_ms, "port_reattached", "lan2")
    check(detached, "events has no port_detached for lan2 after it was deleted")
    check(reattached and reattached[-1].get("why") == "the interface was re-created",
          f"events has no port_reattached for the re-created lan2: {reattached}")

    counts = t.metrics()
    check(counts.get("warden_port_detaches_total", 0) >= 1 and counts.get("warden_port_reattaches_total", 0) >= 1,
          f"/metrics does not count the detach and re-attach: {({k: v for k, v in counts.items() if 'port' in k})}")
    status = t.status_matches_kernel("lan2 re-created")
    after = t.port_state(status, "lan2")
    check(after["state"] == "attached" and after["ifindex"] != before["ifindex"],
          f"status after lan2 was re-created: {after} (before: ifindex {before['ifindex']})")
    # The cut was warden's, not a broken port: released, dev2 talks through the new lan2.
    t.w.cli_ok("quarantine", "del", d2.mac)
    check(wait_for(lambda: t.tb.pings(d2.ns, t.gw4), 5, interval=0.1),
          "released, dev2 cannot ping the gateway through the re-created lan2")
    return f"programs on the new lan2 {took * 1000:.0f} ms after it came up; dev2 cut off again"


def scenario_removed(t):
    started_ms = now_ms()
    notes = []

    def link_pin(port):
        """warden's pin of the bpf_link holding the XDP program on port."""
        return os.path.join(t.w.pin_dir, "links", f"xdp_{port}")

    def taken_off(port, what, cmd, program, expected):
        result = run(t.w.gw_cmd(*cmd))
        removed = time.monotonic()
        check(result.returncode == 0, f"{what} failed: {result.stderr.strip()}")
        took = t.wait_programs(port, expected, removed, what)
        check(took <= BACK_WITHIN_S, f"after {what}, warden put {program} back {took:.2f} s later "
                                     f"(allowed {BACK_WITHIN_S} s)")
        said = f"{program} missing on {port}: put {program} back"
        check(wait_for(lambda: said in t.w.log(), 2), f"after {what}, the log does not say \"{said}\"")
        events = [e for e in t.events_since(started_ms, "port_reattached", port) if e.get("program") == program]
        check(events, f"after {what}, events has no port_reattached of {program} on {port}")
        t.status_matches_kernel(f"after {what}")
        notes.append(f"{what}: back in {took * 1000:.0f} ms")

    # The command operators reach for first: the kernel refuses it while a bpf_link holds
    # the hook (warden attaches XDP through one), so nothing is removed.
    result = run(t.w.gw_cmd("ip", "link", "set", "dev", "lan1", "xdp", "off"))
    if result.returncode != 0:
        check(("xdp", "native") in t.programs_on("lan1"), "`ip link set dev lan1 xdp off` failed, yet XDP is gone")
        notes.append("`ip link set xdp off`: refused by the kernel (" + result.stderr.strip().splitlines()[-1] + ")")
    else:
        took = t.wait_programs("lan1", LAN_PROGRAMS, time.monotonic(), "ip link set dev lan1 xdp off")
        check(took <= BACK_WITHIN_S, f"after `ip link set xdp off`, lan_ingress was back only {took:.2f} s later")
        notes.append(f"`ip link set xdp off`: back in {took * 1000:.0f} ms")

    taken_off("lan1", "the XDP link detached", ["bpftool", "link", "detach", "pinned", link_pin("lan1")],
              "lan_ingress", LAN_PROGRAMS)
    taken_off("lan1", "tc filter del", ["tc", "filter", "del", "dev", "lan1", "egress", "pref", str(0x57d),
                                        "handle", hex(0x57d), "bpf"], "lan_egress", LAN_PROGRAMS)
    taken_off("lan1", "tc qdisc del clsact", ["tc", "qdisc", "del", "dev", "lan1", "clsact"], "lan_egress",
              LAN_PROGRAMS)
    taken_off(t.wan, "the WAN's XDP link detached", ["bpftool", "link", "detach", "pinned", link_pin(t.wan)],
              "wan_ingress", WAN_PROGRAMS)
    check(t.tb.pings(t.dev[0].ns, t.inet4), "dev1 cannot reach the internet after the programs were put back")
    status = t.status_matches_kernel("after every removal")
    states = {p["interface"]: p["state"] for p in status["ports"]}
    check(set(states.values()) == {"attached"}, f"ports after every removal: {states}")
    return "; ".join(notes)


SCENARIOS = [
    ("late_port", scenario_late_port),
    ("recreate", scenario_recreate),
    ("removed", scenario_removed),
]

TOOLS = ["ip", "nsenter", "tc", "ping", "curl", "bpftool", "dnsmasq", "dhclient", "iperf3", "nft"]


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--only", help="comma-separated scenario names to run (default: all)")
    args = parser.parse_args()
    wanted = chosen_scenarios(parser, args.only, [n for n, _ in SCENARIOS])
    try:
        preflight(args.warden, TOOLS)
    except Skip as e:
        print(f"SKIP: {e}")
        return 77

    interrupt_on_sigterm()
    test_run = TestbedRun(args.source, "wdl", "links")
    results = []
    started = time.monotonic()
    with test_run.guarded(results, args.keep_testbed):
        test_run.bring_up(DEVICES, args.keep_testbed)
        print(f"testbed {test_run.prefix}: up; work dir {test_run.workdir}", flush=True)
        warden = test_run.make_warden(args.warden, f"/sys/fs/bpf/warden-links-{test_run.prefix}")
        # Ports, not behaviour: the engine only alerts here.
        warden.policy_extra = "detectors:\n" + "".join(
            f"  {d}:\n    action: alert\n" for d in ("port_scan", "propagation", "flood", "exfiltration", "lateral"))
        warden.write_policy()
        ctx = Context(test_run.testbed, warden)
        for name, scenario in SCENARIOS:
            if name in wanted:
                # late_port starts the controller itself, with lan3 missing.
                run_scenario(name, scenario, ctx, results, reset=name != "late_port")
    return summarize(results, test_run.problems, test_run.workdir, started)


if __name__ == "__main__":
    sys.exit(main())
