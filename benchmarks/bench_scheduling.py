"""Scheduling benchmarks (issue 12). Prints medians and ratios; the machine may be shared.

    .venv/bin/python benchmarks/bench_scheduling.py small [--repeat 3]
    .venv/bin/python benchmarks/bench_scheduling.py skew [--repeat 3] [--modes without,with]

small: a 5-test selection (`-k TestAssoc`) of a 200-test project, run as a user does
  (twice: the first run records its time) with the policy's parallel default, against
  `-n 0`; the bar is the second run's ratio <= 1.1.
skew: 200 sleep-based tests, 10 ms to 3 s (3 long ones, collected last), on 2 workers:
  `without` and `with` a `.test_durations` file (the policy's loadgroup, the plugin's
  scheduler), pytest-xdist's own `worksteal` without one, `bare` pytest-xdist with the
  plugin off (`-p no:test_policy -n 2`: its own start-up) and `serial` (`-n 0`). The
  bar: wall time within 1.15x of the ideal, max(summed sleeps / 2, longest sleep).
  A conftest in the generated project records when each test starts and ends on each
  worker, so every run is split into
    start-up  launch -> first test on each worker (Python, pytest, plugins, xdist's
              worker processes, their collection; the slower worker is what counts),
    tests     first test start -> last test end, against the ideal of the sleeps and
              against the ideal of what the tests really took (their measured
              durations: per-test overhead under load included, scheduling alone judged),
    tail      how long the first worker to finish sat idle before the last finished,
    shutdown  last test end -> the pytest process exited.
  Hypothesis's pytest plugin, when installed (it is in this project's venv), imports all
  of Hypothesis in every process's terminal summary (0.6 s idle, 2 s under load, each
  worker and the controller): the skew runs switch it off (`-p no:hypothesispytest`)
  unless `--keep-hypothesis` is given.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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

#: Records, in each process, when it reached pytest's phases, and on each worker every
#: test's start and end (wall clock, shared by the processes).
TIMELINE = """\
import json, os, pathlib, time
import pytest

OUT = pathlib.Path(os.environ["BENCH_TIMELINE"])
WHO = os.environ.get("PYTEST_XDIST_WORKER", "controller")
EVENTS = {}
SPANS = []

