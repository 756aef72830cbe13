"""Collection cost of the test_policy plugin: 20,000 tests collected with the plugin
vs `-p no:test_policy`. Prints the medians and their ratio (the bar: <= 1.05).

    .venv/bin/python benchmarks/bench_plugin_collect.py [--tests 20000] [--repeat 5]

Both sides run `pytest --collect-only -qq` in a fresh process on the same generated
project (policy.yaml with paths, markers and a group); runs alternate so that load
from other processes on the machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICY = """\
version: 1
timeout_method: signal
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 5, paths: ["tests/integration/**"], markers: [integration]}
  slow: {limit: 30, markers: [slow]}
parallel:
  enabled: true
  groups:
    db: ["tests/integration/db/**"]
"""

MODULE = """\
import pytest

pytestmark = pytest.mark.integration if {marked} else []


class TestThings:
{methods}

@pytest.mark.slow
@pytest.mark.parametrize("n", range({params}))
def test_param(n):
    pass
"""


def make_project(root: Path, tests: int, per_file: int = 100) -> None:
    (root / "policy.yaml").write_text(POLICY)
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    integration: x\n    slow: x\n")
    files = tests // per_file
    methods = per_file // 2
    for index in range(files):
        folder = ("tests/unit", "tests/integration", "tests/integration/db", "checks")[index % 4]
        path = root / folder / f"test_m{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n".join(f"    def test_{n}(self):\n        pass\n" for n in range(methods))
        path.write_text(MODULE.format(marked=index % 8 == 3, methods=body,
                                      params=per_file - methods))


def collect_seconds(root: Path, *extra: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one `pytest --collect-only` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-qq",
                           "-p", "no:cacheprovider", *extra],
                          cwd=root, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def report(label: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(f"  {label:<20} wall {wall:6.2f} s  CPU {cpu:6.2f} s   "
          f"(wall runs: {', '.join(f'{r[0]:.2f}' for r in runs)})")
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.tests)
        collect_seconds(root)  # warm the file cache and bytecode
        collect_seconds(root, "-p", "no:test_policy")
        with_plugin, without = [], []
        for _ in range(args.repeat):
            with_plugin.append(collect_seconds(root))
            without.append(collect_seconds(root, "-p", "no:test_policy"))
    print(f"collecting {args.tests} tests, median of {args.repeat} runs each "
          "(CPU time is less disturbed by other processes on a shared machine)")
    on = report("with the plugin", with_plugin)
    off = report("-p no:test_policy", without)
    print(f"  ratio                wall {on[0] / off[0]:6.3f}    CPU {on[1] / off[1]:6.3f}"
          "     (bar: <= 1.05)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
