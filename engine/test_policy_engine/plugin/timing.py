"""The timing verdict of each test (`Verdict`, kept in `item.stash`), its run (`Run`) and the
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
from test_policy_engine.policy.verdict import (
    Figures,
    children_queued,
    counted_wait,
    is_over,
    message,
)

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


#: (cpu, wait, monotonic wall clock, the waited-for children's part of cpu), seconds
Snapshot = tuple[float, float, float, float]

#: The limit a test is judged by, set on each selected test by `Active.apply`.
VERDICT: pytest.StashKey[Verdict] = pytest.StashKey()


@dataclass(slots=True)
class Run:
    """One test's run, from the start of its setup to its teardown report (made and kept
    by `plugin.phases`: a process runs one test at a time)."""

    item: pytest.Item
    verdict: Verdict
    start: Snapshot  # at the start of the setup
    #: wall, CPU and wait of the setup of fixtures broader than the function in this
    #: test's setup (`plugin.fixtures`) and of the contention probe (`_contention`), left
    #: out of its verdict.
    broad: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    running: bool = False  # the call runs (a report made meanwhile is a subtest's)
    reported: bool = False  # a verdict line was already reported (not failed)
    failed: bool = False  # a phase failed
    #: The processes alive when the setup of a broad fixture during this test ended
    #: (theirs, not this test's: `plugin.leftovers`), where there were any.
    kept: set[int] | None = None
    #: The processes this test left running when it was stopped at its kill point, and
    #: that were terminated (`plugin.leftovers`).
    leftovers: list[str] | None = None
    children: float = 0.0  # CPU time of the children it waited for, at `figures()`
    contention: float | None = None  # the machine's, once measured (`_contention`)

    def figures(self) -> Figures:
        """The test's figures from the start of its setup to now."""
        cpu, wait, wall, children = snapshot()
        start, broad = self.start, self.broad
        self.children = children - start[3]
        return Figures(max(wall - start[2] - broad[0], 0.0),
                       max(cpu - start[0] - broad[1], 0.0),
                       max(wait - start[1] - broad[2], 0.0))

    def corrected(self, figures: Figures, limit: float) -> Figures:
        """`figures` (from `figures()`) with their load corrections checked where they
        decide the verdict, the wall time being over `limit`: the thread's wait counted up
        to what its CPU time explains (`policy.verdict.counted_wait`), then, still over,
        its children's queueing for a CPU (`children_queued`). The machine's contention is
        measured once per test, only where the figures need it."""
        if figures.wall <= limit:
            return figures
        if figures.wait > 0 and not is_over(limit, figures):
            wait = counted_wait(figures, self.children)
            if wait < figures.wait:
                wait = counted_wait(figures, self.children, self._contention())
                figures = Figures(figures.wall, figures.cpu, wait)
        if self.children > 0 and is_over(limit, figures):
            queued = children_queued(figures, self.children, self._contention())
            if queued > 0:
                figures = Figures(figures.wall, figures.cpu, figures.wait, queued)
        return figures

    def _contention(self) -> float:
        """The machine's contention (`contention`), probed once per test; the probe's own
        time is not the test's: left out as a broad fixture's setup is."""
        if self.contention is None:
            before = snapshot()
            self.contention = contention()
            after, broad = snapshot(), self.broad
            broad[0] += after[2] - before[2]
            broad[1] += max(after[0] - before[0], 0.0)
            broad[2] += max(after[1] - before[1], 0.0)
        return self.contention

    def wall(self) -> float:
        """The wall time so far: a bound of the estimate that costs one clock read."""
        return wall_clock() - self.start[2] - self.broad[0]


