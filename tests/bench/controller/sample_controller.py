#!/usr/bin/env python3
"""Measures a running `warden run` from outside, poll by poll; scripts/bench-controller.sh
drives it.

  sample_controller.py measure --pid PID --status FILE --cycles N [--skip K] [--time-limit S]
      Takes the process's state after its latest poll as the reference, then records each
      new poll (a new "polls" count in status.json) for K + N polls: the controller's own
      "last_poll_cpu_ms", the whole process's CPU time
      (/proc/PID/stat utime+stime, clock ticks; /proc/PID/task/*/schedstat, nanoseconds) and
      its memory (VmRSS, VmHWM). The first K polls are kept apart from the N measured (the
      first polls after a change do one-off work). Prints JSON.
  sample_controller.py report EMPTY.json FILLED.json --devices N --flows M [--reads R.json]
      Prints the Markdown table: figure, empty, filled, target, met? Exit code 3 when a
      target is missed.

The CPU of a cycle seen from outside is everything the process did between two polls (the
poll, the status file, the event loop): the difference of the counters read just after one
poll's status file appeared and just after the next one's.
"""
import argparse
import json
import os
import statistics
import sys
import time

CPU_TARGET_MS = 25.0
RSS_TARGET_MB = 32.0  # MB as warden's own units: 2^20 bytes
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def fail(msg):
    print(f"sample_controller: {msg}", file=sys.stderr)
    sys.exit(1)


def process_cpu(pid):
    """(utime, stime in ms from /proc/PID/stat, run time in ms summed over the threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name may hold spaces: fields count from the last ')'.
            fields = f.read().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
        run_ns = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run_ns += int(f.read().split()[0])
    except (FileNotFoundError, ProcessLookupError):
        fail(f"process {pid} is gone (did warden stop? see its log)")
    return utime * TICK_MS, stime * TICK_MS, run_ns / 1e6


def memory_mb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0  # kB (2^10) -> MB (2^20)
            if key == "Threads":
                out[key] = int(value)
    return out


class StatusWatcher:
    """Notices each new poll by the status file's "polls" count; parses only when it changed."""

    def __init__(self, path):
        self.path = path
        self.stamp = None

    def read_if_changed(self):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        stamp = (st.st_mtime_ns, st.st_ino)
        if stamp == self.stamp:
            return None
        try:
            with open(self.path) as f:
                status = json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None  # replaced while we read it: the next look sees the new one
        self.stamp = stamp
        return status


def measure(args):
    watcher = StatusWatcher(args.status)
    deadline = time.monotonic() + args.time_limit
    samples = []
    last_polls = None
    # The first status read is the reference: between two polls the process is idle, so its
    # counters then already hold everything up to the next poll. Then skip + cycles polls.
    wanted = 1 + args.skip + args.cycles
    while len(samples) < wanted:
        if time.monotonic() > deadline:
            fail(f"only {len(samples)} of {wanted} polls seen in {args.time_limit}s")
        status = watcher.read_if_changed()
        if status is None or status.get("polls") == last_polls:
            time.sleep(0.005)
            continue
        user_ms, sys_ms, run_ms = process_cpu(args.pid)
        mem = memory_mb(args.pid)
        last_polls = status["polls"]
        samples.append({
            "t": time.monotonic(),
            "polls": status["polls"],
            "last_poll_cpu_ms": status["last_poll_cpu_ms"],
            "stat_cpu_ms": user_ms + sys_ms,
            "stat_sys_ms": sys_ms,
            "run_ms": run_ms,
            "rss_mb": mem["VmRSS"],
            "hwm_mb": mem["VmHWM"],
            "threads": mem["Threads"],
            "devices": len(status.get("devices", [])),
            "flow_entries": status.get("flow_entries"),
            "active_flows": sum(d.get("active_flows", 0) for d in status.get("devices", [])),
        })

    def cycles(seq):
        out = []
        for a, b in zip(seq, seq[1:]):
            polls = b["polls"] - a["polls"]
            out.append({
                "polls": polls,
                "last_poll_cpu_ms": b["last_poll_cpu_ms"],
                "run_ms": (b["run_ms"] - a["run_ms"]) / polls,
                "rss_mb": b["rss_mb"],
            })
        return out

    skipped = cycles(samples[: args.skip + 1])
    window = samples[args.skip:]
    measured = cycles(window)
    first, last = window[0], window[-1]
    polls = last["polls"] - first["polls"]
    result = {
        "skipped": skipped,
        "cycles": measured,
        "window_s": last["t"] - first["t"],
        "window_polls": polls,
        "stat_cpu_ms_per_poll": (last["stat_cpu_ms"] - first["stat_cpu_ms"]) / polls,
        "stat_sys_share": (last["stat_sys_ms"] - first["stat_sys_ms"]) / max(last["stat_cpu_ms"] - first["stat_cpu_ms"], 1e-9),
        "run_ms_per_poll": (last["run_ms"] - first["run_ms"]) / polls,
        "rss_mb": last["rss_mb"],
        "rss_max_mb": max(s["rss_mb"] for s in window),
        "hwm_mb": last["hwm_mb"],
        "threads": last["threads"],
        "devices": last["devices"],
        "flow_entries": last["flow_entries"],
        "active_flows": last["active_flows"],
    }
    json.dump(result, sys.stdout, indent=1)
    print()


