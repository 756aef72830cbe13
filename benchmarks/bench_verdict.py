"""Run-time cost of the test_policy plugin with its per-test verdict: N trivial tests
run with the plugin vs `-p no:test_policy`. Prints the medians and their ratio (the
bar: <= 1.05).

    .venv/bin/python benchmarks/bench_verdict.py [--tests 2000] [--repeat 5]

Both sides run `pytest -q -p no:randomly` serially (the policy says `parallel:
enabled: false`) in a fresh process on the same generated project; runs alternate so
that load from other processes on the machine hits both sides alike (and each pair's
ratio is printed too: this machine's speed drifts between runs). The plugin side pays
for everything it does per test: the kill timer it arms, the JUnit properties, the load
figures (`/proc/thread-self/schedstat`, getrusage), the verdict and the summary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICY = """\
version: 1
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  slow: {limit: 30, markers: [slow]}
parallel:
  enabled: false
"""


def make_project(root: Path, tests: int, per_file: int = 100) -> None:
    (root / "tests" / "unit").mkdir(parents=True)
    (root / "policy.yaml").write_text(POLICY)
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: x\n")
    for index in range(tests // per_file):
        body = "".join(f"def test_{n}():\n    pass\n\n\n" for n in range(per_file))
        (root / "tests" / "unit" / f"test_{index:04d}.py").write_text(body)


#: As in an ordinary checkout, bytecode is cached (PYTHONDONTWRITEBYTECODE, set on some
#: machines, makes pytest compile and assertion-rewrite every plugin module on each run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(root: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *extra],
                   cwd=root, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--without-pytest-timeout", action="store_true",
                        help="-p no:timeout on both sides: the plugin's own cost, without "
                        "the timer pytest-timeout arms for every test")
    args = parser.parse_args()
    both = ("-p", "no:timeout") if args.without_pytest_timeout else ()
    with tempfile.TemporaryDirectory(prefix="bench-verdict-") as tmp:
        root = Path(tmp)
        make_project(root, args.tests)
        run(root, *both)  # warm-up: pytest's cache gets the validated policy, .pyc files
        run(root, *both, "-p", "no:test_policy")
        on: list[float] = []
        off: list[float] = []
        for index in range(args.repeat):
            # Pairs, in turns: this machine's speed drifts by 10 % and more between runs
            # of a few seconds, so each pair's ratio is read, not only the medians'.
            if index % 2:
                off.append(run(root, *both, "-p", "no:test_policy"))
                on.append(run(root, *both))
            else:
                on.append(run(root, *both))
                off.append(run(root, *both, "-p", "no:test_policy"))
    with_plugin, without = statistics.median(on), statistics.median(off)
    paired = statistics.median(a / b for a, b in zip(on, off, strict=True))
    print(f"{args.tests} trivial tests, {args.repeat} runs each (median wall time)"
          + (", -p no:timeout on both sides" if both else ""))
    print(f"  with the plugin:       {with_plugin:.3f} s")
    print(f"  -p no:test_policy:     {without:.3f} s")
    print(f"  ratio of the medians: {with_plugin / without:.3f}; median of the {args.repeat} "
          f"pairs' ratios: {paired:.3f} (bar: <= 1.05)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
