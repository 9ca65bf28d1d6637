"""Helpers for warden's integration tests on the namespace testbed (scripts/testbed.sh).

Standard library only; run with /usr/bin/python3. Four things live here:
  - run(): every command a test runs, bounded by a timeout and remembered for the failure report;
  - Testbed: `testbed.sh up|down|env` for one prefix, and the addresses of its devices;
  - Warden: one controller (`warden run` inside the gateway namespace) and the CLI around it;
  - what every test's main() does around its scenarios: preflight() (or Skip), TestbedRun
    (its testbed, work dir and controllers, set up and always cleaned up), run_scenario(),
    summarize().
A scenario states a requirement with check(); a broken requirement raises Failed with the
reason, and the runner prints it with the last commands and the controller's log.
"""

import argparse
import collections
import contextlib
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import traceback


class Failed(Exception):
    """A requirement did not hold; the message says which and with what values."""


class Skip(Exception):
    """The machine cannot run the test (not root, a tool missing): exit 77, never a pass."""


def check(condition, message):
    if not condition:
        raise Failed(message)


# The last commands and what they printed, shown when a scenario fails.
TRACE = collections.deque(maxlen=12)


def _short(text, limit=600):
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit // 2] + "\n  ...\n" + text[-limit // 2:]


def run(cmd, timeout=30, input=None):
    """Runs cmd (a list) to completion within timeout seconds; never raises on a non-zero exit."""
    started = time.monotonic()
    try:
        result = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        TRACE.append(f"$ {shlex.join(cmd)}\n  timed out after {timeout} s")
        raise Failed(f"`{shlex.join(cmd)}` did not finish within {timeout} s") from e
    TRACE.append(f"$ {shlex.join(cmd)}  (exit {result.returncode}, {time.monotonic() - started:.1f} s)\n"
                 + "".join(f"  {line}\n" for line in _short(result.stdout + result.stderr).splitlines()))
    return result


def wait_for(predicate, timeout, interval=0.05):
    """Polls predicate until it returns something true; returns it, or None when time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def require_tools(tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise Skip(f"missing tools: {' '.join(missing)} (scripts/install-deps.sh installs them)")


def tcp_wire_bytes(payload, mss, mtu):
    """Bytes a TCP transfer of `payload` bytes puts on the Ethernet wire.

    A full segment carries mss payload bytes in a frame of 14 (Ethernet) + mtu bytes, so each
    segment costs 14 + (mtu - mss) header bytes: Ethernet 14, IPv4 20, TCP 20 and the 12 bytes
    of timestamp option Linux sends on every segment (iperf3's tcp_mss_default is the socket's
    MSS after options, 1448 with a 1500 MTU: 66 header bytes a frame). A bulk sender fills every
    segment but the last, so segments = ceil(payload / mss). No FCS: XDP and tc see frames
    without it.
    """
    return payload + math.ceil(payload / mss) * (14 + mtu - mss)


UDP_FRAME_OVERHEAD = 14 + 20 + 8  # Ethernet, IPv4, UDP headers around each iperf3 datagram


# One-way UDP probes (Testbed.udp_probes): a listener that counts datagrams for a while, and a
# sender. Small programs for the system python, run inside the namespaces.
_UDP_PROBE_PORT = 9100
_UDP_LISTENER = """
import socket, sys, time
addr, port, listen_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
print("ready", file=sys.stderr, flush=True)
deadline, received = time.monotonic() + listen_s, 0
while (left := deadline - time.monotonic()) > 0:
    s.settimeout(left)
    try:
        received += s.recv(64) == b"warden-probe"
    except socket.timeout:
        break
print(received)
"""
_UDP_SENDER = """
import socket, sys, time
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(count):
    try:
        s.sendto(b"warden-probe", (addr, port))
    except OSError:
        pass  # e.g. no neighbour entry: the datagram is lost, which the listener reports
    time.sleep(0.02)
