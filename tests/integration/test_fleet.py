#!/usr/bin/python3
"""warden's fleet channel against a real mosquitto broker, on two namespace testbeds.

Two gateways, each a `warden run` with its own testbed (its LAN, devices and internet): gw1 on
prefix "wdfl" (or WD_TEST_TESTBED_PREFIX), gw2 on that prefix with "2" appended. The test makes a
CA, a broker certificate, gateway certificates (CN gw1, gw2, and home1-3 for homes that only
publish profiles), an operator certificate and the operator's Ed25519 signing key with openssl,
and starts mosquitto in a namespace of its own (<prefix>-mq) on 198.18.253.1, which each
gateway reaches over a link of its own (mq0): mutual TLS, require_certificate, the CN as user
name, an ACL that lets a gateway publish only under its own id and read only its own commands
and the broadcasts. An operator subscriber (mosquitto_sub) records what comes up. gw2 keeps a
16 kB queue (the smallest budget), gw1 the default; port scans isolate on both.
Scenarios:

  reports    status (retained, "online"), health and inventory reach the operator; a new
             device's event reaches it within 2 s
  commands   a signed quarantine of dev1: acked applied, dev1 cut off; the same command again:
             acked duplicate, not applied twice (one quarantine event); unsigned, wrongly
             signed, expired, malformed and other-gateway commands for dev2: acked rejected or
             expired with the reason, dev2 never quarantined; a signed release: applied
  acl        gw2's certificate cannot put a message on gw1's topics (the operator sees none)
             nor read gw1's commands (gw1's own certificate, subscribed at the same time, gets
             the command gw2's does not); a plain-TCP client is refused by the TLS listener
  blocklist  a signed threat-intel blocklist published once, retained: applied by gw1 (an
             event by cloud, its version in `warden status`), not applied again after a
             restart; gw2, started only afterwards, gets it: its device's pings to the listed
             prefix, answered before, are dropped, those to an address beside it are not
  offline    the broker stopped for 60 s. Behind each gateway a real port scan (findings and a
             quarantine by the detector), then quarantines and releases; gw1's controller
             killed with -9 and started again. The broker back: every event gw1 logged
             meanwhile arrives, in order, and nothing was dropped; gw2's 16 kB queue overflowed
             with health reports and findings: those were dropped and counted by kind (fleet
             status during the outage, a health message after it), while every quarantine and
             release arrives, in order
  priors     `warden fleet aggregate --min-homes 3` takes camera profiles of home1 and home2
             (each under its own certificate): no prior; home3's too: the signed prior, 3
             homes, retained; the same three profiles again: the retained prior unchanged byte
             for byte; gw2's camera (new, typed camera in its policy) scans: the finding's
             evidence says "fleet prior, 3 homes", within a minute of the prior's publication
  detectors  adjust_detectors: a bad value rejected with its key and nothing written; a good
             one applied (event, detectors.json); taken back with null

Prints "PASS name (seconds)" or "FAIL name: why" per scenario, the set-up time and a summary.
Exit 0 when all pass, 1 when any fails, 77 (SKIP) when the machine cannot run it. Whatever
happens, it stops the controllers, the broker and the subscriber it started (by PID),
detaches warden, removes the pin dirs, deletes the broker's namespace and takes both testbeds
down.

usage: test_fleet.py --warden PATH --source DIR [--only NAME,...] [--keep-testbed]
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (Skip, TRACE, TestbedRun, argument_parser, check, chosen_scenarios,  # noqa: E402
                       interrupt_on_sigterm, preflight, run, run_scenario, summarize, wait_for)

DEVICES = 2
PORT = 18883
BROKER_IP = "198.18.253.1"  # on the broker namespace's lo; each gateway has a route to it over mq0
TOOLS = ["openssl", "mosquitto", "mosquitto_pub", "mosquitto_sub", "ping", "bpftool", "nsenter", "nmap"]
REPORT_WITHIN_S = 2.0
OUTAGE_S = 60               # how long the broker is away in the offline scenario
TINY_QUEUE = "16kB"         # gw2's queue budget: the smallest the policy takes
PRIOR_WITHIN_S = 60         # a new camera is judged by a fresh fleet prior within this
HOMES = ("home1", "home2", "home3")
BLOCKED = "198.18.100.0/24"  # in the testbeds' internet target range, which answers pings
BLOCKED_HOST, BESIDE_HOST = "198.18.100.1", "198.18.101.1"
# Event kinds the queue never drops (docs/FLEET.md); everything else may go beyond the budget.
MUST_ARRIVE = {"quarantine", "release", "false_positive", "block_added", "block_removed", "blocklist_replaced",
               "profiles_imported"}


def now_ms():
    return int(time.time() * 1000)


def canonical(message):
    """The bytes the operator signs (docs/FLEET.md): written here with Python's json, so the
    test also proves the form is the one any JSON library writes."""
    body = {k: v for k, v in message.items() if k != "sig"}
    return b"warden-fleet-v1\n" + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=False).encode()


class Pki:
    """Certificates and keys, made by openssl in dir at test time."""

    def __init__(self, d):
        self.dir = d

    def path(self, name):
        return os.path.join(self.dir, name)

    def _ok(self, cmd):
        result = run(cmd, timeout=60)
        check(result.returncode == 0, f"openssl failed: {result.stderr.strip()[:300]}")

    def make(self):
        self._ok(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", self.path("ca.key"), "-out", self.path("ca.pem"), "-days", "2", "-subj", "/CN=warden test CA"])
        clients = [(name, name, None) for name in ("gw1", "gw2", "operator", *HOMES)]
        for name, cn, san in [("broker", "broker", f"IP:{BROKER_IP}"), *clients]:
            self._ok(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", self.path(f"{name}.key"), "-out", self.path(f"{name}.csr"), "-subj", f"/CN={cn}"])
            ext = self.path(f"{name}.ext")
            with open(ext, "w") as f:
                f.write(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
            self._ok(["openssl", "x509", "-req", "-in", self.path(f"{name}.csr"), "-CA", self.path("ca.pem"),
                      "-CAkey", self.path("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext,
                      "-out", self.path(f"{name}.pem")])
        for who in ("op", "forger"):
            self._ok(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.path(f"{who}-sign.key")])
        self._ok(["openssl", "pkey", "-in", self.path("op-sign.key"), "-pubout", "-out", self.path("op-sign.pub")])

    def sign(self, message, key="op-sign.key"):
        msg = self.path("to-sign.bin")
        with open(msg, "wb") as f:
            f.write(canonical(message))
        result = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.path(key), "-in", msg],
                                capture_output=True, timeout=30)
        check(result.returncode == 0, f"openssl pkeyutl -sign failed: {result.stderr.decode()[:300]}")
        signed = dict(message)
        signed["sig"] = base64.b64encode(result.stdout).decode()
        return signed


class BrokerNet:
    """The broker's namespace, <prefix>-mq: BROKER_IP on its lo, and a /30 link to each gateway's
    namespace (mq0 there, with a route to BROKER_IP), apart from the gateways' LANs and WANs."""

    def __init__(self, prefix):
        self.ns = f"{prefix}-mq"
        self.links = 0

    def _ok(self, *cmd):
        result = run(list(cmd))
        check(result.returncode == 0, f"`{' '.join(cmd)}` failed: {result.stderr.strip()}")

    def up(self):
        self.down()  # what an aborted run of this test left (its processes are stopped by then)
        self._ok("ip", "netns", "add", self.ns)
        self._ok("ip", "-n", self.ns, "link", "set", "lo", "up")
        self._ok("ip", "-n", self.ns, "addr", "add", f"{BROKER_IP}/32", "dev", "lo")

    def link(self, gw_ns):
        self.links += 1
        k = self.links
        near, far = f"198.18.252.{4 * k - 3}", f"198.18.252.{4 * k - 2}"
        self._ok("ip", "-n", self.ns, "link", "add", f"gw{k}", "type", "veth", "peer", "name", "mq0", "netns", gw_ns)
        self._ok("ip", "-n", self.ns, "addr", "add", f"{near}/30", "dev", f"gw{k}")
        self._ok("ip", "-n", self.ns, "link", "set", f"gw{k}", "up")
        self._ok("ip", "-n", gw_ns, "addr", "add", f"{far}/30", "dev", "mq0")
        self._ok("ip", "-n", gw_ns, "link", "set", "mq0", "up")
        self._ok("ip", "-n", gw_ns, "route", "add", f"{BROKER_IP}/32", "via", near)

    def down(self):
        """Deletes the namespace (its ends of the links, and so the gateways' mq0, go with it)."""
        if os.path.exists(f"/run/netns/{self.ns}"):
            return run(["ip", "netns", "del", self.ns]).returncode == 0
        return True


