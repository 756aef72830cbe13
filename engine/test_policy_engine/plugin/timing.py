"""The timing verdict's state on each test (`Verdict`, kept in `item.stash`) and the
per-test load figures: CPU time and time spent waiting for a CPU, read at the start
of a test's setup and as each phase's report is made.

- CPU: `time.thread_time()` (the test's thread) plus `resource.getrusage(
  RUSAGE_CHILDREN)` (children the test waited for); `resource` is POSIX only.
- wait: `/proc/thread-self/schedstat`, 2nd field (ns runnable but not running),
  Linux only; 0 elsewhere. The file is opened once per thread and re-read with
  `os.pread`, which the kernel regenerates at offset 0 (measured: 0.7 us a read,
  0.6 us for getrusage + thread_time on a 2-CPU Linux machine).
- wall: `time.clock_gettime(CLOCK_MONOTONIC)` from the start of setup, not pytest's
  report durations: freezegun and time-machine replace `time.perf_counter` wherever it
  is bound, pytest's timing module included, so a clock frozen from setup to teardown made
  pytest report 1,308,869,265 s for a test of a few milliseconds (itsdangerous's suite).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from test_policy_engine.plugin.summary import strip_group_suffix
from test_policy_engine.policy.enforcement import BASELINE_PROPERTY, REPORTED_PROPERTY, reported
from test_policy_engine.policy.verdict import Figures, is_over, message

if TYPE_CHECKING:
    from test_policy_engine.baseline.debt import Debt

try:
    import resource

    def _children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
except ImportError:  # pragma: no cover (Windows)

    def _children_cpu() -> float:
        return 0.0


Snapshot = tuple[float, float, float]  # (cpu, wait, monotonic wall clock), seconds

#: The limit a test is judged by, set on each selected test by `Active.apply`.
VERDICT: pytest.StashKey[Verdict] = pytest.StashKey()
#: (cpu, wait) at the start of the test's setup.
START: pytest.StashKey[Snapshot] = pytest.StashKey()
#: (wall, cpu, wait) of the setup of fixtures broader than the function in this test's
#: setup (`plugin.fixtures`), left out of its verdict.
BROAD: pytest.StashKey[tuple[float, float, float]] = pytest.StashKey()
#: True while the test's call runs (a report made meanwhile is a subtest's).
RUNNING: pytest.StashKey[bool] = pytest.StashKey()
#: Whether a verdict was already reported (not failed) for this test.
REPORTED: pytest.StashKey[bool] = pytest.StashKey()


#: The test's setup + call durations so far, and whether a phase already failed.
SO_FAR: pytest.StashKey[tuple[float, bool]] = pytest.StashKey()


@dataclass(frozen=True)
class Verdict:
    """The limit one test is judged by after it ran."""

    category: str
    limit: float
    where: str  # the glob, marker or reason the limit came from
    fails: bool = True  # False under `enforce: warn`: the verdict is only reported
    debt: Debt | None = field(default=None, compare=False)  # the baseline's slow tests

    def judge(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """On each phase's report (made right after the phase): add up the durations.
        After the call, a passing test over its limit fails; on the teardown report the
        figures are written, and a test still passing but now over fails there. A test
        the baseline lists as known debt passes, with the line recorded; one it lists
        and that is within its limit is recorded as fixed."""
        stash = item.stash
        duration, failed = stash.get(SO_FAR, (0.0, False))
        duration += report.duration  # pytest's clock: only where ours did not start
        when = report.when
        broad = stash.get(BROAD, None)  # broad fixtures' setup: not this test's time
        start = stash.get(START, None)
        if when == "setup":
            stash[SO_FAR] = (duration, failed or report.failed)
            return
        if start is not None:
            cpu, wait, wall = snapshot()
            cpu, wait, wall = cpu - start[0], wait - start[1], wall - start[2]
            if broad is not None:
                wall, cpu, wait = wall - broad[0], cpu - broad[1], wait - broad[2]
            figures = Figures(max(wall, 0.0), max(cpu, 0.0), max(wait, 0.0))
        else:
            if broad is not None:
                duration -= broad[0]
            figures = Figures(max(duration, 0.0))
        if when == "teardown":
            report.user_properties.extend(figures.properties())
        if not failed and report.passed and not hasattr(report, "wasxfail"):
            if is_over(self.limit, figures):
                failed = self._over(item, report, figures)
            elif (when == "teardown" and self.debt is not None
                  and not stash.get(REPORTED, False)
                  and self.debt.fixed(strip_group_suffix(item.nodeid), figures.estimate,
                                      self.limit)):
                _record(item, report, BASELINE_PROPERTY, "fixed")
        stash[SO_FAR] = (duration, failed or report.failed)

    def _over(self, item: pytest.Item, report: pytest.TestReport, figures: Figures) -> bool:
        """A passing test over its limit: fail it (True) or record the line."""
        line = message(self.category, self.limit, self.where, figures)
        standing = (None if self.debt is None
                    else self.debt.standing(strip_group_suffix(item.nodeid), figures.estimate))
        if standing is not None and standing[0] == "known":
            if not item.stash.get(REPORTED, False):
                item.stash[REPORTED] = True
                assert self.debt is not None
                known = self.debt.known_line(figures.estimate, self.limit, standing[1])
                _record(item, report, BASELINE_PROPERTY, "known")
                report.sections.append(("test policy", known))
            return False
        if standing is not None:
            assert self.debt is not None
            line += self.debt.failing_note(*standing)
        if self.fails:
            report.outcome = "failed"
            report.longrepr = line
            return True
        if not item.stash.get(REPORTED, False):  # `enforce: warn`: said, not failed
            # No warning: under `filterwarnings = error` one raised in a report hook
            # is an INTERNALERROR. The line goes to the report and the JUnit instead.
            item.stash[REPORTED] = True
            _record(item, report, REPORTED_PROPERTY, reported(line))
            report.sections.append(("test policy", reported(line)))
        return False


def _record(item: pytest.Item, report: pytest.TestReport, name: str, value: str) -> None:
    """A JUnit property, from any phase: junitxml writes the teardown report's, which
    pytest copies from the item's when it makes that report."""
    if report.when == "teardown":
        report.user_properties.append((name, value))
    else:
        item.user_properties.append((name, value))


_fds: dict[int, int] = {}  # thread id -> open schedstat file (tests run on one thread)


def _wait() -> float:
    ident = threading.get_ident()
    fd = _fds.get(ident)
    if fd is None:
        try:
            fd = _fds[ident] = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            fd = _fds[ident] = -1
    if fd < 0:
        return 0.0
    try:
        return int(os.pread(fd, 128, 0).split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def snapshot() -> Snapshot:
    """(CPU time of this thread and its waited-for children, time waited for a CPU, the
    wall clock)."""
    return time.thread_time() + _children_cpu(), _wait(), _wall()


if hasattr(time, "clock_gettime") and hasattr(time, "CLOCK_MONOTONIC"):
    def _wall() -> float:
        # A clock that freezegun and time-machine leave alone: they replace
        # `time.perf_counter`, `time.monotonic` (and every module attribute bound to
        # them, pytest's own included, so its report durations go wrong under a frozen
        # clock), not `time.clock_gettime`.
        return time.clock_gettime(time.CLOCK_MONOTONIC)
else:  # pragma: no cover (Windows)
    _CLOCK = {"perf_counter": time.perf_counter}  # in a dict: no module attribute to patch

    def _wall() -> float:
        return _CLOCK["perf_counter"]()
