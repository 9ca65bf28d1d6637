#!/usr/bin/python3
"""warden's fleet channel against a real mosquitto broker, on the namespace testbed.

Brings up its own testbed (prefix "wdfl" unless WD_TEST_TESTBED_PREFIX says otherwise), makes a
CA, a broker certificate, gateway certificates (CN gw1, gw2), an operator certificate and the
operator's Ed25519 signing key with openssl, starts mosquitto in the gateway namespace on
127.0.0.1 (mutual TLS, require_certificate, the CN as user name, an ACL that lets a gateway
publish only under its own id and read only its own commands and the broadcasts) and an
operator subscriber (mosquitto_sub), then `warden run` with `fleet:` pointing at the broker.
Scenarios:

  reports    status (retained, "online"), health and inventory reach the operator; a new
             device's event reaches it within 2 s
  commands   a signed quarantine of dev1: acked applied, dev1 cut off; the same command again:
             acked duplicate, not applied twice (one quarantine event); unsigned, wrongly
             signed, expired, malformed and other-gateway commands for dev2: acked rejected or
             expired with the reason, dev2 never quarantined; a signed release: applied
  offline    the broker stopped; quarantines and releases made meanwhile, the controller killed
             with -9 and started again while the broker is away; the broker back: every one of
             those events arrives, in order, with the drop counter 0
  acl        gw2's certificate cannot put a message on gw1's topics (the operator sees none);
             a plain-TCP client is refused by the TLS listener
  blocklist  a signed threat-intel blocklist published once, retained: applied (an event by
             cloud, its version), and not applied again after a restart (same issue time)
  priors     `warden fleet aggregate` takes two homes' camera profiles (each published under its
             own certificate): with --min-homes 3 no prior is published; restarted with 2 it
             publishes the signed prior, retained, and the gateway imports it (by cloud)
  detectors  adjust_detectors: a bad value rejected with its key and nothing written; a good
             one applied (event, detectors.json); taken back with null

Prints "PASS name (seconds)" or "FAIL name: why" per scenario and a summary. Exit 0 when all
pass, 1 when any fails, 77 (SKIP) when the machine cannot run it. Whatever happens, it stops the
controller, the broker and the subscriber it started (by PID), detaches warden, removes its pin
dir and takes its testbed down.

usage: test_fleet.py --warden PATH --source DIR [--only NAME,...] [--keep-testbed]
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardenlib import (Failed, Skip, TRACE, TestbedRun, argument_parser, check, chosen_scenarios,  # noqa: E402
                       interrupt_on_sigterm, preflight, run, run_scenario, summarize, wait_for)

DEVICES = 2
PORT = 18883
TOOLS = ["openssl", "mosquitto", "mosquitto_pub", "mosquitto_sub", "ping", "bpftool", "nsenter"]
REPORT_WITHIN_S = 2.0


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
        for name, cn, san in (("broker", "broker", "IP:127.0.0.1"), ("gw1", "gw1", None), ("gw2", "gw2", None),
                              ("operator", "operator", None)):
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


class Broker:
    """mosquitto in the gateway namespace, on 127.0.0.1:PORT, mutual TLS, with an ACL; and the
    operator's subscriber, writing every message it gets as a JSON line."""

    def __init__(self, tr, pki):
        self.tr = tr
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
                    f"listener {PORT} 127.0.0.1\ncafile {pki.path('ca.pem')}\ncertfile {pki.path('broker.pem')}\n"
                    f"keyfile {pki.path('broker.key')}\nrequire_certificate true\nuse_identity_as_username true\n"
                    f"log_dest file {self.dir}/mosquitto.log\nlog_type all\n")
        self.proc = None
        self.sub = None
        self.sub_out = os.path.join(self.dir, "operator.jsonl")

    def ns(self, *cmd):
        return ["nsenter", f"--net=/var/run/netns/{self.tr.testbed.gw_ns}", *cmd]

    def client(self, name):
        p = self.pki
        return ["-h", "127.0.0.1", "-p", str(PORT), "--cafile", p.path("ca.pem"), "--cert", p.path(f"{name}.pem"),
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
    def __init__(self, tr, warden, broker, pki):
        self.tr = tr
        self.tb = tr.testbed
        self.w = warden
        self.broker = broker
        self.pki = pki
        self.dev = tr.testbed.devices
        self.gw4 = tr.testbed.env["WD_GW_LAN_IP4"]
        self.n = 0

    def reset(self):
        if not self.broker.proc or self.broker.proc.poll() is not None:
            self.broker.start()
        if not self.w.running:
            self.w.start()
        for d in self.dev:
            if self.w.quarantine_entry(d.mac):
                self.w.cli_ok("quarantine", "del", d.mac)

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

    def acks_of(self, cid):
        return [p for _, p in self.broker.received("up/v1/gw1/acks") if p.get("id") == cid]

    def wait_ack(self, cid, count=1, timeout=10):
        acks = wait_for(lambda: len(self.acks_of(cid)) >= count and self.acks_of(cid), timeout)
        check(acks, f"no ack for command {cid} within {timeout} s; acks so far: "
                    f"{[p for _, p in self.broker.received('up/v1/gw1/acks')][-5:]}")
        return acks[count - 1]

    def events(self, kind=None):
        return [p for _, p in self.broker.received("up/v1/gw1/events")
                if kind is None or p.get("event", {}).get("kind") == kind]


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


def offline(ctx):
    d1, d2 = ctx.dev[0], ctx.dev[1]
    seq_before = max([e["seq"] for e in ctx.events()] or [0])
    ctx.broker.stop()
    check(wait_for(lambda: ctx.w.cli_json("fleet", "status").get("connected") is False, 10),
          "warden still says it is connected with the broker stopped")
    t0 = time.monotonic()
    macs = []
    for round_ in range(3):
        for d in (d1, d2):
            ctx.w.cli_ok("quarantine", "add", d.mac, "--reason", f"offline round {round_}")
            ctx.w.cli_ok("quarantine", "del", d.mac)
            macs += [("quarantine", d.mac), ("release", d.mac)]
        if round_ == 1:
            # kill -9 while offline: what waits is on disk.
            time.sleep(0.3)
            ctx.w.stop(signal.SIGKILL)
            ctx.w.start()
    queued = ctx.w.cli_json("fleet", "status")["queue_depth"]
    check(queued >= len(macs), f"only {queued} message(s) queued for {len(macs)} events made offline")
    ctx.broker.start()
    ours = (d1.mac, d2.mac)

    def mine():
        return [(e["event"]["kind"], e["event"]["mac"]) for e in ctx.events()
                if e["seq"] > seq_before and e["event"].get("kind") in ("quarantine", "release")
                and e["event"].get("mac") in ours]
    got = wait_for(lambda: len(mine()) >= len(macs) and mine(), 30)
    check(got, f"{len(mine())} of the {len(macs)} events made offline arrived: {mine()}")
    check(got == macs, f"the offline events arrived as {got}, made as {macs}")
    seqs = [e["seq"] for e in ctx.events() if e["seq"] > seq_before]
    check(seqs == sorted(seqs), f"the events arrived out of order: {seqs[-20:]}")
    fleet = wait_for(lambda: ctx.w.cli_json("fleet", "status").get("connected") and ctx.w.cli_json("fleet", "status"), 15)
    check(fleet and not fleet.get("dropped"), f"dropped: {fleet}")
    check(wait_for(lambda: ctx.w.cli_json("fleet", "status")["queue_depth"] <= 2, 15),
          f"the queue did not drain: {ctx.w.cli_json('fleet', 'status')}")
    return f"{len(macs)} events made offline (a kill -9 among them) arrived in order after {time.monotonic() - t0:.0f} s"


def acl(ctx):
    forged = json.dumps({"v": 1, "gateway": "gw1", "seq": 1, "event": {"kind": "quarantine", "mac": "02:00:00:00:00:99"}})
    ctx.broker.publish("gw2", "up/v1/gw1/events", forged)
    ctx.broker.publish("gw2", "cmd/v1/gw1", "{}")
    time.sleep(1.5)
    check(not [e for e in ctx.events() if e["event"].get("mac") == "02:00:00:00:00:99"],
          "gw2's certificate published on gw1's events topic")
    plain = run(ctx.broker.ns("mosquitto_pub", "-h", "127.0.0.1", "-p", str(PORT), "-t", "up/v1/gw1/events",
                              "-m", "x"), timeout=15)
    check(plain.returncode != 0, "a plain-TCP client was let in by the TLS listener")
    return "gw2 cannot write gw1's topics; plain TCP refused"


def blocklist(ctx):
    b = ctx.pki.sign(ctx.command("replace_blocklist", {"prefixes": [{"prefix": "198.18.250.0/24", "direction": "out"}],
                                                       "version": "intel-7"}, gateway="*"))
    r = ctx.broker.publish("operator", "bcast/v1/blocklist", json.dumps(b), retain=True)
    check(r.returncode == 0, f"publishing the blocklist failed: {r.stderr.strip()}")
    a = ctx.wait_ack(b["id"])
    check(a["result"] == "applied", f"the blocklist was acked {a}")
    replaced = [e for e in ctx.w.events() if e.get("kind") == "blocklist_replaced"]
    check(replaced and replaced[-1].get("version") == "intel-7", f"blocklist_replaced events: {replaced[-1:]}")
    # Retained: a restart receives it again and does not apply it twice.
    ctx.w.stop()
    ctx.w.start()
    time.sleep(3)
    again = [e for e in ctx.w.events() if e.get("kind") == "blocklist_replaced"]
    check(len(again) == len(replaced), f"the retained blocklist was applied again after a restart ({len(again)})")
    ctx.broker.publish("operator", "bcast/v1/blocklist", "", retain=True)  # clear the retained message
    return "applied once, version intel-7"


def fake_profile(gateway):
    doc = {"format": "warden-profiles", "version": 1, "types": {"camera": {"all_day": {}, "hourly": {}}}}
    return json.dumps({"v": 1, "gateway": gateway, "type": "camera", "profiles": doc})


def retained_prior(ctx, type_):
    r = run(ctx.broker.ns("mosquitto_sub", *ctx.broker.client("operator"), "-t", f"bcast/v1/priors/{type_}",
                          "-C", "1", "-W", "2", "--retained-only"), timeout=10)
    return r.stdout.strip()


def aggregate(ctx, min_homes, run_for="6s"):
    p = ctx.pki
    state = os.path.join(ctx.tr.workdir, "aggregate.json")
    proc = subprocess.Popen(ctx.broker.ns(ctx.w.binary, "fleet", "aggregate", "--host", "127.0.0.1", "--port", str(PORT),
                                          "--ca", p.path("ca.pem"), "--cert", p.path("operator.pem"),
                                          "--key", p.path("operator.key"), "--sign-key", p.path("op-sign.key"),
                                          "--types", "camera", "--min-homes", str(min_homes), "--every", "1s",
                                          "--state", state, "--run-for", run_for),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ctx.tr.pid_record.add(proc.pid)
    return proc


def finish(ctx, proc):
    out = proc.communicate(timeout=30)[0]
    ctx.tr.pid_record.remove(proc.pid)
    TRACE.append(f"warden fleet aggregate (exit {proc.returncode}):\n{out[-600:]}")
    check(proc.returncode == 0, f"warden fleet aggregate exited {proc.returncode}: {out[-400:]}")
    return out


def priors(ctx):
    ctx.broker.publish("operator", "bcast/v1/priors/camera", "", retain=True)
    # Two homes' camera profiles, each published under its own certificate (the ACL's rule).
    agg = aggregate(ctx, min_homes=3)
    time.sleep(1.5)
    for gw in ("gw1", "gw2"):
        check(ctx.broker.publish(gw, f"prof/v1/camera/{gw}", fake_profile(gw)).returncode == 0, f"{gw}'s profile")
    out = finish(ctx, agg)
    check("2 profile(s) taken" in out, f"the aggregator did not take both profiles: {out[-300:]}")
    check(retained_prior(ctx, "camera") == "", "a prior was published from 2 homes with --min-homes 3")
    # Restarted with k = 2: its state holds both profiles, and the prior goes out.
    imported_before = len([e for e in ctx.w.events() if e.get("kind") == "profiles_imported"])
    out = finish(ctx, aggregate(ctx, min_homes=2, run_for="4s"))
    prior = retained_prior(ctx, "camera")
    check(prior, f"no retained prior after the aggregator ran with --min-homes 2: {out[-300:]}")
    m = json.loads(prior)
    check(m.get("homes") == 2 and m.get("op") == "import_priors", f"the prior: {prior[:300]}")
    imported = wait_for(lambda: [e for e in ctx.w.events() if e.get("kind") == "profiles_imported"][imported_before:], 10)
    check(imported and "cloud" in str(imported[-1].get("by")), f"the gateway did not import the prior: {imported}")
    ctx.broker.publish("operator", "bcast/v1/priors/camera", "", retain=True)
    return "no prior from 2 homes at k=3; at k=2 published, signed, retained and imported by the gateway"


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


SCENARIOS = [("reports", reports), ("commands", commands), ("offline", offline), ("acl", acl),
             ("blocklist", blocklist), ("priors", priors), ("detectors", detectors)]


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
    results = []
    started = time.monotonic()
    broker = None
    with tr.guarded(results, args.keep_testbed):
        tr.bring_up(DEVICES, args.keep_testbed)
        pki = Pki(os.path.join(tr.workdir, "pki"))
        os.makedirs(pki.dir)
        pki.make()
        broker = Broker(tr, pki)
        broker.start()
        broker.subscribe()
        warden = tr.make_warden(args.warden, f"/sys/fs/bpf/warden-fleet-{tr.prefix}")
        warden.policy_extra = (
            "detectors:\n" + "".join(f"  {d}:\n    action: alert\n"
                                     for d in ("port_scan", "propagation", "flood", "exfiltration", "lateral")) +
            f"fleet:\n  enabled: true\n  host: 127.0.0.1\n  port: {PORT}\n  ca: {pki.path('ca.pem')}\n"
            f"  cert: {pki.path('gw1.pem')}\n  key: {pki.path('gw1.key')}\n  operator_key: {pki.path('op-sign.pub')}\n"
            f"  health_every: 5s\n  inventory_every: 5s\n")
        warden.write_policy()
        warden.start()
        ctx = Context(tr, warden, broker, pki)
        try:
            for name, scenario in SCENARIOS:
                if name in wanted:
                    run_scenario(name, scenario, ctx, results)
        finally:
            warden.stop()
            broker.stop_subscriber()
            broker.stop()
    return summarize(results, tr.problems, tr.workdir, started)


if __name__ == "__main__":
    sys.exit(main())
