"""Parallel by default: a sleep-bound suite under the policy's parallel default vs `-n 0`.
Prints the medians and the speedup (the bar: >= 1.8x on 2 cores, worker start-up included).

    .venv/bin/python benchmarks/bench_parallel.py [--tests 400] [--sleep 0.05] [--repeat 3]

The suite is 400 tests x 50 ms (20 s of sleeping when serial). The policy says
`workers: auto`, which counts the CPUs this process may use (affinity and cgroup
quota); the plugin's choice is printed from the `-v` header of the first run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from test_policy_engine.plugin.parallel import count_cpus

POLICY = """\
version: 1
categories:
  unit: {limit: 1, default: true}
parallel:
  enabled: true
  workers: auto
  dist: load
"""

MODULE = """\
import time

import pytest


@pytest.mark.parametrize("n", range({count}))
def test_sleeps(n):
    time.sleep({sleep})
"""


def make_project(root: Path, tests: int, sleep: float, per_file: int = 50) -> None:
    (root / "policy.yaml").write_text(POLICY)
    for index in range(0, tests, per_file):
        count = min(per_file, tests - index)
        (root / f"test_s{index // per_file}.py").write_text(
            MODULE.format(count=count, sleep=sleep))


def run_seconds(root: Path, *extra: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *extra],
                          cwd=root, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=400)
    parser.add_argument("--sleep", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    parallel: list[float] = []
    serial: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.tests, args.sleep)
        for _ in range(args.repeat):
            parallel.append(run_seconds(root, "-q")[0])
            serial.append(run_seconds(root, "-q", "-n", "0")[0])
    par, ser = statistics.median(parallel), statistics.median(serial)
    print(f"{args.tests} tests x {args.sleep * 1000:g} ms, median of {args.repeat} runs each")
    print(f"  workers: auto = {count_cpus()} usable CPUs here (affinity and cgroup quota)")
    print(f"  parallel default  {par:6.2f} s   runs: {', '.join(f'{t:.2f}' for t in parallel)}")
    print(f"  -n 0 (serial)     {ser:6.2f} s   runs: {', '.join(f'{t:.2f}' for t in serial)}")
    print(f"  speedup           {ser / par:6.2f}x  (bar: >= 1.8x on 2 cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
