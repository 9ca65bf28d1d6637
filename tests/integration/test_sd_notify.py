#!/usr/bin/python3
"""warden run under systemd's Type=notify, and what says which build runs, on the testbed.

Brings up its own testbed (prefix "wdn" unless WD_TEST_TESTBED_PREFIX says otherwise) with two
devices, quarantines dev1 while no controller runs, then starts `warden run` in the gateway
namespace with NOTIFY_SOCKET naming a datagram socket this test reads (as systemd's would be):

  ready   the first datagram says READY=1 with STATUS="3 ports attached, N devices, 1
          quarantined", sent once the programs are on every port (warden status --json says
          so at that moment); after dev2 talks, a STATUS= line counts it, the same figures
          status --json shows; SIGTERM sends STOPPING=1
  build   --version names the release, the commit and libbpf; status --json carries the
          controller's build (the same), and /metrics has warden_build_info with those labels

Prints "PASS name (seconds)" or "FAIL name: why" per scenario and a summary. Exit 0 when all
pass, 1 when any fails, 77 (SKIP) when the machine cannot run it. Whatever happens, it stops the
controller it started (by PID), detaches warden, removes its pin dir and takes its testbed down.

usage: test_sd_notify.py --warden PATH --source DIR [--keep-testbed]
"""

import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (Skip, TestbedRun, argument_parser, check, interrupt_on_sigterm, preflight,  # noqa: E402
                       run, run_scenario, summarize, wait_for)

DEVICES = 2
READY_WITHIN_S = 20.0


class Context:
    def __init__(self, testbed, warden, listener):
        self.tb = testbed
        self.w = warden
        self.dev = testbed.devices
        self.listener = listener
        self.received = []  # every datagram, as text

    def drain(self, timeout):
        """Reads datagrams for up to timeout seconds (returns at the first)."""
        self.listener.settimeout(timeout)
        try:
            while True:
                self.received.append(self.listener.recv(4096).decode())
                self.listener.settimeout(0.01)
        except (socket.timeout, BlockingIOError):
            pass

    def statuses(self):
        return [m.split("STATUS=", 1)[1].split("\n")[0] for m in self.received if "STATUS=" in m]

    def expected_status(self, status):
        attached = sum(1 for p in status.get("ports", []) if p.get("state") == "attached")
        devices = status.get("inventory", {}).get("devices", 0)
        quarantined = status["quarantined"]["isolate"] + status["quarantined"]["restricted"]
        return (f"{attached} port{'s' if attached != 1 else ''} attached, "
                f"{devices} device{'s' if devices != 1 else ''}, {quarantined} quarantined")


def scenario_ready(t):
    dev1, dev2 = t.dev[0], t.dev[1]
    # Recorded while no controller runs; the controller enforces it when it starts.
    t.w.cli_ok("quarantine", "add", dev1.mac, "--level", "isolate", "--for", "1h", "--reason", "notify test")
    os.environ["NOTIFY_SOCKET"] = t.listener.getsockname()
    try:
        t.w.start()
    finally:
        del os.environ["NOTIFY_SOCKET"]
    check(wait_for(lambda: (t.drain(0.2), any("READY=1" in m for m in t.received))[1], READY_WITHIN_S),
          f"no READY=1 within {READY_WITHIN_S} s; received {t.received}")
    status_at_ready = t.w.cli_json("status")
    first = t.received[0]
    check(first.startswith("READY=1\n"), f"the first datagram is not READY=1: {first!r}")
    ready_status = first.split("STATUS=", 1)[1] if "STATUS=" in first else ""
    check(re.fullmatch(r"3 ports attached, \d+ devices?, 1 quarantined", ready_status),
          f"READY's STATUS is {ready_status!r}, expected \"3 ports attached, N devices, 1 quarantined\"")
    ports = {p["interface"]: p["state"] for p in status_at_ready.get("ports", [])}
    check(len(ports) == 3 and set(ports.values()) == {"attached"},
          f"READY=1 was sent, yet status --json says the ports are {ports}")

    # dev2 talks: the inventory grows, and the STATUS= line follows what status --json says.
    check(wait_for(lambda: t.tb.pings(dev2.ns, t.tb.env["WD_GW_LAN_IP4"]), 5, interval=0.2),
          "dev2 cannot ping the gateway")

    def status_agrees():
        t.drain(0.5)
        want = t.expected_status(t.w.cli_json("status"))
        return bool(t.statuses()) and t.statuses()[-1] == want and not want.endswith(" 0 devices, 1 quarantined")
    check(wait_for(status_agrees, 15, interval=0.2),
          f"the last STATUS= {t.statuses()[-1:]} does not match status --json "
          f"({t.expected_status(t.w.cli_json('status'))}) with dev2 counted")
    last = t.statuses()[-1]

    t.w.stop(signal.SIGTERM)
    t.drain(2)
    check(any("STOPPING=1" in m for m in t.received), f"no STOPPING=1 after SIGTERM; received {t.received}")
    return f"READY=1 with \"{ready_status}\", then \"{last}\", STOPPING=1 ({len(t.received)} datagrams)"


