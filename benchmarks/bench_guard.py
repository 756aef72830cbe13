"""What the runtime guard (`forbid:`) costs: 5,000 trivial unit tests with the guard on
vs off (target <= 1.05x), and one test making 10,000 audited calls (`open`) with the
guard on vs off (target <= 1.1x).

Each figure is the median of `--repeat` runs (default 5) of a serial pytest process
(`-p no:xdist`, `-p no:cacheprovider`): the CPU time of the whole process for the
5,000 tests (wall-clock swings by 30 % on a shared machine), the loop's own
`perf_counter` time for the 10,000 calls.
Run: `python benchmarks/bench_guard.py [--tests 5000] [--repeat 5]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

POLICY = """\
version: 1
categories:
  unit:
    limit: 30
    default: true
    paths: ["tests/unit/**"]
{forbid}
parallel:
  enabled: false
"""
FORBID = "    forbid: {network: true, subprocess: true, sleep: true}"

OPENS = """
import os
import time

def test_opens(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    name = str(path)
    start = time.perf_counter()
    for _ in range(10_000):
        open(name).close()
    with open(os.environ["BENCH_OUT"], "a") as out:
        out.write(f"{time.perf_counter() - start}\\n")
"""


def project(root: Path, tests: int) -> None:
    unit = root / "tests" / "unit"
    unit.mkdir(parents=True)
    per_file = 100
    for n in range(0, tests, per_file):
        body = "".join(f"def test_{n + i}():\n    assert {n + i} >= 0\n\n\n"
                       for i in range(min(per_file, tests - n)))
        (unit / f"test_many_{n}.py").write_text(body)
    (root / "opens").mkdir()
    (root / "opens" / "tests" / "unit").mkdir(parents=True)
    (root / "opens" / "tests" / "unit" / "test_opens.py").write_text(OPENS)


def run(root: Path, forbid: bool, target: str, out: Path | None = None) -> float:
    (root / "policy.yaml").write_text(POLICY.format(forbid=FORBID if forbid else ""))
    env = None if out is None else {**os.environ, "BENCH_OUT": str(out)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p",
                    "no:cacheprovider", "-p", "no:randomly", target], cwd=root, check=True,
                   stdout=subprocess.DEVNULL, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time of the pytest process, not wall-clock: less swayed by a shared machine.
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project(root, args.tests)
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeat):  # interleaved, so a busy moment hits both
            for forbid in (False, True):
                times[forbid].append(run(root, forbid, "tests"))
        off, on = statistics.median(times[False]), statistics.median(times[True])
        print(f"{args.tests} trivial unit tests: guard off {off:.2f} s CPU, on {on:.2f} s CPU, "
              f"ratio {on / off:.3f} (median of {args.repeat})")
        opens: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeat):
            for forbid in (False, True):
                out = root / f"opens-{forbid}.txt"
                out.unlink(missing_ok=True)
                (root / "opens" / "policy.yaml").write_text(
                    POLICY.format(forbid=FORBID if forbid else ""))
                run(root / "opens", forbid, "tests", out)
                opens[forbid].append(float(out.read_text().split()[-1]))
        off, on = statistics.median(opens[False]), statistics.median(opens[True])
        print(f"10,000 open() calls in one unit test: guard off {off * 1e3:.1f} ms, on "
              f"{on * 1e3:.1f} ms, ratio {on / off:.3f} (median of {args.repeat})")


if __name__ == "__main__":
    main()