"""


class Device:
    def __init__(self, env, k):
        self.k = k
        self.name = f"dev{k}"
        self.ns = env[f"WD_DEV_NS_{k}"]
        self.mac = env[f"WD_DEV_MAC_{k}"]
        self.ip4 = env[f"WD_DEV_IP4_{k}"]
        self.ip6 = env[f"WD_DEV_IP6_{k}"]
        self.iperf_port = int(env[f"WD_DEV_IPERF_PORT_{k}"])

    def __repr__(self):
        return f"{self.name} ({self.mac})"


class Testbed:
    """One testbed, named by its prefix; every command it runs names that prefix."""

    def __init__(self, script, prefix):
        self.script = script
        self.prefix = prefix
        self.env = {}
        self.devices = []

    def _testbed(self, *args, timeout):
        environment = dict(os.environ, WD_TESTBED_PREFIX=self.prefix)
        environment.pop("WD_TESTBED_STATE_DIR", None)
        started = time.monotonic()
        try:
            result = subprocess.run(["bash", self.script, *args], env=environment, capture_output=True,
                                    text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise Failed(f"testbed.sh {' '.join(args)} did not finish within {timeout} s") from e
        TRACE.append(f"$ WD_TESTBED_PREFIX={self.prefix} testbed.sh {' '.join(args)}  "
                     f"(exit {result.returncode}, {time.monotonic() - started:.1f} s)\n"
                     + "".join(f"  {line}\n" for line in _short(result.stdout + result.stderr).splitlines()))
        return result

    def up(self, devices):
        result = self._testbed("up", "--devices", str(devices), timeout=400)
        check(result.returncode == 0, f"testbed.sh up failed:\n{_short(result.stdout + result.stderr)}")
        result = self._testbed("env", timeout=30)
        check(result.returncode == 0, f"testbed.sh env failed: {result.stderr.strip()}")
        for line in result.stdout.splitlines():
            name, _, value = line.partition("=")
            self.env[name] = " ".join(shlex.split(value))  # values are shell-quoted (%q)
        self.devices = [Device(self.env, k) for k in range(1, int(self.env["WD_DEVICES"]) + 1)]

    def down(self):
        return self._testbed("down", timeout=120).returncode == 0

    @property
    def gw_ns(self):
        return self.env["WD_GW_NS"]

    @property
    def inet_ns(self):
        return self.env["WD_INET_NS"]

    @property
    def lan_ifs(self):
        return self.env["WD_LAN_IFS"].split()

    @property
    def state_dir(self):
        return self.env["WD_STATE_DIR"]

    @property
    def gw_lan_mac(self):
        result = run(["ip", "-n", self.gw_ns, "-j", "link", "show", "dev", self.env["WD_LAN_BRIDGE"]])
        check(result.returncode == 0, f"cannot read the MAC of the gateway's bridge: {result.stderr.strip()}")
        return json.loads(result.stdout)[0]["address"]

    def in_ns(self, ns, *cmd):
        # `ip netns exec` gives the namespace its own /etc/resolv.conf; it hides bpffs, which
        # nothing run this way needs.
        return ["ip", "netns", "exec", ns, *cmd]

    def pings(self, ns, target, count=1, wait=1, interval=0.2):
        """True if at least one of `count` echo requests from ns to target is answered."""
        result = run(self.in_ns(ns, "ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", str(wait),
                                target), timeout=count * (interval + wait) + 5)
        return result.returncode == 0

    def pings_many(self, probes, count=2, wait=1):
        """Runs several ping probes (ns, target) at once; returns {probe: answered}."""
        procs = {p: subprocess.Popen(self.in_ns(p[0], "ping", "-n", "-q", "-c", str(count), "-i", "0.2",
                                                  "-W", str(wait), p[1]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for p in probes}
        answered = {}
        for probe, proc in procs.items():
            try:
                answered[probe] = proc.wait(timeout=count * (0.2 + wait) + 5) == 0
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                answered[probe] = False
        TRACE.append("pings: " + ", ".join(f"{ns}->{t}: {'answered' if a else 'no answer'}"
                                           for (ns, t), a in answered.items()))
        return answered

    def udp_probes(self, probes, count=5, listen_s=1.5):
        """One-way probes: for each (from_ns, to_ns, to_addr), sends `count` UDP datagrams from
        from_ns to a listener on to_addr in to_ns, all probes at once. Nothing is sent back, so a
        probe tells one direction from the other (a ping needs both). Returns the number of
        datagrams each listener received."""
        listeners = []
        for i, (_, to_ns, to_addr) in enumerate(probes):
            proc = subprocess.Popen(self.in_ns(to_ns, "/usr/bin/python3", "-c", _UDP_LISTENER, to_addr,
                                               str(_UDP_PROBE_PORT + i), str(listen_s)),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            listeners.append(proc)
        try:
            for proc in listeners:  # each says "ready" on stderr once bound; the count comes on stdout
                line = proc.stderr.readline().strip()
                check(line == "ready", f"a UDP probe listener did not start: {line[:300]}")
            senders = [subprocess.Popen(self.in_ns(from_ns, "/usr/bin/python3", "-c", _UDP_SENDER, to_addr,
                                                   str(_UDP_PROBE_PORT + i), str(count)),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for i, (from_ns, _, to_addr) in enumerate(probes)]
            for proc in senders:
                proc.wait(timeout=10)
            received = [int(proc.communicate(timeout=listen_s + 10)[0].strip() or -1) for proc in listeners]
        finally:
            for proc in listeners:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        TRACE.append("udp probes: " + ", ".join(f"{f}->{t} {a}: {n}/{count}"
                                                for (f, t, a), n in zip(probes, received)))
        return received

    def mtu(self, device):
        result = run(["ip", "-n", device.ns, "-j", "link", "show", "dev", self.env["WD_DEV_IF"]])
        check(result.returncode == 0, f"cannot read the MTU of {device}: {result.stderr.strip()}")
        return int(json.loads(result.stdout)[0]["mtu"])


class PidRecord:
    """The controllers a test run started, one PID a line in a file named after the testbed
    prefix, so that the next run can stop what a killed run left behind (ctest's timeout kills
    the test, not the controller in its own session). A PID counts only while its command line
    still names `marker` (the run's work dir pattern): a recycled PID is never signalled."""

    def __init__(self, path, marker):
        self.path = path
        self.marker = marker

    def _pids(self):
        try:
            with open(self.path) as f:
                return [int(line) for line in f if line.strip().isdigit()]
        except OSError:
            return []

    def _write(self, pids):
        if pids:
            with open(self.path, "w") as f:
                f.write("".join(f"{p}\n" for p in pids))
        elif os.path.exists(self.path):
            os.remove(self.path)

    def add(self, pid):
        self._write(self._pids() + [pid])

    def remove(self, pid):
        self._write([p for p in self._pids() if p != pid])

    def is_ours(self, pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return self.marker.encode() in f.read()
        except OSError:
            return False

    def stop_leftovers(self):
        """SIGTERM, then SIGKILL, to every recorded PID that is still ours; returns them."""
        stopped = [p for p in self._pids() if self.is_ours(p)]
        for pid in stopped:
            os.kill(pid, signal.SIGTERM)
        for pid in stopped:
            if not wait_for(lambda: not self.is_ours(pid), 5, interval=0.1):
                os.kill(pid, signal.SIGKILL)
        self._write([])
        return stopped


class Warden:
    """One warden controller on the testbed and the CLI that talks to it.

    The controller runs in the gateway namespace (it attaches to the gateway's ports); its pins
    live in the root bpffs, so it is started with nsenter, which keeps the host's /sys. CLI
    commands that only open pins and the state dir run in the root namespace.
    """

    def __init__(self, binary, testbed, workdir, pin_dir, pid_record):
        self.binary = binary
        self.pid_record = pid_record
        self.testbed = testbed
        self.workdir = workdir
        self.pin_dir = pin_dir
        self.state_dir = os.path.join(workdir, "state")
        self.policy = os.path.join(workdir, "policy.yaml")
        self.proc = None
        self.starts = 0
        self.log_path = None
        self.policy_extra = ""  # appended to every policy this object writes (a test's own keys)

    def policy_text(self, extra=""):
        lans = ", ".join(self.testbed.lan_ifs)
        return (f"# written by tests/integration/test_controller.py\n"
                f"interfaces:\n  wan: {self.testbed.env['WD_WAN_IF']}\n  lan: [{lans}]\n"
                f"interval: 1s\n"
                f"paths:\n  pin_dir: {self.pin_dir}\n  state_dir: {self.state_dir}\n{self.policy_extra}{extra}")

    def write_policy(self, text=None):
        with open(self.policy, "w") as f:
            f.write(self.policy_text() if text is None else text)

    def gw_cmd(self, *cmd):
        return ["nsenter", f"--net=/var/run/netns/{self.testbed.gw_ns}", *cmd]

    # --- the controller -----------------------------------------------------------------------

    def start(self, timeout=20):
        """Starts `warden run` and waits until it polls; returns the text it logged while starting."""
        check(self.proc is None or self.proc.poll() is not None, "start(): a controller is already running")
        self.starts += 1
        self.log_path = os.path.join(self.workdir, f"warden-run-{self.starts}.log")
        log = open(self.log_path, "w")
        # start_new_session: a Ctrl-C meant for the test does not reach the controller first;
        # the test stops it itself, by PID.
        self.proc = subprocess.Popen(self.gw_cmd(self.binary, "run", "-c", self.policy), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.pid_record.add(self.proc.pid)
        TRACE.append(f"started warden run (pid {self.proc.pid}), log {self.log_path}")
        if not wait_for(lambda: "running: polling" in self.log() or self.proc.poll() is not None, timeout):
            self.stop(signal.SIGKILL)
            raise Failed(f"warden run did not start polling within {timeout} s; log:\n{_short(self.log())}")
        if self.proc.poll() is not None:
            self.pid_record.remove(self.proc.pid)
            raise Failed(f"warden run exited with {self.proc.returncode} while starting; log:\n{_short(self.log())}")
        # The first poll writes the status snapshot; status and reload read it.
        wait_for(lambda: os.path.exists(os.path.join(self.state_dir, "status.json")), 5)
        return self.log()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals our controller (by its PID) and waits for it; returns its exit code."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failed(f"warden run (pid {self.proc.pid}) ignored signal {sig} for {timeout} s")
        finally:
            if self.proc.poll() is not None:
                self.pid_record.remove(self.proc.pid)

    # --- the CLI --------------------------------------------------------------------------------

    def cli(self, *args, timeout=30, in_gw=False, config=True):
        cmd = [self.binary, *(["-c", self.policy] if config else []), *args]
        return run(self.gw_cmd(*cmd) if in_gw else cmd, timeout=timeout)

    def cli_ok(self, *args, **kw):
        result = self.cli(*args, **kw)
        check(result.returncode == 0, f"`warden {' '.join(args)}` exited {result.returncode}: "
                                      f"{_short(result.stderr or result.stdout, 400)}")
        return result.stdout

    def cli_json(self, *args, **kw):
        text = self.cli_ok(*args, "--json", **kw)
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise Failed(f"`warden {' '.join(args)} --json` printed something that is not JSON ({e}): "
                         f"{_short(text, 300)}")

    def device(self, mac):
        """The `warden devices --json` entry of mac, or None."""
        return next((d for d in self.cli_json("devices") if d["mac"] == mac), None)

    def counters(self, mac):
        d = self.device(mac)
        check(d is not None, f"warden devices does not list {mac}")
        return d["up"]["bytes"], d["down"]["bytes"]

    def quarantine_entry(self, mac):
        return next((q for q in self.cli_json("quarantine", "list") if q["mac"] == mac), None)

    def kernel_quarantine(self, mac):
        """dev's entry in the pinned quarantine map as the kernel holds it, read with bpftool
        (not with warden): {"level", "expires_ns", ...} of CPU 0, or None. expires_ns is
        CLOCK_MONOTONIC, as Python's time.monotonic_ns()."""
        result = run(["bpftool", "-j", "map", "dump", "pinned", os.path.join(self.pin_dir, "wd_quarantine")])
        check(result.returncode == 0, f"bpftool cannot dump the quarantine map: {result.stderr.strip()}")
        want = [int(x, 16) for x in mac.split(":")]
        for entry in json.loads(result.stdout):
            formatted = entry.get("formatted")
            check(formatted is not None, "bpftool printed the quarantine map without BTF field names")
            if formatted["key"]["mac"] == want:
                return formatted["values"][0]["value"]
        return None

    def events(self):
        return [json.loads(line) for line in self.cli_ok("events", "--last", "0", "--json").splitlines() if line.strip()]

    def detach(self):
        # In the gateway namespace: detach looks for its tc filters on that namespace's interfaces.
        return self.cli("detach", in_gw=True)


# --- what every integration test does around its scenarios ---------------------------------------

def preflight(warden_binary, tools):
    """Raises Skip unless this machine can run a testbed test: root, the test's tools, the
    warden binary, bpffs and network namespaces."""
    if os.geteuid() != 0:
        raise Skip("needs root (network namespaces, BPF)")
    require_tools(tools)
    if not os.access(warden_binary, os.X_OK):
        raise Skip(f"no warden binary at {warden_binary} (build the `warden` target)")
    with open("/proc/mounts") as f:
        if not any(line.split()[1:3] == ["/sys/fs/bpf", "bpf"] for line in f):
            raise Skip("no bpf filesystem at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)")
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        raise Skip("this machine does not allow network namespaces")


def argument_parser(doc):
    """The options every testbed test takes; a test adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--warden", required=True, help="the warden binary")
    parser.add_argument("--source", required=True, help="the source tree (for scripts/testbed.sh)")
    parser.add_argument("--keep-testbed", action="store_true",
                        help="reuse a testbed that is up and leave it up (for development)")
    return parser


def chosen_scenarios(parser, only, names):
    """The scenario names --only picks (all of them without it); an unknown name is a usage error."""
    wanted = only.split(",") if only else names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; there are {', '.join(names)}")
    return wanted


def interrupt_on_sigterm():
    """ctest's timeout sends SIGTERM: turn it into KeyboardInterrupt so the test's cleanup runs."""
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)


class TestbedRun:
    """What one run of a testbed test owns: the testbed of its prefix (WD_TEST_TESTBED_PREFIX,
    else the test's default), a work dir and the record of the controllers it starts. `kind`
    names the test's files: /tmp/warden-<kind>-<prefix>-*, /run/warden-<kind>-<prefix>.pids."""

    def __init__(self, source, default_prefix, kind, prefix=None):
        # `prefix`: a test's second testbed, named after its first one's.
        self.prefix = prefix or os.environ.get("WD_TEST_TESTBED_PREFIX", default_prefix)
        self.testbed = Testbed(os.path.join(source, "scripts", "testbed.sh"), self.prefix)
        self.workdir = tempfile.mkdtemp(prefix=f"warden-{kind}-{self.prefix}-")
        self.pid_record = PidRecord(f"/run/warden-{kind}-{self.prefix}.pids",
                                    os.path.join(tempfile.gettempdir(), f"warden-{kind}-{self.prefix}-"))
        self.warden = None  # made by make_warden, stopped and detached by the cleanup
        self.problems = []  # what the cleanup of guarded() could not do

    def bring_up(self, devices, keep_testbed):
        """Stops what an aborted run of this test left (its controllers, its testbed unless
        keep_testbed) and brings the testbed up with `devices` devices."""
        for pid in self.pid_record.stop_leftovers():
            print(f"stopped warden run (pid {pid}) left by an aborted run of this test")
        if not keep_testbed:
            self.testbed.down()  # this prefix only
        print(f"testbed {self.prefix}: up ({devices} devices) ...", flush=True)
        self.testbed.up(devices)

    def make_warden(self, binary, pin_dir):
        """A Warden on this testbed pinning under pin_dir, with the pins an aborted run left removed."""
        self.warden = Warden(os.path.abspath(binary), self.testbed, self.workdir, pin_dir, self.pid_record)
        if os.path.exists(self.warden.pin_dir):
            self.warden.detach()
            shutil.rmtree(self.warden.pin_dir, ignore_errors=True)
        return self.warden

    @contextlib.contextmanager
    def guarded(self, results, keep_testbed):
        """Runs the body of a test: a Failed or an interrupt (ctest's timeout) in it is a failed
        "setup", any other exception a "test error" (both appended to results, with the trace);
        whatever happens, cleanup() runs and self.problems holds what it could not do."""
        try:
            yield
        except (Failed, KeyboardInterrupt) as e:
            print_setup_failure(e)
            results.append(("setup", False))
        except Exception:  # noqa: BLE001 (a bug in the test itself: report it, clean up)
            print("FAIL (test error):\n" + traceback.format_exc(), flush=True)
            results.append(("test error", False))
        finally:
            self.problems = cleanup(self.testbed, self.warden, keep_testbed)
            for p in self.problems:
                print(f"cleanup: {p}")


def cleanup(testbed, warden, keep_testbed):
    """Stops the controller, detaches warden, removes its pin dir and takes the testbed down
    (unless keep_testbed); goes on whatever fails and returns what did, as text."""
    problems = []
    if warden is not None:
        try:
            if warden.running:
                warden.stop(signal.SIGTERM)
        except Exception as e:  # noqa: BLE001 (cleanup goes on whatever failed)
            problems.append(f"stopping warden: {e}")
        try:
            if os.path.exists(warden.pin_dir) and testbed.env:
                result = warden.detach()
                if result.returncode != 0:
                    problems.append(f"warden detach: {result.stderr.strip()}")
        except Exception as e:  # noqa: BLE001
            problems.append(f"warden detach: {e}")
        if os.path.isdir(warden.pin_dir):  # e.g. the gateway namespace is already gone
            shutil.rmtree(warden.pin_dir, ignore_errors=True)
            if os.path.exists(warden.pin_dir):
                problems.append(f"could not remove {warden.pin_dir}")
    if not keep_testbed and not testbed.down():
        problems.append("testbed.sh down failed")
    return problems


def print_failure(name, error, warden):
    """FAIL line of a scenario, with the last commands and the controller's last log lines."""
    print(f"FAIL {name}: {error}", flush=True)
    print("  last commands:\n" + "".join(f"    {line}\n" for entry in TRACE for line in entry.splitlines()),
          end="", flush=True)
    if warden.log():
        print(f"  controller log ({warden.log_path}), last lines:\n"
              + "".join(f"    {line}\n" for line in warden.log().splitlines()[-12:]), end="")


def print_setup_failure(error):
    print(f"FAIL setup: {error}", flush=True)
    for entry in TRACE:
        print("    " + entry.replace("\n", "\n    "))


def run_scenario(name, scenario, ctx, results, reset=True):
    """Runs scenario(ctx) (after ctx.reset() when reset): prints "PASS name (seconds): note" or
    FAIL with why, the last commands and the controller's log, and appends (name, passed) to
    results. A bug in the test is a FAIL too; Skip goes to the caller."""
    TRACE.clear()
    started = time.monotonic()
    try:
        if reset:
            ctx.reset()
        note = scenario(ctx)
        print(f"PASS {name} ({time.monotonic() - started:.1f} s){': ' + note if note else ''}", flush=True)
        results.append((name, True))
    except Skip:
        raise
    except Failed as e:
        print_failure(name, e, ctx.w)
        results.append((name, False))
    except Exception:  # noqa: BLE001 (a bug in the test itself: report it, go on)
        print(f"FAIL {name} (test error):\n" + traceback.format_exc(), flush=True)
        results.append((name, False))


def summarize(results, problems, workdir, started, skipped=False):
    """Prints the count of passed and failed scenarios; returns the exit code (0: all passed and
    cleaned up). The work dir goes on success and stays, with its logs, otherwise."""
    failed = [n for n, ok in results if not ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed{' (' + ', '.join(failed) + ')' if failed else ''}"
          f"{', 1 skipped' if skipped else ''} in {time.monotonic() - started:.0f} s")
    if failed or problems:
        print(f"logs kept in {workdir}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0