def scenario_build(t):
    if not t.w.running:
        t.w.start()
    version = run([t.w.binary, "--version"]).stdout.strip()
    m = re.fullmatch(r"warden (\S+) \(commit ([0-9a-f]{7,}(?:-dirty)?|unknown), libbpf (\d+\.\d+)\)", version)
    check(m, f"--version says {version!r}, expected \"warden X (commit HASH, libbpf N.N)\"")
    release, commit, libbpf = m.groups()
    check(commit != "unknown", "--version does not know the commit of a build from a git checkout")
    status = t.w.cli_json("status")
    want = {"version": release, "commit": commit, "libbpf": libbpf}
    check(status.get("build") == want, f"status --json build {status.get('build')}, expected {want}")
    check(status.get("controller", {}).get("build") == want,
          f"status --json controller.build {status.get('controller', {}).get('build')}, expected {want}")
    result = run(t.w.gw_cmd("curl", "-sS", "--max-time", "3", "http://127.0.0.1:9464/metrics"), timeout=10)
    check(result.returncode == 0, f"cannot scrape /metrics: {result.stderr.strip()}")
    sample = f'warden_build_info{{version="{release}",commit="{commit}",libbpf="{libbpf}"}} 1'
    check(sample in result.stdout.splitlines(),
          f"/metrics lacks {sample}: {[l for l in result.stdout.splitlines() if 'build_info' in l]}")
    return version


SCENARIOS = [("ready", scenario_ready), ("build", scenario_build)]
TOOLS = ["ip", "nsenter", "ping", "curl", "bpftool", "dnsmasq", "dhclient", "nft"]


def main():
    parser = argument_parser(__doc__)
    args = parser.parse_args()
    try:
        preflight(args.warden, TOOLS)
    except Skip as e:
        print(f"SKIP: {e}")
        return 77

    interrupt_on_sigterm()
    test_run = TestbedRun(args.source, "wdn", "sd_notify")
    results = []
    started = time.monotonic()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        with test_run.guarded(results, args.keep_testbed):
            listener.bind(os.path.join(test_run.workdir, "notify.sock"))
            test_run.bring_up(DEVICES, args.keep_testbed)
            print(f"testbed {test_run.prefix}: up; work dir {test_run.workdir}", flush=True)
            warden = test_run.make_warden(args.warden, f"/sys/fs/bpf/warden-sdnotify-{test_run.prefix}")
            warden.write_policy()
            ctx = Context(test_run.testbed, warden, listener)
            for name, scenario in SCENARIOS:
                run_scenario(name, scenario, ctx, results, reset=False)
    finally:
        listener.close()
    return summarize(results, test_run.problems, test_run.workdir, started)


if __name__ == "__main__":
    sys.exit(main())