@dataclass(frozen=True)
class Verdict:
    """The limit one test is judged by after it ran."""

    category: str
    limit: float
    where: str  # the glob, marker or reason the limit came from
    fails: bool = True  # False under `enforce: warn`: the verdict is only reported
    debt: Debt | None = field(default=None, compare=False)  # the baseline's slow tests
    #: Where the plugin arms pytest-timeout's handler itself (`plugin.kill`), for a test
    #: with no `timeout` marker; 0: a `timeout` marker (or nothing) stops the test.
    kill: float = 0.0

    def judge(self, report: pytest.TestReport, run: Run) -> None:
        """On each phase's report (made right after the phase). After the call, a passing
        test over its limit fails; on the teardown report the figures are written, and a
        test still passing but now over fails there. A test the baseline lists as known
        debt passes, with the line recorded; one it lists and that is within its limit is
        recorded as fixed."""
        when, outcome = report.when, report.outcome  # attributes (`.failed` is a property)
        if when == "setup":
            run.failed = outcome == "failed"
            return
        judged = not run.failed and outcome == "passed" and not hasattr(report, "wasxfail")
        if when == "call":
            # The estimate is never above the wall time: within the limit on the wall
            # clock, there is nothing to judge yet (the common case, one clock read).
            if judged and run.wall() > self.limit:
                figures = run.corrected(run.figures(), self.limit)
                if is_over(self.limit, figures):
                    self._over(report, run, figures)
            run.failed = run.failed or report.outcome == "failed"
            return
        figures = run.figures()
        if judged:
            figures = run.corrected(figures, self.limit)
        report.user_properties.extend(figures.properties())
        if judged:
            if is_over(self.limit, figures):
                self._over(report, run, figures)
            elif (self.debt is not None and not run.reported
                  and self.debt.fixed(strip_group_suffix(report.nodeid), figures.estimate,
                                      self.limit)):
                _record(run.item, report, BASELINE_PROPERTY, "fixed")
        run.failed = run.failed or report.outcome == "failed"

    def _over(self, report: pytest.TestReport, run: Run, figures: Figures) -> None:
        """A passing test over its limit: fail it, or record the line."""
        line = message(self.category, self.limit, self.where, figures)
        standing = (None if self.debt is None
                    else self.debt.standing(strip_group_suffix(report.nodeid),
                                            figures.estimate))
        if standing is not None and standing[0] == "known":
            if not run.reported:
                run.reported = True
                assert self.debt is not None
                known = self.debt.known_line(figures.estimate, self.limit, standing[1])
                _record(run.item, report, BASELINE_PROPERTY, "known")
                report.sections.append(("test policy", known))
            return
        if standing is not None:
            assert self.debt is not None
            line += self.debt.failing_note(*standing)
        if self.fails:
            report.outcome = "failed"
            report.longrepr = line
            return
        if not run.reported:  # `enforce: warn`: said, not failed
            # No warning: under `filterwarnings = error` one raised in a report hook
            # is an INTERNALERROR. The line goes to the report and the JUnit instead.
            run.reported = True
            _record(run.item, report, REPORTED_PROPERTY, reported(line))
            report.sections.append(("test policy", reported(line)))


def _record(item: pytest.Item, report: pytest.TestReport, name: str, value: str) -> None:
    """A JUnit property, from any phase: junitxml writes the teardown report's, which
    pytest copies from the item's when it makes that report."""
    if report.when == "teardown":
        report.user_properties.append((name, value))
    else:
        item.user_properties.append((name, value))


_fds: dict[int, int] = {}  # thread id -> open schedstat file (tests run on one thread)


def _schedstat() -> list[bytes]:
    """This thread's `/proc/thread-self/schedstat` fields (ns on a CPU, ns waiting for
    one, time slices); [] where there is none."""
    ident = threading.get_ident()
    fd = _fds.get(ident)
    if fd is None:
        try:
            fd = _fds[ident] = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            fd = _fds[ident] = -1
    if fd < 0:
        return []
    try:
        return os.pread(fd, 128, 0).split()
    except OSError:
        return []


def _wait() -> float:
    try:
        return int(_schedstat()[1]) / 1e9
    except (IndexError, ValueError):
        return 0.0


#: How long `contention` spins (wall time): enough scheduler time slices (a few ms each)
#: for a stable ratio, little beside a test already over its limit.
PROBE_SECONDS = 0.2


def contention(seconds: float = PROBE_SECONDS) -> float:
    """The machine's contention now: how long this thread, kept busy for `seconds`, waited
    for a CPU per second it ran (0 on an idle machine, 1.5 with five CPU-bound processes
    on two CPUs; 0 where schedstat does not exist)."""
    try:
        before = _schedstat()
        ran0, waited0 = int(before[0]), int(before[1])
        end = wall_clock() + seconds
        while wall_clock() < end:
            pass
        after = _schedstat()
        ran, waited = int(after[0]) - ran0, int(after[1]) - waited0
    except (IndexError, ValueError):
        return 0.0
    return waited / ran if ran > 0 else 0.0


def snapshot() -> Snapshot:
    """(CPU time of this thread and its waited-for children, time waited for a CPU, the
    wall clock, the children's part of the CPU time)."""
    children = _children_cpu()
    return time.thread_time() + children, _wait(), wall_clock(), children


if hasattr(time, "clock_gettime") and hasattr(time, "CLOCK_MONOTONIC"):
    def wall_clock() -> float:
        # A clock that freezegun and time-machine leave alone: they replace
        # `time.perf_counter`, `time.monotonic` (and every module attribute bound to
        # them, pytest's own included, so its report durations go wrong under a frozen
        # clock), not `time.clock_gettime`.
        return time.clock_gettime(time.CLOCK_MONOTONIC)
else:  # pragma: no cover (Windows)
    _CLOCK = {"perf_counter": time.perf_counter}  # in a dict: no module attribute to patch

    def wall_clock() -> float:
        return _CLOCK["perf_counter"]()
