"""Benchmark: `test-policy audit` on a 200,000-testcase JUnit file.

Compares, each in a fresh subprocess (wall time, CPU time and peak RSS from os.wait4):
  bare        a bare pyexpat pass reading the same attributes as the audit: the
              testcase's name, classname, time, file and line, and its children
              failure / error / skipped / property (start-element handler only)
  bare+ends   the same with an end-element handler: the least a reader needs to
              know which <testcase> a child belongs to (for reference)
  audit       `python -m test_policy_engine audit FILE` (the whole command: start-up,
              policy, report)
  audit-work  the command's parse + audit + report in-process, timed after start-up
  junitparser the same file through junitparser (whole-tree parse), the peer
Each child also prints its own work time (no interpreter start-up, no imports):
the "work" column compares those. CPU time (user + system of the child) is
steadier than wall time on a shared machine.

Targets (issue 5): audit wall <= 1.5x bare, audit peak RSS <= 64 MB.
Run: .venv/bin/python benchmarks/bench_audit.py [--runs 5] [--cases 200000]
The machine is shared: it prints medians over the runs, interleaved.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent

BARE = r"""
import sys, time
from xml.parsers import expat
start = time.perf_counter()
count = 0
def on_start(name, attrs):
    global count
    if name == "testcase":
        count += 1
        attrs.get("name"); attrs.get("classname"); attrs.get("file"); attrs.get("line")
        attrs.get("time")
    elif name == "property" or name == "failure" or name == "error" or name == "skipped":
        attrs.get("name"); attrs.get("value"); attrs.get("message")
parser = expat.ParserCreate()
parser.StartElementHandler = on_start
with open(sys.argv[1], "rb") as handle:
    parser.ParseFile(handle)
print(count, time.perf_counter() - start)
"""

# The same pass with an end-element handler: the least any reader needs to know
# where a <testcase> ends (and so which failure belongs to it). For reference.
BARE_ENDS = BARE.replace(
    "parser.StartElementHandler = on_start",
    "parser.StartElementHandler = on_start\n"
    "def on_end(name):\n    if name == 'testcase':\n        pass\n"
    "parser.EndElementHandler = on_end",
)

AUDIT = r"""
import sys, time
from test_policy_engine.audit.verdicts import audit_files
from test_policy_engine.policy.loader import load_policy
from test_policy_engine.audit.report import text
policy = load_policy("policy.yaml")
start = time.perf_counter()
result, problems = audit_files([(sys.argv[1], sys.argv[1])], policy, top=10)
text(result, 10)
print(result.records, time.perf_counter() - start)
"""

PEER = r"""
import sys, time
from junitparser import JUnitXml
start = time.perf_counter()
count = 0
total = 0.0
for suite in JUnitXml.fromfile(sys.argv[1]):
    for case in suite:
        count += 1
        total += case.time or 0.0
        case.name; case.classname