def report(args):
    empty = json.load(open(args.empty))
    filled = json.load(open(args.filled))
    reads = json.load(open(args.reads)) if args.reads else None

    def med(r, key):
        return statistics.median(c[key] for c in r["cycles"])

    def ms(v):
        return "—" if v is None else f"{v:.2f} ms"

    def mb(v):
        return f"{v:.1f} MB"

    # figure, empty, filled, format, target (None: for information)
    rows = [
        ("CPU per cycle, whole process: median of per-cycle run time (/proc/PID/task/*/schedstat)",
         med(empty, "run_ms"), med(filled, "run_ms"), ms, CPU_TARGET_MS),
        ("CPU per cycle, whole process: (utime+stime) over the window / polls (/proc/PID/stat)",
         empty["stat_cpu_ms_per_poll"], filled["stat_cpu_ms_per_poll"], ms, CPU_TARGET_MS),
        ("CPU per poll, the controller's own figure: median of last_poll_cpu_ms (status.json; "
         "without writing the status file)",
         med(empty, "last_poll_cpu_ms"), med(filled, "last_poll_cpu_ms"), ms, CPU_TARGET_MS),
        ("CPU of the slowest cycle in the window (schedstat)",
         max(c["run_ms"] for c in empty["cycles"]), max(c["run_ms"] for c in filled["cycles"]), ms, None),
        ("Share of the CPU spent in the kernel: stime / (utime+stime) (/proc/PID/stat)",
         100 * empty["stat_sys_share"], 100 * filled["stat_sys_share"], lambda v: f"{v:.0f} %", None),
    ]
    if reads:
        rows += [
            (f"Floor: one walk of the flow map, nothing kept (bpf_map_lookup_batch, 256 a call; "
             f"cold caches, median of {reads['runs']}, separate process)", None, reads["flow_scan_ms"], ms, None),
            ("`FlowTable::read_all()` once, as each poll calls it (same)", None, reads["flow_read_all_ms"], ms, None),
            ("`DeviceTable::read_all()` once, as each poll calls it (same)", None, reads["device_read_all_ms"], ms,
             None),
        ]
    rows += [
        ("Resident memory at the end of the window (VmRSS)", empty["rss_mb"], filled["rss_mb"], mb, RSS_TARGET_MB),
        ("Peak resident memory since start (VmHWM)", empty["hwm_mb"], filled["hwm_mb"], mb, RSS_TARGET_MB),
        ("Entries the controller read: devices / flows (status.json)",
         f"{empty['devices']:,} / {empty['flow_entries']:,}", f"{filled['devices']:,} / {filled['flow_entries']:,}",
         str, None),
        ("Flows it counted as active (sum of active_flows in status.json)",
         empty["active_flows"], filled["active_flows"], lambda v: f"{v:,}", None),
    ]
    out = [f"| figure | empty maps | {args.devices:,} devices, {args.flows:,} flows | target | met? |",
           "|---|---:|---:|---:|:---:|"]
    missed = []
    for name, e, f, fmt, target in rows:
        if target is None:
            out.append(f"| {name} | {fmt(e) if e is not None else '—'} | {fmt(f)} | — | — |")
            continue
        unit = "ms" if fmt is ms else "MB"
        met = f < target
        if not met:
            missed.append(name)
        out.append(f"| {name} | {fmt(e)} | {fmt(f)} | < {target:g} {unit} | {'yes' if met else '**no**'} |")
    out.append("")
    out.append(
        f"Cycles measured: {len(empty['cycles'])} with empty maps over {empty['window_s']:.1f} s, "
        f"{len(filled['cycles'])} filled over {filled['window_s']:.1f} s, in one process with "
        f"{filled['threads']} thread(s). MB = 2^20 bytes. /proc/PID/stat counts {TICK_MS:g} ms ticks, so its "
        f"figures (the window average, the kernel share) are coarser than schedstat's.")
    if filled["skipped"]:
        first = filled["skipped"][0]
        out.append(
            f"The first poll after the fill (every device new to the inventory, which is then written to "
            f"the state dir) is left out of the median: it took {first['run_ms']:.2f} ms of CPU "
            f"(the controller's own figure: {first['last_poll_cpu_ms']:.2f} ms).")
    print("\n".join(out))
    return 3 if missed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--pid", type=int, required=True)
    m.add_argument("--status", required=True)
    m.add_argument("--cycles", type=int, default=12)
    m.add_argument("--skip", type=int, default=0)
    m.add_argument("--time-limit", type=float, default=60)
    r = sub.add_parser("report")
    r.add_argument("empty")
    r.add_argument("filled")
    r.add_argument("--devices", type=int, required=True)
    r.add_argument("--flows", type=int, required=True)
    r.add_argument("--reads", help="JSON from bench_fill_maps --reads-json: the read floor")
    args = p.parse_args()
    if args.command == "measure":
        if args.cycles < 1 or args.skip < 0:
            fail("--cycles must be at least 1 and --skip at least 0")
        measure(args)
    else:
        sys.exit(report(args))


if __name__ == "__main__":
    main()