class Broker:
    """mosquitto in the broker's namespace, on BROKER_IP:PORT, mutual TLS, with an ACL; and the
    operator's subscriber, writing every message it gets as a JSON line."""

    def __init__(self, tr, net, pki):
        self.tr = tr
        self.net = net
        self.pki = pki
        self.dir = os.path.join(tr.workdir, "broker")
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.acl = os.path.join(self.dir, "acl")
        with open(self.acl, "w") as f:
            # "pattern" lines apply to every user ("topic" lines before the first "user" line
            # only to anonymous clients).
            f.write("pattern read bcast/v1/#\npattern write up/v1/%u/#\npattern write prof/v1/+/%u\n"
                    "pattern read cmd/v1/%u\n\nuser operator\ntopic readwrite #\n")
        with open(self.conf, "w") as f:
            # user root: mosquitto started as root otherwise drops to "mosquitto", who cannot
            # read the test's private work dir.
            f.write(f"user root\nper_listener_settings false\nallow_anonymous false\npersistence true\n"
                    f"persistence_location {self.dir}/\nacl_file {self.acl}\n"
                    f"listener {PORT} {BROKER_IP}\ncafile {pki.path('ca.pem')}\ncertfile {pki.path('broker.pem')}\n"
                    f"keyfile {pki.path('broker.key')}\nrequire_certificate true\nuse_identity_as_username true\n"
                    f"log_dest file {self.dir}/mosquitto.log\nlog_type all\n")
        self.proc = None
        self.sub = None
        self.sub_out = os.path.join(self.dir, "operator.jsonl")

    def ns(self, *cmd):
        return ["nsenter", f"--net=/var/run/netns/{self.net.ns}", *cmd]

    def client(self, name):
        p = self.pki
        return ["-h", BROKER_IP, "-p", str(PORT), "--cafile", p.path("ca.pem"), "--cert", p.path(f"{name}.pem"),
                "--key", p.path(f"{name}.key")]

    def start(self):
        self.proc = subprocess.Popen(self.ns("mosquitto", "-c", self.conf), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.tr.pid_record.add(self.proc.pid)
        TRACE.append(f"started mosquitto (pid {self.proc.pid})")
        check(wait_for(lambda: self.publish("operator", "probe/up", "x").returncode == 0, 10),
              "mosquitto did not take a TLS connection within 10 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
            self.tr.pid_record.remove(self.proc.pid)

    def subscribe(self):
        # A persistent session (-c, QoS 1): what arrives while it reconnects waits for it.
        out = open(self.sub_out, "a")
        self.sub = subprocess.Popen(self.ns("mosquitto_sub", *self.client("operator"), "-i", "operator-sub", "-c",
                                            "-q", "1", "-t", "up/v1/#", "-t", "prof/v1/#", "-F", "%j"),
                                    stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.tr.pid_record.add(self.sub.pid)

    def stop_subscriber(self):
        if self.sub and self.sub.poll() is None:
            self.sub.send_signal(signal.SIGTERM)
            self.sub.wait(timeout=10)
            self.tr.pid_record.remove(self.sub.pid)

    def publish(self, as_who, topic, payload, retain=False):
        return run(self.ns("mosquitto_pub", *self.client(as_who), "-q", "1", "-t", topic, "-m", payload,
                           *(["-r"] if retain else [])), timeout=15)

    def received(self, topic=None):
        """Every message the operator got so far: [(topic, payload as JSON)]."""
        out = []
        try:
            with open(self.sub_out) as f:
                for line in f:
                    try:
                        m = json.loads(line)
                        payload = m.get("payload")
                        out.append((m["topic"], json.loads(payload) if isinstance(payload, str) else payload))
                    except (ValueError, KeyError):
                        continue
        except OSError:
            pass
        return [(t, p) for t, p in out if topic is None or t == topic]


class Context:
    def __init__(self, tr, warden, tr2, warden2, broker, pki):
        self.tr = tr
        self.tb = tr.testbed
        self.w = warden
        self.tb2 = tr2.testbed
        self.w2 = warden2
        self.broker = broker
        self.pki = pki
        self.dev = tr.testbed.devices
        self.dev2 = tr2.testbed.devices
        self.gw4 = tr.testbed.env["WD_GW_LAN_IP4"]
        self.n = 0

    def reset(self):
        if not self.broker.proc or self.broker.proc.poll() is not None:
            self.broker.start()
        if not self.w.running:
            self.w.start()
        for w, devices in ((self.w, self.dev), (self.w2, self.dev2)):
            if w.running:
                for d in devices:
                    if w.quarantine_entry(d.mac):
                        w.cli_ok("quarantine", "del", d.mac)

    def gw2_running(self):
        if not self.w2.running:
            self.w2.start()
        check(wait_for(lambda: self.w2.cli_json("fleet", "status").get("connected"), 15),
              f"gw2 did not connect to the broker: {self.w2.cli_json('fleet', 'status')}")

    def command(self, op, args, **over):
        self.n += 1
        m = {"v": 1, "id": f"cmd-{os.getpid()}-{self.n}-{now_ms()}", "gateway": "gw1", "issued_ms": now_ms(),
             "expires_ms": now_ms() + 300_000, "op": op, "args": args}
        m.update(over)
        return m

    def send(self, message):
        payload = message if isinstance(message, str) else json.dumps(message)
        r = self.broker.publish("operator", "cmd/v1/gw1", payload)
        check(r.returncode == 0, f"mosquitto_pub failed: {r.stderr.strip()}")

    def acks_of(self, cid, gw="gw1"):
        return [p for _, p in self.broker.received(f"up/v1/{gw}/acks") if p.get("id") == cid]

    def wait_ack(self, cid, count=1, timeout=10, gw="gw1"):
        acks = wait_for(lambda: len(self.acks_of(cid, gw)) >= count and self.acks_of(cid, gw), timeout)
        check(acks, f"no ack from {gw} for command {cid} within {timeout} s; acks so far: "
                    f"{[p for _, p in self.broker.received(f'up/v1/{gw}/acks')][-5:]}")
        return acks[count - 1]

    def events(self, kind=None, gw="gw1"):
        return [p for _, p in self.broker.received(f"up/v1/{gw}/events")
                if kind is None or p.get("event", {}).get("kind") == kind]

    def events_after(self, seq, gw):
        """The events of gw the operator got with a seq above `seq`, each once (delivery is at
        least once: a repeat has a seq already seen), in the order they arrived."""
        seen, out = set(), []
        for e in self.events(gw=gw):
            if e["seq"] > seq and e["seq"] not in seen:
                seen.add(e["seq"])
                out.append(e)
        return out


def event_key(e):
    return (e.get("kind"), e.get("mac"), e.get("ts_ms"))


def reports(ctx):
    status = wait_for(lambda: [p for _, p in ctx.broker.received("up/v1/gw1/status") if p.get("state") == "online"], 10)
    check(status, "no retained status \"online\" for gw1 reached the operator")
    health = wait_for(lambda: ctx.broker.received("up/v1/gw1/health"), 10)
    check(health and "health" in health[-1][1] and "fleet" in health[-1][1], f"no health message: {health}")
    inventory = wait_for(lambda: ctx.broker.received("up/v1/gw1/inventory"), 10)
    check(inventory and isinstance(inventory[-1][1].get("devices"), list), f"no inventory message: {inventory}")
    # A device talking for the first time: its event reaches the operator within 2 s.
    before = len(ctx.events("new_device"))
    dev = ctx.dev[1]
    had = any(e["event"]["mac"] == dev.mac for e in ctx.events("new_device"))
    sent = time.monotonic()
    ctx.tb.pings(dev.ns, ctx.gw4, count=2)
    if not had:
        arrived = wait_for(lambda: [e for e in ctx.events("new_device") if e["event"]["mac"] == dev.mac], 5)
        took = time.monotonic() - sent
        check(arrived, f"the new_device event of {dev} did not reach the operator ({before} before)")
        check(took <= REPORT_WITHIN_S + 1.5, f"the new_device event took {took:.1f} s (pings included)")
    # `warden status` shows the channel.
    st = ctx.w.cli_json("fleet", "status")
    check(st.get("connected") is True, f"warden fleet status says: {st}")
    return f"status, health, inventory, events; warden fleet status shows {st['broker']}"


def commands(ctx):
    d1, d2 = ctx.dev[0], ctx.dev[1]
    check(ctx.tb.pings(d1.ns, ctx.gw4), f"{d1} cannot reach the gateway before the test")
    q = ctx.pki.sign(ctx.command("quarantine", {"mac": d1.mac, "level": "isolate", "reason": "operator: C2 seen"}))
    ctx.send(q)
    a = ctx.wait_ack(q["id"])
    check(a["result"] == "applied", f"the quarantine was acked {a}")
    check(ctx.w.kernel_quarantine(d1.mac) is not None, f"{d1} is not in the kernel's quarantine map")
    check(not ctx.tb.pings(d1.ns, ctx.gw4), f"{d1} still reaches the gateway after the operator's quarantine")
    entry = ctx.w.quarantine_entry(d1.mac)
    check(entry and entry.get("by") == "cloud:cmd:" + q["id"], f"the quarantine's record: {entry}")

    # The same command delivered again: acked duplicate, applied once.
    ctx.send(q)
    dup = ctx.wait_ack(q["id"], count=2)
    check(dup["result"] == "duplicate" and dup.get("first") == "applied", f"the redelivery was acked {dup}")
    quarantines = [e for e in ctx.w.events() if e.get("kind") == "quarantine" and e.get("mac") == d1.mac
                   and "cmd:" + q["id"] in str(e.get("by"))]
    check(len(quarantines) == 1, f"the command was applied {len(quarantines)} times")

    # Bad commands for dev2: each acked with its reason, dev2 never quarantined.
    bad = []
    unsigned = ctx.command("quarantine", {"mac": d2.mac})
    bad.append((unsigned, "rejected", "unsigned"))
    forged = ctx.pki.sign(ctx.command("quarantine", {"mac": d2.mac}), key="forger-sign.key")
    bad.append((forged, "rejected", "bad signature"))
    tampered = ctx.pki.sign(ctx.command("quarantine", {"mac": d1.mac}))
    tampered["args"]["mac"] = d2.mac
    bad.append((tampered, "rejected", "bad signature"))
    expired = ctx.pki.sign(ctx.command("quarantine", {"mac": d2.mac}, issued_ms=now_ms() - 120_000,
                                       expires_ms=now_ms() - 60_000))
    bad.append((expired, "expired", "expired"))
    other = ctx.pki.sign(ctx.command("quarantine", {"mac": d2.mac}, gateway="gw2"))
    bad.append((other, "rejected", "gw2"))
    unknown = ctx.pki.sign(ctx.command("detach", {}))
    bad.append((unknown, "rejected", "unknown operation"))
    for message, result, why in bad:
        ctx.send(message)
        a = ctx.wait_ack(message["id"])
        check(a["result"] == result and why in a.get("reason", ""),
              f"command {message['id']} ({why}) was acked {a}")
    ctx.send("{this is not json")
    check(wait_for(lambda: [p for _, p in ctx.broker.received("up/v1/gw1/acks")
                            if p.get("id") is None and "malformed" in p.get("reason", "")], 10),
          "a malformed command got no \"rejected: malformed\" ack")
    check(ctx.w.quarantine_entry(d2.mac) is None, f"{d2} was quarantined by a bad command")
    check(ctx.w.kernel_quarantine(d2.mac) is None, f"{d2} is in the kernel's quarantine map")

    r = ctx.pki.sign(ctx.command("release", {"mac": d1.mac, "false_positive": True}))
    ctx.send(r)
    a = ctx.wait_ack(r["id"])
    check(a["result"] == "applied", f"the release was acked {a}")
    check(wait_for(lambda: ctx.tb.pings(d1.ns, ctx.gw4), 5), f"{d1} does not reach the gateway after the release")
    return f"applied, duplicate, {len(bad) + 1} bad commands rejected with their reasons, released"


def acl(ctx):
    forged = json.dumps({"v": 1, "gateway": "gw1", "seq": 1, "event": {"kind": "quarantine", "mac": "02:00:00:00:00:99"}})
    ctx.broker.publish("gw2", "up/v1/gw1/events", forged)
    ctx.broker.publish("gw2", "cmd/v1/gw1", "{}")
    # gw2's certificate reading gw1's commands: subscribed beside gw1's own certificate, which
    # must get the command (else the subscriptions were not up yet and the check proves nothing).
    probe = f"acl-probe-{os.getpid()}-{now_ms()}"  # not JSON: gw1 acks it malformed, nothing changes
    readers = {who: subprocess.Popen(ctx.broker.ns("mosquitto_sub", *ctx.broker.client(who), "-V", "mqttv5",
                                                   "-t", "cmd/v1/gw1", "-C", "1", "-W", "6"),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for who in ("gw1", "gw2")}
    time.sleep(1.5)
    ctx.send(probe)
    got = {who: p.communicate(timeout=20)[0] for who, p in readers.items()}
    TRACE.append(f"subscribed to cmd/v1/gw1: as gw1 got {got['gw1'].strip()[:200]!r}, as gw2 {got['gw2'].strip()[:200]!r}")
    check(probe in got["gw1"], f"gw1's certificate did not receive its own command: {got['gw1'][:200]!r}")
    check(probe not in got["gw2"], "gw2's certificate read a command meant for gw1")
    check(not [e for e in ctx.events() if e["event"].get("mac") == "02:00:00:00:00:99"],
          "gw2's certificate published on gw1's events topic")
    plain = run(ctx.broker.ns("mosquitto_pub", "-h", BROKER_IP, "-p", str(PORT), "-t", "up/v1/gw1/events",
                              "-m", "x"), timeout=15)
    check(plain.returncode != 0, "a plain-TCP client was let in by the TLS listener")
    denied = "denied" in got["gw2"].lower()
    return f"gw2 cannot write gw1's topics nor read its commands ({'subscription denied' if denied else 'nothing delivered'}); plain TCP refused"


def blocklist_shown(w):
    """The operator blocklist's version as `warden status --json` and the text say it."""
    version = w.cli_json("status").get("blocklist", {}).get("operator_version")
    text = w.cli_ok("status")
    return version, next((line for line in text.splitlines() if line.startswith("operator's blocklist:")), "")


def blocklist(ctx):
    if ctx.w2.running:  # (when scenarios run in another order) gw2 must connect after the publication
        ctx.w2.stop()
    b = ctx.pki.sign(ctx.command("replace_blocklist", {"prefixes": [{"prefix": BLOCKED, "direction": "out"}],
                                                       "version": "intel-7"}, gateway="*"))
    r = ctx.broker.publish("operator", "bcast/v1/blocklist", json.dumps(b), retain=True)
    check(r.returncode == 0, f"publishing the blocklist failed: {r.stderr.strip()}")
    a = ctx.wait_ack(b["id"])
    check(a["result"] == "applied", f"the blocklist was acked {a}")
    replaced = [e for e in ctx.w.events() if e.get("kind") == "blocklist_replaced"]
    check(replaced and replaced[-1].get("version") == "intel-7", f"blocklist_replaced events: {replaced[-1:]}")
    version, line = blocklist_shown(ctx.w)
    check(version == "intel-7" and "version intel-7" in line, f"gw1's warden status shows {version!r}, {line!r}")

    # gw2 connects only now. Before, its device reaches the listed prefix and the address beside it.
    d = ctx.dev2[1]
    probes = [(d.ns, BLOCKED_HOST), (d.ns, BESIDE_HOST)]
    answered = ctx.tb2.pings_many(probes)
    check(all(answered.values()), f"before gw2 runs, {d} does not reach the internet's test addresses: {answered}")
    ctx.gw2_running()
    a2 = ctx.wait_ack(b["id"], gw="gw2")
    check(a2["result"] == "applied", f"gw2 acked the retained blocklist {a2}")
    answered = ctx.tb2.pings_many(probes)
    check(not answered[probes[0]], f"{d} behind gw2 still reaches {BLOCKED_HOST}, in the operator's blocklist")
    check(answered[probes[1]], f"{d} behind gw2 no longer reaches {BESIDE_HOST}, beside the blocklist")
    version2, line2 = blocklist_shown(ctx.w2)
    check(version2 == "intel-7" and "version intel-7" in line2, f"gw2's warden status shows {version2!r}, {line2!r}")

    # Retained: a restart receives it again and does not apply it twice.
    ctx.w.stop()
    ctx.w.start()
    time.sleep(3)
    again = [e for e in ctx.w.events() if e.get("kind") == "blocklist_replaced"]
    check(len(again) == len(replaced), f"the retained blocklist was applied again after a restart ({len(again)})")
    ctx.broker.publish("operator", "bcast/v1/blocklist", "", retain=True)  # clear the retained message
    return "gw1 applied it once; gw2, connected later, drops pings to it; both show version intel-7"


def scan(tb, device, target_range="198.18.64.1-4"):
    """A fast SYN scan of 300 ports, bounded: what the port_scan detector must catch."""
    run(tb.in_ns(device.ns, "nmap", "-sS", "-n", "-Pn", "-T4", "--max-retries", "0", "--host-timeout", "8s",
                 "-p", "1-300", target_range), timeout=20)


def offline(ctx):
    ctx.gw2_running()
    d1, d2 = ctx.dev[0], ctx.dev[1]
    e1, e2 = ctx.dev2[0], ctx.dev2[1]
    seq1 = max([e["seq"] for e in ctx.events(gw="gw1")] or [0])
    seq2 = max([e["seq"] for e in ctx.events(gw="gw2")] or [0])
    health2 = max([p["seq"] for _, p in ctx.broker.received("up/v1/gw2/health")] or [0])
    since = now_ms()
    ctx.broker.stop()
    t0 = time.monotonic()
    for w in (ctx.w, ctx.w2):
        check(wait_for(lambda: w.cli_json("fleet", "status").get("connected") is False, 10),
              "a gateway still says it is connected with the broker stopped")

    # A real port scan behind each gateway: findings and a quarantine by the detector, released by hand.
    scans = [(ctx.w, ctx.tb, d1), (ctx.w2, ctx.tb2, e2)]
    threads = [threading.Thread(target=scan, args=(tb, d)) for _, tb, d in scans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w, _, d in scans:
        caught = wait_for(lambda: w.quarantine_entry(d.mac), 8)
        check(caught and caught.get("by") == "detector", f"the scan of {d} was not quarantined by the detector: {caught}")
        # As a false positive: the engine learns it, so the scan's 10 min count does not
        # quarantine the device again while the rounds below use it.
        w.cli_ok("quarantine", "del", d.mac, "--false-positive")
    scanned = time.monotonic()
    for round_ in range(3):
        for w, devices in ((ctx.w, (d1, d2)), (ctx.w2, (e1, e2))):
            for d in devices:
                w.cli_ok("quarantine", "add", d.mac, "--reason", f"offline round {round_}")
                w.cli_ok("quarantine", "del", d.mac)
        if round_ == 1:
            # kill -9 while offline: what waits is on disk. Routine events (the finding) are
            # written at most every 5 s, quarantines at once: wait out the batch.
            time.sleep(max(0.3, 5.5 - (time.monotonic() - scanned)))
            ctx.w.stop(signal.SIGKILL)
            ctx.w.start()
    queued = ctx.w.cli_json("fleet", "status")["queue_depth"]
    check(queued >= 12, f"only {queued} message(s) queued on gw1 for the events made offline")

    # The rest of the outage: gw2's health reports overflow its 16 kB queue.
    dropped = {}
    while time.monotonic() - t0 < OUTAGE_S:
        dropped = ctx.w2.cli_json("fleet", "status").get("dropped") or {}
        time.sleep(1)
    check(dropped, f"gw2 dropped nothing in {OUTAGE_S} s with a {TINY_QUEUE} queue: "
                   f"{ctx.w2.cli_json('fleet', 'status')}")
    kept = [k for k in dropped if k.removeprefix("event:") in MUST_ARRIVE or k == "ack"]
    check(not kept, f"gw2 dropped records that must arrive: {dropped}")
    ctx.broker.start()
    outage = time.monotonic() - t0

    # gw1: every event it logged meanwhile arrives, in order; nothing dropped.
    local1 = [event_key(e) for e in ctx.w.events() if e.get("ts_ms", 0) >= since and e.get("kind") not in ("start", "stop")]
    check(any(k[0] == "finding" for k in local1) and any(k[0] == "quarantine" for k in local1),
          f"gw1 logged no finding or quarantine while offline: {local1}")

    def arrived1():
        return [event_key(e["event"]) for e in ctx.events_after(seq1, "gw1") if e["event"].get("ts_ms", 0) >= since]
    got = wait_for(lambda: arrived1()[:len(local1)] == local1 and arrived1(), 30)
    check(got, f"gw1's events made offline arrived as {arrived1()}, logged as {local1}")
    fleet = wait_for(lambda: ctx.w.cli_json("fleet", "status").get("connected") and ctx.w.cli_json("fleet", "status"), 15)
    check(fleet and not fleet.get("dropped"), f"gw1 dropped: {fleet}")

    # gw2: every quarantine and release arrives, in order; what was dropped is reported.
    local2 = [event_key(e) for e in ctx.w2.events() if e.get("ts_ms", 0) >= since and e.get("kind") in MUST_ARRIVE]

    def arrived2():
        return [event_key(e["event"]) for e in ctx.events_after(seq2, "gw2")
                if e["event"].get("kind") in MUST_ARRIVE and e["event"].get("ts_ms", 0) >= since]
    got2 = wait_for(lambda: arrived2()[:len(local2)] == local2 and arrived2(), 30)
    check(got2 and len(local2) >= 12, f"gw2's quarantines made offline arrived as {arrived2()}, logged as {local2}")
    reported = wait_for(lambda: [p["fleet"]["dropped"] for _, p in ctx.broker.received("up/v1/gw2/health")
                                 if p["seq"] > health2 and p.get("fleet", {}).get("dropped")], 15)
    check(reported, "no health message of gw2 after the outage reports what it dropped")
    check(wait_for(lambda: ctx.w.cli_json("fleet", "status")["queue_depth"] <= 2, 15),
          f"gw1's queue did not drain: {ctx.w.cli_json('fleet', 'status')}")
    return (f"{outage:.0f} s away; gw1: {len(local1)} events (a finding, a kill -9 among them) arrived in order, "
            f"0 dropped; gw2: {len(local2)} quarantines/releases arrived in order, dropped {reported[-1]}")


def quiet_camera_profile(ctx):
    """A camera profile of 3,000 quiet 10 s windows, as a home's gateway would publish it. Its
    features are those of a baseline warden itself wrote (gw1's engine state), so the test
    names none of them."""
    def baselines():
        ctx.tb.pings(ctx.dev[0].ns, ctx.gw4)  # a device the engine knows
        ctx.w.cli_ok("profile", "export", os.path.join(ctx.tr.workdir, "gw1-profiles.json"))  # writes engine.json
        with open(os.path.join(ctx.w.state_dir, "engine.json")) as f:
            return [d["baseline"] for d in json.load(f)["devices"]]
    shapes = wait_for(baselines, 10, interval=1)
    check(shapes, "gw1's engine state holds no device's baseline")
    shape = shapes[0]
    quiet = {"all_day": {key: [3000, "0", "0", [0, 3000]] for key in shape["all_day"]},
             "hourly": {key: [[125, "0", "0", [0, 125]] for _ in range(24)] for key in shape["hourly"]}}
    return {"format": "warden-profiles", "version": 1, "types": {"camera": quiet}}


def retained_prior(ctx, type_):
    r = run(ctx.broker.ns("mosquitto_sub", *ctx.broker.client("operator"), "-t", f"bcast/v1/priors/{type_}",
                          "-C", "1", "-W", "2", "--retained-only"), timeout=10)
    return r.stdout.strip()


def aggregate(ctx, min_homes, run_for):
    p = ctx.pki
    state = os.path.join(ctx.tr.workdir, "aggregate.json")
    proc = subprocess.Popen(ctx.broker.ns(ctx.w.binary, "fleet", "aggregate", "--host", BROKER_IP, "--port", str(PORT),
                                          "--ca", p.path("ca.pem"), "--cert", p.path("operator.pem"),
                                          "--key", p.path("operator.key"), "--sign-key", p.path("op-sign.key"),
                                          "--types", "camera", "--min-homes", str(min_homes), "--every", "1s",
                                          "--state", state, "--run-for", run_for),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ctx.tr.pid_record.add(proc.pid)
    return proc


def finish(ctx, proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=30)[0]
    ctx.tr.pid_record.remove(proc.pid)
    TRACE.append(f"warden fleet aggregate (exit {proc.returncode}):\n{out[-600:]}")
    check(proc.returncode == 0, f"warden fleet aggregate exited {proc.returncode}: {out[-400:]}")
    return out


def priors(ctx):
    ctx.gw2_running()
    camera = ctx.dev2[0]
    ctx.broker.publish("operator", "bcast/v1/priors/camera", "", retain=True)
    quiet = quiet_camera_profile(ctx)
    profiles = {home: json.dumps({"v": 1, "gateway": home, "type": "camera", "profiles": quiet}) for home in HOMES}
    agg = aggregate(ctx, min_homes=3, run_for="60s")
    try:
        time.sleep(1.5)  # subscribed
        # Two homes' camera profiles, each published under its own certificate (the ACL's rule).
        for home in HOMES[:2]:
            check(ctx.broker.publish(home, f"prof/v1/camera/{home}", profiles[home]).returncode == 0, f"{home}'s profile")
        time.sleep(2.5)
        check(retained_prior(ctx, "camera") == "", "a prior was published from 2 homes with --min-homes 3")
        check(ctx.broker.publish(HOMES[2], f"prof/v1/camera/{HOMES[2]}", profiles[HOMES[2]]).returncode == 0,
              f"{HOMES[2]}'s profile")
        prior = wait_for(lambda: retained_prior(ctx, "camera"), 10)
        published = time.monotonic()
        check(prior, "no retained prior once 3 homes sent their profiles")
        m = json.loads(prior)
        check(m.get("homes") == 3 and m.get("op") == "import_priors", f"the prior: {prior[:300]}")
        imported = wait_for(lambda: [e for e in ctx.w2.events() if e.get("kind") == "profiles_imported"
                                     and "bcast:" + m["id"] in str(e.get("by"))], 10)
        check(imported, "gw2 did not import the prior")

        # gw2's new camera looks up its cloud, as cameras do (what makes warden identify a device:
        # the policy's type is applied to an identified one), then scans: judged by the prior.
        lookup = run(ctx.tb2.in_ns(camera.ns, "getent", "ahostsv4", "cloud.example.test"), timeout=15)
        check(lookup.returncode == 0, f"{camera} could not look up its cloud: {lookup.stderr.strip()}")
        typed = wait_for(lambda: (ctx.w2.device(camera.mac) or {}).get("identity") or None, 5)
        check(typed and typed.get("type") == "camera", f"gw2 does not know {camera} as a camera: {typed}")
        scan(ctx.tb2, camera)
        evidence = wait_for(lambda: [e.get("normal_from", "") for e in ctx.w2.events()
                                     if e.get("kind") == "finding" and e.get("mac") == camera.mac
                                     and "fleet prior, 3 homes" in e.get("evidence", "")], 10)
        took = time.monotonic() - published
        findings = [(e.get("detector"), e.get("evidence")) for e in ctx.w2.events()
                    if e.get("kind") == "finding" and e.get("mac") == camera.mac]
        check(evidence, f"no finding of gw2's camera names the fleet prior: {findings[-3:]}")
        check(took <= PRIOR_WITHIN_S, f"the camera was judged by the prior {took:.0f} s after its publication")

        # The same profiles delivered again: the retained prior stays byte for byte the same
        # (the aggregator republishes only a prior whose merge changed).
        for home in HOMES:
            check(ctx.broker.publish(home, f"prof/v1/camera/{home}", profiles[home]).returncode == 0, f"{home}'s profile again")
        time.sleep(2.5)  # more than the aggregator's --every
        again = retained_prior(ctx, "camera")
        check(again == prior, f"redelivered profiles changed the retained prior:\n  {prior[:200]}\n  {again[:200]}")
    finally:
        out = finish(ctx, agg)
    check("6 profile(s) taken" in out, f"the aggregator did not take all six profiles: {out[-300:]}")
    ctx.broker.publish("operator", "bcast/v1/priors/camera", "", retain=True)
    return (f"no prior from 2 homes at k=3; from 3: signed, retained, imported by gw2; its new camera judged by "
            f"\"{evidence[-1]}\" {took:.0f} s after; 3 redelivered profiles left the prior byte for byte the same")


def detectors(ctx):
    """adjust_detectors: applied and recorded as an event and in the state dir; a bad value
    rejects the whole adjustment with the key named; null takes it back."""
    path = os.path.join(ctx.w.state_dir, "detectors.json")
    bad = ctx.pki.sign(ctx.command("adjust_detectors",
                                   {"settings": json.dumps({"lateral": {"peers": 3}, "flood": {"frames_per_second": 0}})}))
    ctx.send(bad)
    a = ctx.wait_ack(bad["id"])
    check(a["result"] == "rejected" and "detectors.flood.frames_per_second" in a.get("reason", ""),
          f"a bad adjustment was acked {a}")
    check(not os.path.exists(path), "a rejected adjustment wrote detectors.json")
    good = ctx.pki.sign(ctx.command("adjust_detectors", {"settings": json.dumps({"flood": {"frames_per_second": 4000}})}))
    ctx.send(good)
    a = ctx.wait_ack(good["id"])
    check(a["result"] == "applied", f"the adjustment was acked {a}")
    with open(path) as f:
        check(json.load(f)["settings"] == {"flood": {"frames_per_second": 4000}}, f"{path} holds the wrong settings")
    check(wait_for(lambda: [e for e in ctx.events("detectors_adjusted") if good["id"] in str(e["event"].get("by"))], 5),
          "no detectors_adjusted event reached the operator")
    back = ctx.pki.sign(ctx.command("adjust_detectors", {"settings": json.dumps({"flood": None})}))
    ctx.send(back)
    check(ctx.wait_ack(back["id"])["result"] == "applied" and not os.path.exists(path), "null did not take it back")
    return "bad value rejected with its key, nothing written; applied, event sent, kept on disk; taken back with null"


SCENARIOS = [("reports", reports), ("commands", commands), ("acl", acl), ("blocklist", blocklist),
             ("offline", offline), ("priors", priors),
             ("detectors", detectors)]


def bring_up_together(runs, keep_testbed):
    """Brings the testbeds up at once (each is seconds of namespaces, daemons and DHCP);
    raises the first one's error."""
    errors = []

    def up(t):
        try:
            t.bring_up(DEVICES, keep_testbed)
        except BaseException as e:  # noqa: BLE001 (handed to the main thread)
            errors.append(e)
    threads = [threading.Thread(target=up, args=(t,)) for t in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def fleet_policy(pki, gateway, extra=""):
    return ("detectors:\n  port_scan:\n    action: isolate\n" +
            "".join(f"  {d}:\n    action: alert\n" for d in ("propagation", "flood", "exfiltration", "lateral")) +
            f"fleet:\n  enabled: true\n  host: {BROKER_IP}\n  port: {PORT}\n  ca: {pki.path('ca.pem')}\n"
            f"  cert: {pki.path(gateway + '.pem')}\n  key: {pki.path(gateway + '.key')}\n"
            f"  operator_key: {pki.path('op-sign.pub')}\n  health_every: 5s\n  inventory_every: 5s\n"
            # Back within 2 s of the broker's return (60 s by default: the outage would cost twice).
            f"  reconnect_max: 2s\n{extra}")


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
    tr = TestbedRun(args.source, "wdfl", "fleet")
    tr2 = TestbedRun(args.source, "wdfl", "fleet", prefix=tr.prefix[:7] + "2")
    results, problems = [], []
    started = time.monotonic()
    net = BrokerNet(tr.prefix)
    with tr.guarded(results, args.keep_testbed), tr2.guarded(results, args.keep_testbed):
        bring_up_together((tr, tr2), args.keep_testbed)
        net.up()
        for t in (tr, tr2):
            net.link(t.testbed.gw_ns)
        pki = Pki(os.path.join(tr.workdir, "pki"))
        os.makedirs(pki.dir)
        pki.make()
        broker = Broker(tr, net, pki)
        broker.start()
        broker.subscribe()
        warden = tr.make_warden(args.warden, f"/sys/fs/bpf/warden-fleet-{tr.prefix}")
        warden.policy_extra = fleet_policy(pki, "gw1")
        warden.write_policy()
        warden2 = tr2.make_warden(args.warden, f"/sys/fs/bpf/warden-fleet-{tr2.prefix}")
        camera = tr2.testbed.devices[0]
        warden2.policy_extra = (f"devices:\n  - mac: {camera.mac}\n    name: Hall camera\n    type: camera\n" +
                                fleet_policy(pki, "gw2", f"  queue_size: {TINY_QUEUE}\n"))
        warden2.write_policy()
        warden.start()
        ctx = Context(tr, warden, tr2, warden2, broker, pki)
        print(f"set up in {time.monotonic() - started:.1f} s (two testbeds, the broker's namespace, certificates, "
              f"mosquitto, gw1)", flush=True)
        try:
            for name, scenario in SCENARIOS:
                if name in wanted:
                    run_scenario(name, scenario, ctx, results)
        finally:
            warden.stop()
            warden2.stop()
            broker.stop_subscriber()
            broker.stop()
            if not net.down():
                problems.append(f"could not delete namespace {net.ns}")
    code = summarize(results, problems + tr.problems + tr2.problems, tr.workdir, started)
    if code == 0:
        shutil.rmtree(tr2.workdir, ignore_errors=True)
    else:
        print(f"gw2's logs kept in {tr2.workdir}")
    return code


if __name__ == "__main__":
    sys.exit(main())