print(count, time.perf_counter() - start)
"""


def generate(path: Path, cases: int, seed: int = 5) -> None:
    """A pytest-style xunit2 file: 2% failures (0.1% timeouts), 1% skips; 60% of the
    tests carry the plugin's three properties (as from shards run with and without it)."""
    rng = random.Random(seed)
    categories = [("unit", "1", "path tests/unit/**"),
                  ("integration", "5", "path tests/integration/**"),
                  ("slow", "30", "marker slow")]
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
                  f'<testsuite name="pytest" errors="0" failures="0" skipped="0" '
                  f'tests="{cases}" time="1.0" hostname="bench">\n')
        for index in range(cases):
            category, limit, reason = categories[0 if index % 10 < 7 else 1 + index % 2]
            folder = "unit" if category == "unit" else "integration"
            module = f"tests.{folder}.test_module_{index % 2000:04d}"
            klass = f".TestGroup{index % 7}" if index % 3 == 0 else ""
            name = f"test_behaviour_number_{index}" + (f"[param-{index % 5}]"
                                                       if index % 4 == 0 else "")
            seconds = rng.expovariate(1 / (0.05 if category == "unit" else 0.8))
            out.write(f'<testcase classname="{module}{klass}" name="{name}" '
                      f'time="{seconds:.3f}">')
            if index % 5 < 3:
                out.write('<properties>'
                          f'<property name="test_policy.category" value="{category}" />'
                          f'<property name="test_policy.limit" value="{limit}" />'
                          f'<property name="test_policy.reason" value="{reason}" />'
                          '</properties>')
            if index % 50 == 0:
                message = "assert 1 == 2" if index % 1000 else \
                    f"Failed: Timeout (&gt;{limit}.0s) from pytest-timeout."
                out.write(f'<failure message={quoteattr(message)}>def test():\n&gt;   '
                          'assert 1 == 2\nE   assert 1 == 2\n\ntests/x.py:3: '
                          'AssertionError</failure>')
            elif index % 97 == 0:
                out.write('<skipped type="pytest.skip" message="not on this platform">'
                          'tests/x.py:9: not on this platform</skipped>')
            out.write("</testcase>\n")
        out.write("</testsuite></testsuites>\n")


def measure(command: list[str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             cwd=ROOT)
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--no-peer", action="store_true", help="skip junitparser")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.xml"
        generate(path, args.cases)
        print(f"file: {args.cases:,} test cases, {path.stat().st_size / 1e6:.1f} MB")
        commands = {
            "bare": [python, "-c", BARE, str(path)],
            "bare+ends": [python, "-c", BARE_ENDS, str(path)],
            "audit": [python, "-m", "test_policy_engine", "audit", "--policy", "policy.yaml",
                      "--top", "10", str(path)],
            "audit-work": [python, "-c", AUDIT, str(path)],
        }
        if not args.no_peer:
            commands["junitparser"] = [python, "-c", PEER, str(path)]
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        works: dict[str, list[float]] = {name: [] for name in commands}
        rss: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                wall, cpu, peak, output = measure(command)
                walls[name].append(wall)
                cpus[name].append(cpu)
                rss[name].append(peak)
                fields = output.split()
                if name != "audit":
                    works[name].append(float(fields[1]))
        median = statistics.median
        print(f"\nmedians over {args.runs} runs (ratios to bare); wall and cpu = the fresh "
              "process, start-up included; work = the child's own timing of parse (+ audit)")
        base, base_cpu, base_work = (median(walls["bare"]), median(cpus["bare"]),
                                     median(works["bare"]))
        for name in commands:
            wall, cpu = median(walls[name]), median(cpus[name])
            work = " " * 14
            if works[name]:
                own = median(works[name])
                work = f"{own:5.2f} s {own / base_work:5.2f}x"
            print(f"  {name:<12} wall {wall:5.2f} s {wall / base:5.2f}x   "
                  f"cpu {cpu:5.2f} s {cpu / base_cpu:5.2f}x   work {work}   "
                  f"peak RSS {median(rss[name]):6.1f} MB (max {max(rss[name]):.1f})")
        ratio = median(walls["audit"]) / base
        cpu_ratio = median(cpus["audit"]) / base_cpu
        work_ratio = median(works["audit-work"]) / base_work
        ends_ratio = median(walls["audit"]) / median(walls["bare+ends"])
        peak = max(rss["audit"])
        print(f"\naudit / bare, whole command: wall {ratio:.2f}x, cpu {cpu_ratio:.2f}x; "
              f"work only: {work_ratio:.2f}x (target <= 1.5x) "
              f"{'OK' if ratio <= 1.5 else 'OVER'}")
        print(f"audit / bare+ends, whole command: wall {ends_ratio:.2f}x")
        print(f"audit peak RSS: {peak:.1f} MB (target <= 64 MB) "
              f"{'OK' if peak <= 64 else 'OVER'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
