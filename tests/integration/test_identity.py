#!/usr/bin/python3
"""Device identity on the namespace testbed (issue 4, integration test).

Brings up its own testbed (prefix "wdid" unless WD_TEST_TESTBED_PREFIX says otherwise) with 3
devices, whose dhclient sends host name devK and vendor class warden-testbed-K. Runs `warden
run` in the gateway namespace with a policy whose identity.device_types is a rules file this
test writes:

    vendor class ^warden-testbed-1$  -> camera  (dev1)
    host name    ^dev2$              -> speaker (dev2)
    DNS name     ^cdn\\.inet\\.test$   -> tv      (dev3 looks it up)

and the policy names dev2 "Kitchen speaker" (no type: the rules decide). Then each device
renews its lease (a second dhclient with the testbed's dhclient.conf) and looks names up
through the gateway's DNS, and dev1 fetches http://cloud.example.test/health. Requirements:

  devices   `warden devices --json`: host name, vendor class, DHCP fingerprint, leased
            address, random MAC, looked-up names and type of each device; the table shows them
  explain   `warden devices --explain dev1` names the rule (its file line) and the winner, as
            text and JSON; an unknown MAC exits 1, a bad one exits 2
  flows     `warden flows --json` shows peer_name cloud.example.test on dev1's HTTP flow
  restart   after stop and start, the identities (and types) are still there

Prints "PASS name" or "FAIL name: why" per requirement. Exit 0 when all pass, 1 when any
fails, 77 (SKIP) when the machine cannot run it. Whatever happens, it stops the controllers it
started (by PID), detaches warden, removes its pin dir and takes its testbed down.
Hold /tmp/wd-testbed.lock while running it by hand (ctest runs it RUN_SERIAL).

usage: test_identity.py --warden PATH --source DIR [--keep-testbed] [--show]
  --show  print the `warden devices`, `--explain` and `warden flows` output (for the README)
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (TRACE, Skip, TestbedRun, argument_parser, check, interrupt_on_sigterm,  # noqa: E402
                       preflight, run, run_scenario, summarize, wait_for)

DEVICES = 3
PEER_NAME = "cloud.example.test"  # served by the testbed's inet DNS, an address in its target range
RULES = """# device-type rules of tests/integration/test_identity.py
types: [camera, speaker, tv, plug, thermostat, hub, phone, laptop, printer, console, unknown]
min_score: 20
rules:
  - {type: camera, weight: 40, vendor_class: "^warden-testbed-1$"}
  - {type: speaker, weight: 30, hostname: "^dev2$"}
  - {type: tv, weight: 25, dns_name: "^cdn\\\\.inet\\\\.test$"}
