#!/usr/bin/env python3
"""scripts/lib/dataplane_doc.py, which writes the data-plane benchmark's section of
docs/BENCHMARKS.md: a run whose kernel refused part 2 writes part 1, says part 2 was not
measured, and keeps the last measured part 2 under a line naming the run it comes from; a
later full run replaces all of it. Runs the module as bench-dataplane.sh does, on temp files.

usage: test_dataplane_doc.py <source dir>
"""
import os
import subprocess
import sys
import tempfile

source = sys.argv[1]
module = os.path.join(source, "scripts", "lib", "dataplane_doc.py")
sys.path.insert(0, os.path.dirname(module))
from dataplane_doc import BEGIN, END, KEPT_FROM  # noqa: E402

PART1 = "#### ns per frame under BPF_PROG_TEST_RUN\n\n| case | ns |\n|---|---|\n| (a) floor | {} |\n"
PART2 = "\n#### frames per second through a veth pair\n\nGenerator: ...\n\n| case | frames/s |\n|---|---|\n| (f) | {} |\n"
REFUSED = ("\n#### frames per second through a veth pair\n\n**Not measured in this run**: the kernel refused "
           "BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES (errno 1, Operation not permitted).\n")
failures = []


def check(ok, what, text):
    print(f"  {'ok' if ok else 'FAIL'} - {what}")
    if not ok:
        failures.append(what)
        print("    the document:\n" + "\n".join("    | " + line for line in text.splitlines()))


def run(doc, result, when):
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
        f.write(result)
    try:
        subprocess.run([sys.executable, module, doc, f.name, f"{when} on kernel k-{when}, cpu (2 CPUs), tools"],
                       check=True)
    finally:
        os.unlink(f.name)
    return open(doc).read()


with tempfile.TemporaryDirectory() as tmp:
    doc = os.path.join(tmp, "BENCHMARKS.md")
    print("no document yet, part 2 refused")
    text = run(doc, PART1.format("7.1") + REFUSED, "R0")
    check("Not measured in this run" in text and "No earlier run measured it either." in text,
          "part 2 says it was not measured, and that no earlier run was", text)
    check("| (a) floor | 7.1 |" in text, "part 1 is written", text)

    with open(doc, "w") as f:
        f.write("# Benchmarks\n\nbefore\n\n## Data plane\n\nhand-written\n\n" + BEGIN + "\nold\n" + END +
                "\n\n### Reading the results\n\nanalysis\n")
    print("a full run")
    text = run(doc, PART1.format("7.2") + PART2.format("1,700,000"), "R1")
    check("| (f) | 1,700,000 |" in text and "| (a) floor | 7.2 |" in text and "old" not in text,
          "both parts replace the old section", text)
    check(text.startswith("# Benchmarks\n\nbefore\n\n## Data plane\n\nhand-written\n\n") and
          text.endswith(END + "\n\n### Reading the results\n\nanalysis\n"), "the text around it stays", text)
    check(KEPT_FROM not in text, "nothing is marked as kept", text)

    print("part 2 refused after the full run")
    text = run(doc, PART1.format("7.3") + REFUSED, "R2")
    check("| (a) floor | 7.3 |" in text and "| (a) floor | 7.2 |" not in text, "part 1 is this run's", text)
    check("**Not measured in this run**: the kernel refused" in text, "part 2 says why it was not measured", text)
    check(f"{KEPT_FROM}: run R1 on kernel k-R1, cpu (2 CPUs), tools." in text and "| (f) | 1,700,000 |" in text,
          "part 2's table is kept, naming the run that measured it", text)
    check(text.index("Not measured") < text.index(KEPT_FROM) < text.index("| (f) | 1,700,000 |"),
          "in that order: why not, which run, the table", text)

    print("refused again")
    text = run(doc, PART1.format("7.4") + REFUSED, "R3")
    check(text.count("| (f) | 1,700,000 |") == 1 and text.count(KEPT_FROM) == 1 and text.count("Not measured") == 1,
          "the kept table appears once, with one note", text)
    check(f"{KEPT_FROM}: run R1 on kernel k-R1" in text and "k-R2" not in text,
          "it still names the run that measured it", text)
    check(text.count("Run R3 on kernel k-R3") == 1, "the run line is this run's", text)

    print("a full run again")
    text = run(doc, PART1.format("7.5") + PART2.format("1,800,000"), "R4")
    check("| (f) | 1,800,000 |" in text and "1,700,000" not in text and KEPT_FROM not in text
          and "Not measured" not in text, "a measured part 2 replaces the kept one", text)

if failures:
    print(f"FAIL: {len(failures)} check(s): {', '.join(failures)}")
    sys.exit(1)
print("PASS: the data-plane section keeps what was measured and marks what was not")
