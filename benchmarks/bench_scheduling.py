"""Scheduling benchmarks (issue 12). Prints figures; the machine may be shared.

    .venv/bin/python benchmarks/bench_scheduling.py small [--repeat 3]
    .venv/bin/python benchmarks/bench_scheduling.py skew [--repeat 1]

small: a 5-test selection (`-k TestAssoc`) of a 200-test project, run as a user does
  (twice: the first run records its time) with the policy's parallel default, against
  `-n 0`; the bar is the second run's ratio <= 1.1.
skew: 200 sleep-based tests, 10 ms to 3 s (3 long ones, collected last), on 2
  workers with and without a `.test_durations` file; wall time against the ideal
  (summed sleeps / 2, or the longest test if larger).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICY = """\
version: 1
categories:
  unit: {limit: 5, default: true}
parallel:
  enabled: true
  workers: 2
  dist: loadgroup
"""

SMALL = """\
import pytest

class TestAssoc:
    @pytest.mark.parametrize("n", range(5))
    def test_assoc(self, n):
        pass

@pytest.mark.parametrize("n", range(195))
def test_other(n):
    pass
"""


def skew_durations() -> dict[str, float]:
    """197 short tests (10-100 ms), then 3 long ones (2, 2.5, 3 s), collected last."""
    durations = {f"test_skew.py::test_short[{n}]": 0.01 + 0.09 * (n % 10) / 9
                 for n in range(197)}
    for n, seconds in enumerate((2.0, 2.5, 3.0)):
        durations[f"test_skew.py::test_long[{n}]"] = seconds
    return durations


SKEW = """\
import json, pathlib, time
import pytest

SLEEPS = json.loads(pathlib.Path(__file__).with_name("sleeps.json").read_text())

@pytest.mark.parametrize("n", range(197))
def test_short(n):
    time.sleep(SLEEPS[f"test_skew.py::test_short[{n}]"])

@pytest.mark.parametrize("n", range(3))
def test_long(n):
    time.sleep(SLEEPS[f"test_skew.py::test_long[{n}]"])
"""


def run(root: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", *args], cwd=root,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def header(out: str) -> str:
    return next((line for line in out.splitlines() if line.startswith("test-policy:")), "?")


def small(repeat: int) -> None:
    firsts, seconds, serials = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "policy.yaml").write_text(POLICY)
            (root / "test_small.py").write_text(SMALL)
            first, out1 = run(root, "-k", "TestAssoc")
            second, out2 = run(root, "-k", "TestAssoc")
            serial, _ = run(root, "-k", "TestAssoc", "-n", "0")
            firsts.append(first)
            seconds.append(second)
            serials.append(serial)
    print("first run :", header(out1))
    print("second run:", header(out2))
    f, s, n = (statistics.median(x) for x in (firsts, seconds, serials))
    print(f"5-test selection, median of {repeat}: first run {f:.2f} s, second run {s:.2f} s, "
          f"-n 0 {n:.2f} s; second / -n 0 = {s / n:.2f} (bar <= 1.1)")


def skew(repeat: int) -> None:
    durations = skew_durations()
    ideal = max(sum(durations.values()) / 2, max(durations.values()))
    results: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(repeat):
        for mode in ("without", "with"):
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                (root / "policy.yaml").write_text(POLICY)
                (root / "sleeps.json").write_text(json.dumps(durations))
                (root / "test_skew.py").write_text(SKEW)
                if mode == "with":
                    (root / ".test_durations").write_text(json.dumps(durations))
                wall, _ = run(root, "-p", "no:cacheprovider")
                results[mode].append(wall)
    startups = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "policy.yaml").write_text(POLICY)
            (root / "test_two.py").write_text("def test_a(): pass\ndef test_b(): pass\n")
            startups.append(run(root, "-p", "no:cacheprovider")[0])
    startup = statistics.median(startups)
    print(f"200 tests, {sum(durations.values()):.1f} s of sleeps, 2 workers; "
          f"ideal {ideal:.2f} s; a 2-test run on 2 workers (start-up) takes {startup:.2f} s")
    for mode in ("without", "with"):
        wall = statistics.median(results[mode])
        print(f"  {mode:7} .test_durations: median wall {wall:.2f} s = {wall / ideal:.2f}x "
              f"ideal; less start-up {wall - startup:.2f} s = {(wall - startup) / ideal:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=("small", "skew"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    (small if args.which == "small" else skew)(args.repeat)


if __name__ == "__main__":
    main()