def _process_start():
    # /proc/self/stat field 22: start time in clock ticks after boot (Linux only)
    try:
        ticks = int(pathlib.Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in open("/proc/stat")
                    if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")

EVENTS["process"] = _process_start()
EVENTS["conftest"] = time.time()

def pytest_configure(config):
    EVENTS["configure"] = time.time()

def pytest_sessionstart(session):
    EVENTS["sessionstart"] = time.time()

def pytest_collection_finish(session):
    EVENTS["collected"] = time.time()

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.time()
    try:
        return (yield)
    finally:
        SPANS.append([item.nodeid, start, time.time()])

def pytest_sessionfinish(session):
    EVENTS["sessionfinish"] = time.time()

def pytest_unconfigure(config):
    EVENTS["unconfigure"] = time.time()
    (OUT / f"{WHO}.json").write_text(json.dumps({"events": EVENTS, "spans": SPANS}))
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
    out1 = out2 = ""
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


@dataclass(frozen=True)
class Run:
    """One skew run, in seconds from the launch of pytest."""

    wall: float
    configured: float  # the controller's pytest_configure: Python, pytest, plugins loaded
    workers_up: float  # the later worker's pytest_sessionstart
    collected: float  # the later worker's collection finished
    startup: float  # the later worker's first test
    startup_first: float  # the earlier worker's first test
    tests: float  # first test start (the later worker) -> last test end
    busy_ideal: float  # max(measured test time / workers, longest measured test)
    tail: float  # last test end minus the earlier worker's last test end
    shutdown: float  # last test end -> exit
    workers_done: float  # the later worker's pytest_unconfigure, after the last test end
    controller_done: float  # the controller's pytest_sessionfinish, after the last test end
    overhead_ms: float  # measured minus slept, per test
    first_tests: dict[str, str]  # worker -> its first test


def timeline(out: Path, launch: float, wall: float, sleeps: dict[str, float]) -> Run:
    found = {path.stem: json.loads(path.read_text()) for path in out.glob("*.json")}
    controller = found["controller"]["events"]
    if len(found) > 1:  # a serial run's tests ran in the controller
        found.pop("controller")
    spans = {worker: data["spans"] for worker, data in found.items()}

    def later(event: str) -> float:
        return max(data["events"][event] for data in found.values()) - launch

    firsts = sorted(min(s[1] for s in run) - launch for run in spans.values())
    lasts = sorted(max(s[2] for s in run) - launch for run in spans.values())
    measured = [end - start for run in spans.values() for _, start, end in run]
    slept = sum(sleeps[nodeid] for run in spans.values() for nodeid, _, _ in run)
    return Run(
        wall=wall, configured=controller["configure"] - launch,
        workers_up=later("sessionstart"), collected=later("collected"),
        startup=firsts[-1], startup_first=firsts[0], tests=lasts[-1] - firsts[-1],
        busy_ideal=max(sum(measured) / len(spans), max(measured)),
        tail=lasts[-1] - lasts[0], shutdown=wall - lasts[-1],
        workers_done=later("unconfigure") - lasts[-1],
        controller_done=controller["sessionfinish"] - launch - lasts[-1],
        overhead_ms=1000 * (sum(measured) - slept) / len(measured),
        first_tests={worker: min(run, key=lambda s: s[1])[0].split("::")[-1]
                     for worker, run in sorted(spans.items())})


def skew_run(mode: str, durations: dict[str, float]) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = root / "timeline"
        out.mkdir()
        (root / "policy.yaml").write_text(POLICY)
        (root / "sleeps.json").write_text(json.dumps(durations))
        (root / "test_skew.py").write_text(SKEW)
        (root / "conftest.py").write_text(TIMELINE)
        if mode == "with":
            (root / ".test_durations").write_text(json.dumps(durations))
        os.environ["BENCH_TIMELINE"] = str(out)
        launch = time.time()
        # pytest's cache stays on, as in a user's run: the workers read the policy the
        # controller validated from it (a fresh directory: no durations recorded there)
        wall, _ = run(root, *MODES[mode][1], *OTHERS)
        return timeline(out, launch, wall, durations)


#: Plugins of the environment switched off in the skew runs (see the module's docstring).
OTHERS: list[str] = []

MODES: dict[str, tuple[str, tuple[str, ...]]] = {
    "without": ("loadgroup, no .test_durations", ()),
    "with": ("loadgroup, .test_durations", ()),
    "worksteal": ("--dist worksteal, no file", ("-n", "2", "--dist", "worksteal")),
    # pytest-xdist alone, for its own start-up: the plugin switched off
    "bare": ("no plugin, -n 2 --dist load", ("-p", "no:test_policy", "-n", "2")),
    # no workers: what start-up and shutdown cost a run anyway
    "serial": ("-n 0 (serial)", ("-n", "0")),
}


def skew(repeat: int, modes: list[str]) -> None:
    durations = skew_durations()
    ideal = max(sum(durations.values()) / 2, max(durations.values()))
    results: dict[str, list[Run]] = {mode: [] for mode in modes}
    for _ in range(repeat):
        for mode in modes:  # interleaved: the machine's load changes over minutes
            results[mode].append(skew_run(mode, durations))
    print(f"200 tests, {sum(durations.values()):.2f} s of sleeps (longest 3 s), 2 workers; "
          f"ideal {ideal:.2f} s; medians of {repeat} runs; {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f} at the start, PYTHONDONTWRITEBYTECODE="
          f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}; extra options {OTHERS}")
    print(f"{'':32} {'wall':>6} {'/ideal':>6} {'start':>6} {'tests':>6} {'/ideal':>6} "
          f"{'/meas':>6} {'tail':>5} {'shut':>5} {'ovh/t':>6}")
    for mode in modes:
        runs = results[mode]

        def med(field: str, runs: list[Run] = runs) -> float:
            return statistics.median(getattr(r, field) for r in runs)

        wall, tests = med("wall"), med("tests")
        balance = statistics.median(r.tests / r.busy_ideal for r in runs)
        print(f"{MODES[mode][0]:32} {wall:6.2f} {wall / ideal:6.2f} {med('startup'):6.2f} "
              f"{tests:6.2f} {tests / ideal:6.2f} {balance:6.2f} {med('tail'):5.2f} "
              f"{med('shutdown'):5.2f} {med('overhead_ms'):5.1f}ms")
        print(f"{'':32} walls {', '.join(f'{r.wall:.2f}' for r in runs)}; first tests "
              f"{runs[-1].first_tests}")
        if mode == "serial":
            print(f"{'':32} start-up: configured {med('configured'):.2f} s, collected "
                  f"{med('collected'):.2f} s, first test {med('startup'):.2f} s; after the "
                  f"last test: sessionfinish {med('controller_done'):.2f} s, exit "
                  f"{med('shutdown'):.2f} s")
            continue
        print(f"{'':32} start-up: controller configured {med('configured'):.2f} s, workers "
              f"up {med('workers_up'):.2f} s, collected {med('collected'):.2f} s, first test "
              f"{med('startup_first'):.2f} s / {med('startup'):.2f} s (earlier / later worker)")
        print(f"{'':32} after the last test: workers unconfigured "
              f"{med('workers_done'):.2f} s, controller's sessionfinish "
              f"{med('controller_done'):.2f} s, exit {med('shutdown'):.2f} s")
        excluded = statistics.median(r.wall - r.startup for r in runs)
        print(f"{'':32} excluding start-up (wall - first test on the later worker): "
              f"{excluded:.2f} s = {excluded / ideal:.2f}x ideal")
    if "with" in results and "without" in results:
        walls = {m: statistics.median(r.wall for r in results[m]) for m in ("with", "without")}
        phase = {m: statistics.median(r.tests for r in results[m]) for m in ("with", "without")}
        print(f"ideal {ideal:.2f} s; with .test_durations {walls['with']:.2f} s "
              f"({walls['with'] / ideal:.2f}x), without {walls['without']:.2f} s "
              f"({walls['without'] / ideal:.2f}x); with / without: wall "
              f"{walls['with'] / walls['without']:.2f}, tests phase "
              f"{phase['with'] / phase['without']:.2f} (bar: within 1.15x of the ideal)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print("wall/ideal includes start-up; tests/ideal excludes it (first test on the later "
          "worker -> last test end);\n/meas: the tests phase against the ideal of the "
          "measured test times (scheduling alone); tail: idle time of the worker that "
          "finished first; ovh/t: measured minus slept per test.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=("small", "skew"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--keep-hypothesis", action="store_true")
    args = parser.parse_args()
    if not args.keep_hypothesis and importlib.util.find_spec("_hypothesis_pytestplugin"):
        OTHERS.extend(["-p", "no:hypothesispytest"])
    if args.which == "small":
        small(args.repeat)
    else:
        skew(args.repeat, [m for m in args.modes.split(",") if m in MODES])


if __name__ == "__main__":
    main()