"""
CAMERA_RULE_LINE = 5  # the line of the vendor-class rule above
# What each device looks up (through the gateway), and the type it should end up with.
LOOKUPS = {1: [PEER_NAME, "www.inet.test"], 2: ["www.inet.test"], 3: ["cdn.inet.test"]}
TYPES = {1: "camera", 2: "speaker", 3: "tv"}


class Context:
    def __init__(self, testbed, warden, workdir, show):
        self.tb = testbed
        self.w = warden
        self.workdir = workdir
        self.dev = testbed.devices
        self.show = show
        self.rules_path = os.path.join(workdir, "device-types.yaml")

    def renew_lease(self, device):
        """A second dhclient on the device's eth0, with the testbed's dhclient.conf (host name,
        vendor class, parameter request list) and a copy of its lease file, so it asks the
        gateway to confirm the lease (DHCPREQUEST, DHCPACK) as the device does after a restart.
        Its hook only records what dhclient reports (the device's address stays as it is); it
        is killed (no DHCPRELEASE) once the answer is in."""
        device_dir = os.path.join(self.tb.state_dir, device.name)
        leases = os.path.join(self.workdir, f"{device.name}-renew.leases")
        shutil.copy(os.path.join(device_dir, "dhclient.leases"), leases)
        hook_log = os.path.join(self.workdir, f"{device.name}-renew-hook.log")
        hook = os.path.join(self.workdir, f"{device.name}-renew-hook.sh")
        with open(hook, "w") as f:  # (dhclient gives its hook an environment of its own)
            f.write(f'#!/bin/sh\necho "$reason ${{new_ip_address:-}}" >> {hook_log}\nexit 0\n')
        os.chmod(hook, 0o755)
        if os.path.exists(hook_log):
            os.remove(hook_log)
        dhclient = subprocess.Popen(self.tb.in_ns(device.ns, "dhclient", "-4", "-d", "-cf",
                                                  os.path.join(device_dir, "dhclient.conf"), "-lf", leases, "-pf",
                                                  os.path.join(self.workdir, f"{device.name}-renew.pid"), "-sf", hook,
                                                  self.tb.env["WD_DEV_IF"]),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def bound():
            try:
                with open(hook_log) as f:
                    return any(line.split()[:2] in (["BOUND", device.ip4], ["REBOOT", device.ip4],
                                                    ["RENEW", device.ip4]) for line in f)
            except OSError:
                return False
        try:
            renewed = wait_for(bound, 10, interval=0.1)
        finally:
            dhclient.kill()  # ip netns exec became dhclient: this PID is the dhclient we started
            dhclient.wait()
        TRACE.append(f"{device.name} renewed its lease: {bool(renewed)}")
        check(renewed, f"{device}'s DHCP request was not answered within 10 s")

    def look_up(self, device, name):
        result = run(self.tb.in_ns(device.ns, "getent", "ahostsv4", name), timeout=15)
        check(result.returncode == 0 and result.stdout.split(),
              f"{device} could not resolve {name} through the gateway: {result.stderr.strip() or 'no answer'}")
        return result.stdout.split()[0]

    def identity_of(self, device):
        entry = self.w.device(device.mac)
        check(entry is not None, f"warden devices --json does not list {device}")
        return entry

    def wait_identity(self, want, timeout=15):
        """Waits until every device's `warden devices --json` entry satisfies want(device, entry)
        (True or a string saying what is missing); returns the entries."""
        last = {}

        def all_there():
            entries = {d["mac"]: d for d in self.w.cli_json("devices")}
            for dev in self.dev:
                entry = entries.get(dev.mac)
                verdict = want(dev, entry) if entry else f"{dev} is not listed"
                if verdict is not True:
                    last["why"] = verdict
                    return None
            return entries
        entries = wait_for(all_there, timeout, interval=0.5)
        check(entries is not None, f"within {timeout} s: {last.get('why')}")
        return entries

    def printed(self, title, text):
        if self.show:
            print(f"---- {title}\n{text.rstrip()}\n----", flush=True)


def complete_identity(dev, entry):
    """True when the entry says all the test made the device say, else what is missing."""
    ident = entry.get("identity") or {}
    if entry.get("hostname") != dev.name:
        return f"{dev}: hostname {entry.get('hostname')!r}, expected {dev.name!r}"
    if ident.get("vendor_class") != f"warden-testbed-{dev.k}":
        return f"{dev}: vendor class {ident.get('vendor_class')!r}, expected 'warden-testbed-{dev.k}'"
    missing = [n for n in LOOKUPS[dev.k] if n not in ident.get("dns_names", [])]
    if missing:
        return f"{dev}: looked-up names {ident.get('dns_names')} lack {missing}"
    if entry.get("type") != TYPES[dev.k]:
        return f"{dev}: type {entry.get('type')!r}, expected {TYPES[dev.k]!r} ({entry.get('type_reason')})"
    return True


# ----------------------------------------------------------------------------------------------

def step_devices(t):
    for dev in t.dev:
        t.renew_lease(dev)
    for dev in t.dev:
        for name in LOOKUPS[dev.k]:
            t.look_up(dev, name)
    entries = t.wait_identity(complete_identity)
    for dev in t.dev:
        entry = entries[dev.mac]
        ident = entry["identity"]
        # dhclient.conf asks for subnet mask (1), broadcast (28), routers (3), DNS (6), lease time (51)
        fingerprint = ident.get("dhcp_fingerprint") or ""
        check(set(fingerprint.split(",")) >= {"1", "3", "6", "28", "51"},
              f"{dev}: DHCP fingerprint {fingerprint!r} lacks what its dhclient.conf requests (1,28,3,6,51)")
        check(ident.get("leased_ip4") == dev.ip4, f"{dev}: leased address {ident.get('leased_ip4')!r}, not {dev.ip4}")
        check(ident.get("random_mac") is True and entry.get("random_mac") is True,
              f"{dev}: {dev.mac} is locally administered, yet random_mac is {ident.get('random_mac')!r}")
        check(ident.get("type_source") == "rules", f"{dev}: type source {ident.get('type_source')!r}, not rules")
        check(entry.get("type_reason") and "rules: score" in entry["type_reason"],
              f"{dev}: type_reason {entry.get('type_reason')!r} does not say which rules scored")
    check(entries[t.dev[1].mac]["name"] == "Kitchen speaker",
          f"dev2's name is {entries[t.dev[1].mac]['name']!r}, not the policy's 'Kitchen speaker'")
    check(entries[t.dev[0].mac]["name"] == "dev1",
          f"dev1's name is {entries[t.dev[0].mac]['name']!r}, not its host name (the policy does not name it)")

    t.printed("warden devices --json (dev1)", json.dumps(entries[t.dev[0].mac], indent=2))
    table = t.w.cli_ok("devices")
    t.printed("warden devices", table)
    header = table.splitlines()[0].split()
    for column in ("VENDOR", "TYPE", "NAME"):
        check(column in header, f"the devices table has no {column} column: {table.splitlines()[0]}")
    for dev in t.dev:
        row = next((line for line in table.splitlines() if line.startswith(dev.mac)), "")
        check(TYPES[dev.k] in row.split() and "(random MAC)" in row,
              f"the devices table row of {dev} does not show type {TYPES[dev.k]} and '(random MAC)': {row!r}")
    width = max(len(line) for line in table.splitlines())
    check(width <= 120, f"the devices table is {width} columns wide")
    return f"{DEVICES} devices: host names, vendor classes, fingerprints, leases, names, types; table {width} wide"


def step_explain(t):
    d1 = t.dev[0]
    e = t.w.cli_json("devices", "--explain", d1.mac)
    check(e.get("type") == "camera" and e.get("decided_by") == "rules",
          f"--explain says type {e.get('type')!r} decided by {e.get('decided_by')!r}, expected camera by rules")
    matched = e["rules"]["matched"]
    rule = next((m for m in matched if m["field"] == "vendor_class"), None)
    check(rule is not None, f"--explain lists no vendor_class rule: {matched}")
    check(rule["line"] == CAMERA_RULE_LINE and rule["value"] == "warden-testbed-1" and rule["weight"] == 40
          and rule["type"] == "camera",
          f"--explain's vendor-class rule is {rule}, expected line {CAMERA_RULE_LINE}, warden-testbed-1, camera +40")
    check(e["rules"]["file"] == t.rules_path, f"--explain names rules file {e['rules']['file']}, not {t.rules_path}")
    facts = {f["fact"]: f for f in e["facts"]}
    check(facts["hostname"]["value"] == "dev1" and "DHCP option 12" in facts["hostname"]["source"],
          f"--explain's hostname fact is {facts['hostname']}")
    check(PEER_NAME in facts["dns_names"]["value"], f"--explain's looked-up names lack {PEER_NAME}: {facts['dns_names']}")

    text = t.w.cli_ok("devices", "--explain", d1.mac)
    t.printed(f"warden devices --explain {d1.mac}", text)
    for words in ("type: camera (by the rules", "warden-testbed-1", "/^warden-testbed-1$/", "winner: camera",
                  "DHCP option 60"):
        check(words in text, f"`warden devices --explain` does not say {words!r}:\n{text}")

    unknown = t.w.cli("devices", "--explain", "02:00:00:00:99:99")
    check(unknown.returncode == 1 and "no device 02:00:00:00:99:99" in unknown.stderr,
          f"--explain of an unknown MAC: exit {unknown.returncode}, {unknown.stderr.strip()!r} (expected 1, no device)")
    bad = t.w.cli("devices", "--explain", "not-a-mac")
    check(bad.returncode == 2 and "not a MAC address" in bad.stderr,
          f"--explain of a bad MAC: exit {bad.returncode}, {bad.stderr.strip()!r} (expected 2, not a MAC address)")
    return f"rule at line {rule['line']} named; unknown MAC exit 1, bad MAC exit 2"


def step_flows(t):
    d1 = t.dev[0]
    address = t.look_up(d1, PEER_NAME)
    result = run(t.tb.in_ns(d1.ns, "curl", "-4", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                            f"http://{PEER_NAME}/health"), timeout=15)
    check(result.stdout.strip() == "200", f"dev1 could not fetch http://{PEER_NAME}/health ({address}): "
                                          f"{result.stdout.strip()} {result.stderr.strip()}")

    def named_flow():
        flows = t.w.cli_json("flows", "--device", d1.mac, "--top", "0")
        return next((f for f in flows if f["remote"] == address and f["remote_port"] == 80
                     and f.get("peer_name") == PEER_NAME), None)
    flow = wait_for(named_flow, 12, interval=0.5)  # names.json is rewritten every 5 s
    check(flow is not None, f"warden flows --json has no flow of dev1 to {address}:80 with peer_name {PEER_NAME}: "
                            f"{[(f['remote'], f['remote_port'], f.get('peer_name')) for f in t.w.cli_json('flows')]}")
    table = t.w.cli_ok("flows", "--device", d1.mac)
    t.printed(f"warden flows --device {d1.mac}", table)
    check("PEER NAME" in table.splitlines()[0] and any(PEER_NAME in line and address in line
                                                       for line in table.splitlines()),
          f"the flows table does not show {PEER_NAME} next to {address}:\n{table}")
    return f"{address}:80 named {PEER_NAME}"


def step_restart(t):
    code = t.w.stop(signal.SIGTERM)
    check(code == 0, f"warden run exited {code} on SIGTERM")
    t.w.start()
    entries = t.wait_identity(complete_identity, timeout=10)
    return "identities and types came back from the inventory: " + ", ".join(
        f"{d.name} {entries[d.mac]['type']}" for d in t.dev)


STEPS = [("devices", step_devices), ("explain", step_explain), ("flows", step_flows), ("restart", step_restart)]


# ----------------------------------------------------------------------------------------------

TOOLS = ["ip", "nsenter", "tc", "ping", "curl", "iperf3", "dhclient", "getent", "dnsmasq", "nft"]


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    try:
        preflight(args.warden, TOOLS)
    except Skip as e:
        print(f"SKIP: {e}")
        return 77

    interrupt_on_sigterm()
    test_run = TestbedRun(args.source, "wdid", "it")
    testbed, workdir = test_run.testbed, test_run.workdir
    results = []
    started = time.monotonic()
    with test_run.guarded(results, args.keep_testbed):
        test_run.bring_up(DEVICES, args.keep_testbed)
        warden = test_run.make_warden(args.warden, f"/sys/fs/bpf/warden-test-{test_run.prefix}")
        ctx = Context(testbed, warden, workdir, args.show)
        with open(ctx.rules_path, "w") as f:
            f.write(RULES)
        d2 = testbed.devices[1]
        warden.write_policy(warden.policy_text(
            f"identity:\n  ieee_data: /usr/share/ieee-data\n  device_types: {ctx.rules_path}\n"
            f"devices:\n  - mac: {d2.mac}\n    name: Kitchen speaker\n"))
        warden.start()
        for name, step in STEPS:
            run_scenario(name, step, ctx, results, reset=False)
            if not results[-1][1] and not warden.running:
                break  # the later steps need the controller
    return summarize(results, test_run.problems, workdir, started)


if __name__ == "__main__":
    sys.exit(main())
