#!/usr/bin/python3
"""The behaviour engine in `warden run` against real attack tools on the testbed (issue 5).

Brings up its own testbed (prefix "wdd" unless WD_TEST_TESTBED_PREFIX says otherwise) with five
devices and runs `warden run` (interval 1 s, the policy's detector defaults, nothing learned
yet) in the gateway namespace. Then:

  benign alone  dev5 downloads with iperf3 -R and curl: its throughput without attacks;
  attacks       while dev5 downloads again, one attack at a time, each from its own device and
                bounded in count and time:
                  dev1  nmap SYN scan of 1,000 ports on 8 target addresses   -> port_scan
                  dev2  Mirai-like sweep: SYNs to 23/2323 over a /22        -> propagation
                  dev3  hping3 UDP flood to one target                      -> flood
                  dev4  curl POST of 200 MB from /dev/zero to the HTTP server -> exfiltration
                each attacker must be quarantined automatically within 5 s of the attack
                command's start (the quarantine event's ts_ms), and its finding must name the
                detector and carry the evidence text;
  benign during dev5 keeps at least BENIGN_MIN_SHARE of its throughput alone, is never
                quarantined and has no finding above alert;
  alerts        `warden alerts --json` lists the findings (and --device filters);
  false positive `warden quarantine del dev1 --false-positive` releases dev1, a false_positive
                event is recorded, and the same scan again does not quarantine it.

Prints one PASS/FAIL line per check with the figures (latencies, throughputs) and exits 0 when
all pass, 1 when any fails, 77 (SKIP) when the machine cannot run it. Whatever happens it stops
the controller it started (by PID), detaches warden, removes its pins and takes its testbed down.

usage: test_detection.py --warden PATH --source DIR [--keep-testbed]
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (TRACE, Failed, Skip, TestbedRun, argument_parser, check, cleanup,  # noqa: E402
                       interrupt_on_sigterm, preflight, print_setup_failure, run, wait_for)

DEVICES = 5
CAUGHT_WITHIN_S = 5.0     # an attacker is quarantined within this of its attack's start
ATTACK_WATCH_S = 12.0     # how long an attack is given before the test gives up on it
# The benign device's download during the attacks, as a share of its download alone. The
# attacks share the gateway's two CPUs (and this machine's, with other work) with it: a
# generous margin; what it guards against is the benign device being cut off or starved.
BENIGN_MIN_SHARE = 0.5
BENIGN_SECONDS = 8        # the download alone
ATTACK_PHASE_S = 30       # the download during the attacks (they take about 15 s)


def now_ms():
    return int(time.time() * 1000)


class Attack:
    def __init__(self, name, device, detector, argv, timeout_s):
        self.name, self.device, self.detector, self.argv, self.timeout_s = name, device, detector, argv, timeout_s


def attacks(tb):
    d = tb.devices
    inet4 = tb.env["WD_INET_IP4"]
    port = tb.env["WD_HTTP_PORT"]
    # Targets: the internet namespace's local range 198.18.64.0/18.
    return [
        Attack("nmap SYN scan", d[0], "port_scan",
               ["nmap", "-sS", "-n", "-Pn", "-T4", "--max-retries", "0", "-p", "1-1000", "198.18.64.1-8"], 20),
        Attack("telnet sweep", d[1], "propagation",
               ["nmap", "-sS", "-n", "-Pn", "-T4", "--max-retries", "0", "-p", "23,2323", "198.18.68.0/22"], 20),
        # UDP to a closed port: each datagram draws at most a rate-limited ICMP error, so the
        # device sends far more frames than it receives. As fast as hping3 can (-i u10 gives
        # only ~10k/s here, and the detector averages over 10 s), bounded by the timeout and
        # stopped as soon as the device is quarantined.
        Attack("hping3 flood", d[2], "flood",
               ["hping3", "--udp", "-p", "9", "-d", "64", "--flood", "198.18.64.20"], 8),
        # Streamed from stdin (-T -, chunked): --data-binary @- would read all 200 MB into
        # memory before sending a byte, and that time (seconds on a busy machine) would count
        # against the detector.
        Attack("curl upload", d[3], "exfiltration",
               ["sh", "-c", f"head -c 200000000 /dev/zero | curl -sS -o /dev/null --max-time 15 "
                            f"-X POST -H 'Content-Type: application/octet-stream' -T - "
                            f"http://{inet4}:{port}/upload"], 20),
    ]


class Benign:
    """dev5's downloads: iperf3 -R for `seconds` and a loop of curl downloads meanwhile."""

    def __init__(self, tb, device, seconds):
        self.tb, self.device = tb, device
        self.started = time.time()  # iperf3's interval times count from about here
        inet4 = tb.env["WD_INET_IP4"]
        self.iperf = subprocess.Popen(
            tb.in_ns(device.ns, "timeout", str(seconds + 15), "iperf3", "-c", inet4, "-p", str(device.iperf_port),
                     "-R", "-t", str(seconds), "-J"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # 20 MB downloads back to back, each bounded, for at most `seconds`.
        loop = (f"end=$(( $(date +%s) + {seconds} )); n=0; "
                f"while [ $(date +%s) -lt $end ] && [ $n -lt 1000 ]; do "
                f"curl -sS -o /dev/null --max-time 10 http://{inet4}:{tb.env['WD_HTTP_PORT']}/blob/20000000 || exit 1; "
                f"n=$((n+1)); done; echo $n")
        self.curl = subprocess.Popen(tb.in_ns(device.ns, "timeout", str(seconds + 15), "sh", "-c", loop),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, timeout):
        out, err = self.iperf.communicate(timeout=timeout)
        curl_out, curl_err = self.curl.communicate(timeout=timeout)
        try:
            report = json.loads(out)
        except json.JSONDecodeError:
            raise Failed(f"iperf3 -R from {self.device} printed no JSON: {err.strip()[:300]}")
        check("error" not in report, f"iperf3 -R from {self.device} failed: {report.get('error')}")
        check(self.curl.returncode == 0, f"{self.device}'s curl downloads failed: {curl_err.strip()[:300]}")
        self.report = report
        bps = report["end"]["sum_received"]["bits_per_second"]
        return bps, int(curl_out.strip() or 0)

    def during(self, t_from, t_to):
        """Mean download rate over iperf3's one-second intervals that overlap [t_from, t_to]
        (unix seconds), and how many there were."""
        rates = [i["sum"]["bits_per_second"] for i in self.report.get("intervals", [])
                 if self.started + i["sum"]["start"] < t_to and self.started + i["sum"]["end"] > t_from]
        return (sum(rates) / len(rates) if rates else 0.0), len(rates)

    def stop(self):
        for p in (self.iperf, self.curl):
            if p.poll() is None:
                p.kill()
                p.wait()


def events_since(w, since_ms, kind=None, mac=None):
    return [e for e in w.events() if e.get("ts_ms", 0) >= since_ms
            and (kind is None or e.get("kind") == kind) and (mac is None or e.get("mac") == mac)]


def quarantine_event(w, mac, since_ms):
    """The detector's quarantine of mac since since_ms, read straight from the events log (polled
    several times a second: the CLI would flood the failure trace)."""
    try:
        with open(os.path.join(w.state_dir, "events.jsonl")) as f:
            for line in f:
                if '"quarantine"' not in line or mac not in line:
                    continue
                e = json.loads(line)
                if (e.get("kind") == "quarantine" and e.get("mac") == mac and e.get("origin") == "detector"
                        and e.get("ts_ms", 0) >= since_ms):
                    return e
    except (OSError, ValueError):
        pass
    return None


def run_attack(w, a, since_ms=None):
    """Starts the attack; returns (quarantine event or None, start ms). Stops the attack once
    caught or after ATTACK_WATCH_S."""
    started = now_ms()
    proc = subprocess.Popen(w.testbed.in_ns(a.device.ns, "timeout", str(a.timeout_s), *a.argv),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    TRACE.append(f"attack {a.name} from {a.device}: {' '.join(a.argv)}")
    try:
        caught = wait_for(lambda: quarantine_event(w, a.device.mac, started), ATTACK_WATCH_S, interval=0.2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return caught, started


def main():
    args = argument_parser(__doc__).parse_args()
    try:
        preflight(args.warden, ["ip", "nsenter", "curl", "iperf3", "nmap", "hping3", "dnsmasq", "nft", "timeout"])
    except Skip as e:
        print(f"SKIP: {e}")
        return 77

    interrupt_on_sigterm()
    test_run = TestbedRun(args.source, "wdd", "det")
    tb, workdir = test_run.testbed, test_run.workdir
    w = None
    results = []

    def report(name, ok, note):
        print(f"{'PASS' if ok else 'FAIL'} {name}: {note}", flush=True)
        results.append(ok)

    benign = None
    try:
        test_run.bring_up(DEVICES, args.keep_testbed)
        w = test_run.make_warden(args.warden, f"/sys/fs/bpf/warden-det-{test_run.prefix}")
        w.write_policy()
        w.start()
        gw4 = tb.env["WD_GW_LAN_IP4"]
        for d in tb.devices:
            check(tb.pings(d.ns, gw4), f"{d} cannot ping the gateway")
        time.sleep(3)  # a few polls: every device has counters and a first sample
        attackers = tb.devices[:4]
        victim = tb.devices[4]
        t0 = now_ms()

        # --- the benign device alone ---
        benign = Benign(tb, victim, BENIGN_SECONDS)
        alone_bps, alone_curls = benign.finish(BENIGN_SECONDS + 30)
        benign = None
        print(f"benign {victim} alone: iperf3 -R {alone_bps / 1e6:.0f} Mbit/s, {alone_curls} curl downloads "
              f"in {BENIGN_SECONDS} s", flush=True)
        check(alone_bps > 0, "the benign download measured nothing")

        # --- attacks, one after another, while the benign device downloads ---
        benign = Benign(tb, victim, ATTACK_PHASE_S)
        attack_t0 = now_ms()
        latencies = {}
        for a in attacks(tb):
            TRACE.clear()
            try:
                caught, started = run_attack(w, a)
                check(caught is not None,
                      f"{a.device} was not quarantined within {ATTACK_WATCH_S:.0f} s of the {a.name}")
                latency = (caught["ts_ms"] - started) / 1000
                latencies[a.name] = latency
                findings = events_since(w, started, "finding", a.device.mac)
                named = [f for f in findings if f.get("detector") == a.detector]
                check(named, f"no {a.detector} finding for {a.device} (findings: "
                             f"{[(f.get('detector'), f.get('evidence')) for f in findings]})")
                f = named[0]
                check(f.get("evidence") and f.get("value", 0) >= f.get("threshold", 1),
                      f"the {a.detector} finding has no evidence or a value below its threshold: {f}")
                check(a.detector in caught.get("reason", "") or any(
                      x.get("detector", "") in caught.get("reason", "") for x in findings),
                      f"the quarantine's reason names no detector: {caught.get('reason')}")
                check(latency <= CAUGHT_WITHIN_S,
                      f"{a.device} quarantined {latency:.1f} s after the {a.name} began (allowed "
                      f"{CAUGHT_WITHIN_S:.0f} s); reason: {caught.get('reason')}")
                report(a.name, True, f"{a.device} quarantined ({caught.get('level')}) {latency:.2f} s after the "
                                     f"attack began; {f['detector']}: {f['evidence']}")
            except Failed as e:
                report(a.name, False, str(e))
                print("  last commands:\n" + "".join(f"    {line}\n" for entry in TRACE for line in entry.splitlines()),
                      end="")
                print("  controller log, last lines:\n" + "".join(
                    f"    {line}\n" for line in w.log().splitlines()[-10:]), end="")

        # The benign download runs its fixed time, through all the attacks.
        attack_end = now_ms()
        whole_bps, during_curls = benign.finish(ATTACK_PHASE_S + 40)
        # The comparison is over the seconds the attacks ran, not the whole download.
        during_bps, seconds = benign.during(attack_t0 / 1000, attack_end / 1000)
        benign = None
        print(f"benign {victim} during the attacks: iperf3 -R {during_bps / 1e6:.0f} Mbit/s over the {seconds} "
              f"one-second intervals the attacks ran in ({whole_bps / 1e6:.0f} Mbit/s over all {ATTACK_PHASE_S} s), "
              f"{during_curls} curl downloads", flush=True)
        share = during_bps / alone_bps
        report("benign throughput", share >= BENIGN_MIN_SHARE,
               f"{victim} downloaded {during_bps / 1e6:.0f} Mbit/s during the attacks, {alone_bps / 1e6:.0f} "
               f"Mbit/s alone ({share:.0%}; at least {BENIGN_MIN_SHARE:.0%} required)")
        q = w.quarantine_entry(victim.mac)
        above = [f for f in events_since(w, t0, "finding", victim.mac) if f.get("action") != "alert"]
        report("benign untouched", q is None and not above,
               f"{victim}: quarantined={q is not None}, findings above alert={[(f.get('detector'), f.get('evidence')) for f in above]}")

        # --- warden alerts ---
        alerts = w.cli_json("alerts")
        alerted = {a["mac"] for a in alerts if a.get("ts_ms", 0) >= attack_t0}
        missing = [str(d) for d in attackers if d.mac not in alerted]
        only_dev1 = w.cli_json("alerts", "--device", attackers[0].mac)
        text = w.cli_ok("alerts", "--since", "10m")
        report("alerts", not missing and only_dev1 and all(a["mac"] == attackers[0].mac for a in only_dev1)
               and attackers[0].mac in text,
               f"{len(alerts)} finding(s) listed; attackers missing: {missing or 'none'}; "
               f"--device lists {len(only_dev1)} for {attackers[0]}")

        # --- false positive: release dev1 as one, then the same scan again ---
        d1 = attackers[0]
        try:
            fp_ms = now_ms()
            out = w.cli_ok("quarantine", "del", d1.mac, "--false-positive")
            check(w.quarantine_entry(d1.mac) is None, f"{d1} still quarantined after del --false-positive")
            fp = wait_for(lambda: events_since(w, fp_ms, "false_positive", d1.mac), 5, interval=0.2)
            check(fp, f"no false_positive event for {d1} (del printed: {out.strip()})")
            check(fp[0].get("detectors"), f"the false_positive event taught no detector: {fp[0]}")
            time.sleep(2)
            caught, started = run_attack(w, attacks(tb)[0])
            check(caught is None, f"{d1} was quarantined again after the false positive: {caught}")
            report("false positive", True, f"{d1} released; learned: {fp[0].get('text')}; the same scan again "
                                           f"was not quarantined")
        except Failed as e:
            report("false positive", False, str(e))

        # --- what the engine learned survives a restart: the taught scan stays unquarantined ---
        try:
            check(w.stop() == 0, "warden run did not exit cleanly on SIGTERM")
            with open(os.path.join(w.state_dir, "engine.json")) as f:
                saved = f.read()
            check(d1.mac in saved, f"engine.json does not hold {d1} after the stop")
            w.start()
            caught, _ = run_attack(w, attacks(tb)[0])
            check(caught is None, f"{d1} was quarantined after the restart: the false positive was forgotten")
            report("learning kept", True, f"engine.json ({len(saved)} bytes) restored; {d1}'s taught scan "
                                          f"stayed unquarantined after the restart")
        except Failed as e:
            report("learning kept", False, str(e))

        # --- a finding names the address it is about as the device looked it up ---
        try:
            scanner = tb.devices[4]  # the benign device, done with its downloads
            looked_up = run(tb.in_ns(scanner.ns, "getent", "ahostsv4", "cdn.inet.test"), timeout=10)
            check(looked_up.returncode == 0 and "198.18.64.10" in looked_up.stdout,
                  f"{scanner} could not look up cdn.inet.test: {looked_up.stdout.strip()} {looked_up.stderr.strip()}")
            time.sleep(2)  # the controller reads the DNS copies at its next poll
            named_ms = now_ms()
            caught, _ = run_attack(w, Attack("nmap one host", scanner, "port_scan",
                                             ["nmap", "-sS", "-n", "-Pn", "-T4", "--max-retries", "0", "-p", "1-1000",
                                              "198.18.64.10"], 20))
            check(caught is not None, f"{scanner} scanning cdn.inet.test was not quarantined")
            scans = [f for f in events_since(w, named_ms, "finding", scanner.mac) if f.get("detector") == "port_scan"]
            check(scans and scans[0].get("peer") == "198.18.64.10" and scans[0].get("peer_name") == "cdn.inet.test"
                  and "198.18.64.10 (cdn.inet.test)" in scans[0].get("evidence", ""),
                  f"the port_scan finding does not name cdn.inet.test: {scans}")
            report("names in findings", True, f"{scanner}: {scans[0]['evidence']}")
        except Failed as e:
            report("names in findings", False, str(e))

        # --- profiles through the running controller: export, merge, import ---
        try:
            exported = os.path.join(workdir, "profiles.json")
            merged = os.path.join(workdir, "merged.json")
            out = json.loads(w.cli_ok("profile", "export", exported, "--json"))
            with open(exported) as f:
                text = f.read()
            types = json.loads(text).get("types")
            check(out.get("types", 0) >= 1 and types, f"profile export wrote no device type: {out}")
            leaked = [x for x in [d.mac for d in tb.devices] + ["198.18.", "fd00:"] if x in text]
            check(not leaked, f"the exported profiles name devices or addresses: {leaked}")
            w.cli_ok("profile", "merge", exported, exported, "-o", merged)
            import_ms = now_ms()
            out = json.loads(w.cli_ok("profile", "import", merged, "--json"))
            check(out.get("imported") is True, f"profile import was not handled by the controller: {out}")
            check(events_since(w, import_ms, "profiles_imported"), "no profiles_imported event after the import")
            report("profiles", True, f"exported {out.get('types')} type(s) with no MAC or address, merged, imported")
        except Failed as e:
            report("profiles", False, str(e))

        if latencies:
            print("detection latencies: " + ", ".join(f"{k} {v:.2f} s" for k, v in latencies.items()))
    except (Failed, KeyboardInterrupt) as e:
        print_setup_failure(e)
        if w is not None and w.log():
            print("  controller log, last lines:\n" + "".join(f"    {line}\n" for line in w.log().splitlines()[-15:]))
        results.append(False)
    except Exception:  # noqa: BLE001 (a bug in the test: report it, clean up)
        print("FAIL (test error):\n" + traceback.format_exc(), flush=True)
        results.append(False)
    finally:
        if benign is not None:
            benign.stop()
        problems = cleanup(tb, w, args.keep_testbed)
        for p in problems:
            print(f"cleanup: {p}")
        shutil.rmtree(workdir, ignore_errors=True)
    ok = results and all(results)
    print(f"{'PASS' if ok else 'FAIL'}: {sum(results)}/{len(results)} checks passed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
