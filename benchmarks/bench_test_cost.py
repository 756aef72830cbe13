"""The plugin's cost per test, counted rather than timed: Python function calls (cProfile)
and, where valgrind is installed, CPU instructions (callgrind), for a run of N and of 2N
trivial tests, with the plugin and with `-p no:test_policy`. The difference between the
two runs of a side, divided by N, is that side's cost of one test (start-up and
collection cancel out); counts do not move with the machine's load, so two versions of
the plugin can be compared on a shared machine.

    .venv/bin/python benchmarks/bench_test_cost.py [--tests 500] [--instructions]

Prints calls per test (and instructions per test) for both sides and their ratio.
"""

from __future__ import annotations

import argparse
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_verdict import ENV as RUN_ENV
from bench_verdict import make_project

#: A fixed hash seed: with a random one, dict and set orders, and so the code paths and
#: the counts, differ from run to run.
ENV = {**RUN_ENV, "PYTHONHASHSEED": "0"}

PYTEST = ("-m", "pytest", "-q", "-p", "no:randomly")


def calls(root: Path, *extra: str) -> int:
    out = root / "profile.out"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), *PYTEST, *extra],
                   cwd=root, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return int(pstats.Stats(str(out)).total_calls)  # type: ignore[attr-defined]


def instructions(root: Path, *extra: str) -> int:
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, *PYTEST, *extra], cwd=root, check=True, env=ENV,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr}")
    return int(found.group(1))


def per_test(count: object, small: Path, large: Path, tests: int, *extra: str) -> float:
    assert callable(count)
    warm = (count(small, *extra), count(large, *extra))  # .pyc files, pytest's cache
    del warm
    return (count(large, *extra) - count(small, *extra)) / tests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions with valgrind (minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-per-test-") as tmp:
        small, large = Path(tmp, "small"), Path(tmp, "large")
        make_project(small, args.tests)
        make_project(large, 2 * args.tests)
        print(f"per test, from runs of {args.tests} and {2 * args.tests} trivial tests")
        kinds = [("Python calls", calls)]
        if args.instructions:
            if shutil.which("valgrind") is None:
                raise SystemExit("--instructions needs valgrind on PATH")
            kinds.append(("instructions", instructions))
        for name, count in kinds:
            on = per_test(count, small, large, args.tests)
            off = per_test(count, small, large, args.tests, "-p", "no:test_policy")
            print(f"  {name}: plugin {on:,.0f}, -p no:test_policy {off:,.0f}, "
                  f"ratio {on / off:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
