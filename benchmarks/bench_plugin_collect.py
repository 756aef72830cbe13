"""Collection cost of the test_policy plugin: 20,000 tests collected with the plugin
vs `-p no:test_policy`. Prints the medians and their ratio (the bar: <= 1.05).

    .venv/bin/python benchmarks/bench_plugin_collect.py [--tests 20000] [--repeat 5]

Both sides run `pytest --collect-only -qq` in a fresh process on the same generated
project (policy.yaml with paths, markers and a group); runs alternate so that load
from other processes on the machine hits both sides alike. Measured twice: with
pytest's cache on (pytest's default: the plugin reads its validated copy of the
policy from `.pytest_cache`, written by the warm-up runs), and with
`-p no:cacheprovider` on both sides (the plugin validates the policy with YAML and
pydantic in every run, as on a fresh checkout or after the policy changed).
"""

from __future__ import annotations

import argparse
import os
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
    root.mkdir(parents=True, exist_ok=True)
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


#: As in an ordinary checkout, bytecode is cached (PYTHONDONTWRITEBYTECODE, set in some
#: sandboxes, would recompile the 200 test modules on every run on both sides).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def collect_seconds(root: Path, *extra: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one `pytest --collect-only` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-qq", *extra],
                          cwd=root, capture_output=True, text=True, check=False, env=ENV)
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


CACHE_OFF = ("-p", "no:cacheprovider")
PLUGIN_OFF = ("-p", "no:test_policy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big, tiny = Path(tmp) / "big", Path(tmp) / "tiny"
        make_project(big, args.tests)
        make_project(tiny, 100)  # one file: what the plugin costs whatever the suite's size
        runs: dict[tuple[Path, bool, bool], list[tuple[float, float]]] = {}
        for index in range(args.repeat + 2):  # the first two warm the file and bytecode
            for root in (big, tiny):  # caches, and write the plugin's copy of the policy
                for cache in (True, False):
                    for plugin in (True, False):
                        extra = (() if cache else CACHE_OFF) + (() if plugin else PLUGIN_OFF)
                        took = collect_seconds(root, *extra)
                        if index >= 2:
                            runs.setdefault((root, cache, plugin), []).append(took)
    print(f"collecting {args.tests} tests, median of {args.repeat} runs each "
          "(CPU time is less disturbed by other processes on a shared machine)")
    for cache, title in ((True, "pytest's cache on (the default): the plugin reads its "
                                "validated copy of the policy"),
                         (False, "-p no:cacheprovider on both sides: the plugin validates "
                                 "the policy (YAML, pydantic) in every run")):
        print(f" {title}")
        on = report("with the plugin", runs[big, cache, True])
        off = report("-p no:test_policy", runs[big, cache, False])
        print(f"  ratio                wall {on[0] / off[0]:6.3f}    CPU {on[1] / off[1]:6.3f}"
              + ("     (bar: <= 1.05)" if cache else ""))
        small_on = statistics.median(r[1] for r in runs[tiny, cache, True])
        small_off = statistics.median(r[1] for r in runs[tiny, cache, False])
        fixed = small_on - small_off
        per_test = ((on[1] - off[1]) - fixed) / (args.tests - 100)
        print(f"  fixed cost (100 tests: {small_on:.2f} vs {small_off:.2f} s CPU) "
              f"{fixed * 1000:4.0f} ms;  per test {per_test * 1e6:5.1f} us CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
