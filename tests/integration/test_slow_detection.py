#!/usr/bin/python3
"""Low and slow on the testbed: a real nmap at one port a second, from a device in its first
minutes (learning, nothing learned yet), is caught by the evidence that accumulates over 10 min.

Brings up its own testbed (prefix "wdsl" unless WD_TEST_TESTBED_PREFIX says otherwise) with two
devices and runs `warden run` (interval 1 s, the policy's detector defaults) in the gateway
namespace. Then:

  slow scan     dev1 runs `nmap -sS --scan-delay 1s --max-retries 0` over ports 1-1000 of one
                target (bounded: `timeout` 150 s, stopped as soon as caught). Every 10 s window
                holds about 10 ports, under the 24 of the 10 s check; the device must still be
                quarantined by port_scan within 120 s of the scan's start, with a finding over
                the 10 min horizon ("window": "10m") that names the target.
  quiet device  dev2 pings the gateway meanwhile: no finding at all.

Prints one PASS/FAIL line per check with the figures and exits 0 when all pass, 1 when any fails,
77 (SKIP) when the machine cannot run it. Whatever happens it stops the controller it started (by
PID), detaches warden, removes its pins and takes its testbed down.

usage: test_slow_detection.py --warden PATH --source DIR [--keep-testbed]
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (TRACE, Failed, Skip, TestbedRun, argument_parser, check, cleanup,  # noqa: E402
                       interrupt_on_sigterm, preflight, print_setup_failure, wait_for)

CAUGHT_WITHIN_S = 120.0   # the target: a 1 port/s scan caught within 2 minutes
SCAN_TIMEOUT_S = 150      # the scan's own bound
TARGET = "198.18.64.1"    # in the internet namespace's local range


def now_ms():
    return int(time.time() * 1000)


def main():
    args = argument_parser(__doc__).parse_args()
    try:
        preflight(args.warden, ["ip", "nsenter", "nmap", "dnsmasq", "nft", "timeout"])
    except Skip as e:
        print(f"SKIP: {e}")
        return 77

    interrupt_on_sigterm()
    test_run = TestbedRun(args.source, "wdsl", "slow")
    tb = test_run.testbed
    w = None
    results = []

    def report(name, ok, note):
        print(f"{'PASS' if ok else 'FAIL'} {name}: {note}", flush=True)
        results.append(ok)

    try:
        test_run.bring_up(2, args.keep_testbed)
        w = test_run.make_warden(args.warden, f"/sys/fs/bpf/warden-slow-{test_run.prefix}")
        w.write_policy()
        w.start()
        gw4 = tb.env["WD_GW_LAN_IP4"]
        for d in tb.devices:
            check(tb.pings(d.ns, gw4), f"{d} cannot ping the gateway")
        time.sleep(3)  # a few polls: every device has counters and a first sample
        scanner, quiet = tb.devices
        argv = ["nmap", "-sS", "-n", "-Pn", "--scan-delay", "1s", "--max-retries", "0", "-p", "1-1000", TARGET]
        TRACE.append(f"slow scan from {scanner}: {' '.join(argv)}")
        started = now_ms()
        proc = subprocess.Popen(tb.in_ns(scanner.ns, "timeout", str(SCAN_TIMEOUT_S), *argv),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            def caught():
                for e in w.events():
                    if (e.get("kind") == "quarantine" and e.get("mac") == scanner.mac
                            and e.get("origin") == "detector" and e.get("ts_ms", 0) >= started):
                        return e
                return None
            q = wait_for(caught, SCAN_TIMEOUT_S, interval=1.0)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        try:
            check(q is not None, f"{scanner} was not quarantined within {SCAN_TIMEOUT_S} s of the slow scan")
            latency = (q["ts_ms"] - started) / 1000
            findings = [e for e in w.events() if e.get("kind") == "finding" and e.get("mac") == scanner.mac
                        and e.get("ts_ms", 0) >= started]
            slow = [f for f in findings if f.get("detector") == "port_scan" and f.get("window") in ("10m", "1h")]
            check(slow, f"no port_scan finding over a long horizon (findings: "
                        f"{[(f.get('detector'), f.get('window'), f.get('evidence')) for f in findings]})")
            check(slow[0].get("peer") == TARGET, f"the finding does not name {TARGET}: {slow[0]}")
            check(latency <= CAUGHT_WITHIN_S,
                  f"quarantined {latency:.1f} s after the scan began (allowed {CAUGHT_WITHIN_S:.0f} s)")
            report("slow scan", True, f"{scanner} quarantined ({q.get('level')}) {latency:.1f} s after a 1 port/s "
                                      f"scan began; {slow[0]['evidence']}")
        except Failed as e:
            report("slow scan", False, str(e))
            print("  controller log, last lines:\n" + "".join(
                f"    {line}\n" for line in w.log().splitlines()[-10:]), end="")

        others = [f for f in w.events() if f.get("kind") == "finding" and f.get("mac") == quiet.mac]
        report("quiet device", not others,
               f"{quiet}: findings={[(f.get('detector'), f.get('evidence')) for f in others]}")
    except (Failed, KeyboardInterrupt) as e:
        print_setup_failure(e)
        results.append(False)
    finally:
        problems = cleanup(tb, w, args.keep_testbed)
        for p in problems:
            print(f"cleanup: {p}")
    ok = bool(results) and all(results) and not problems
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
