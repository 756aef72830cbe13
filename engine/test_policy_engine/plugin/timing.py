"""The timing verdict of each test (`Verdict`, kept in `item.stash`), its run (`Run`) and the
per-test load figures: CPU time and time spent waiting for a CPU, read at the start
of a test's setup and as each phase's report is made.

- CPU: the test's thread's, from `/proc/thread-self/schedstat` (1st field, ns on a
  CPU: the kernel brings it up to date at each scheduler tick, so it is exact to a
  tick, 2 ms on the Linux measured), else `time.thread_time()`; plus `resource.getrusage(
  RUSAGE_CHILDREN)` (children the test waited for); `resource` is POSIX only.
- wait: the same read's 2nd field (ns runnable but not running), Linux only; 0
  elsewhere. The file is opened once per thread and re-read with `os.pread`, which the
  kernel regenerates at offset 0. One read for both: each system call also costs the
  code around it (measured in a run: two snapshots took 13 us a test with
  `time.thread_time()` as well).
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
    ESTIMATE_AT,
    Figures,
    children_queued,
    counted_wait,
    figure_properties,
    idle_estimate,
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
    nodeid: str  # the item's (read once: a property that builds it on pytest 9)
    verdict: Verdict
    start: Snapshot  # at the start of the setup
    #: wall, CPU and wait of the setup of fixtures broader than the function in this
    #: test's setup (`plugin.fixtures`) and of the contention probe (`_contention`), left
    #: out of its verdict.
    broad: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
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
    durations: float = 0.0  # pytest's durations of the phases reported so far

    def figures(self) -> Figures:
        """The test's figures from the start of its setup to now."""
        return Figures(*self.measured())

    def measured(self) -> tuple[float, float, float]:
        """(wall, CPU, wait) from the start of its setup to now, less what was left out
        (`broad`), none below 0 (comparisons, not `max` calls: this runs for every test)."""
        cpu, wait, now, children = snapshot()
        start, broad = self.start, self.broad
        self.children = children - start[3]
        wall = now - start[2] - broad[0]
        cpu -= start[0] + broad[1]
        wait -= start[1] + broad[2]
        return (wall if wall > 0 else 0.0, cpu if cpu > 0 else 0.0,
                wait if wait > 0 else 0.0)

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

    def judge(self, report: pytest.TestReport, run: Run) -> str | None:
        """On each phase's report (made right after the phase). After the call, a passing
        test over its limit fails; on the teardown report the figures are written, and a
        test still passing but now over fails there. A test the baseline lists as known
        debt passes, with the line recorded; one it lists and that is within its limit is
        recorded as fixed. Returns the estimate as written on the teardown report (None
        on the others)."""
        when, outcome = report.when, report.outcome  # attributes (`.failed` is a property)
        if when == "setup":
            run.failed = outcome == "failed"
            return None
        judged = not run.failed and outcome == "passed" and not hasattr(report, "wasxfail")
        if when == "call":
            # The estimate is never above the wall time: within the limit on the wall
            # clock, there is nothing to judge yet (the common case, one clock read).
            if judged and run.wall() > self.limit:
                figures = run.corrected(run.figures(), self.limit)
                if is_over(self.limit, figures):
                    self._over(report, run, figures)
            run.failed = run.failed or report.outcome == "failed"
            return None
        wall, cpu, wait = run.measured()
        if not (judged and (wall > self.limit or self.debt is not None)):
            # The common case, within the limit on the wall clock: no `Figures`.
            written = figure_properties(wall, cpu, wait, idle_estimate(wall, cpu, wait))
            report.user_properties += written
            run.failed = run.failed or outcome == "failed"
            return written[ESTIMATE_AT][1]
        figures = run.corrected(Figures(wall, cpu, wait), self.limit)
        written = figures.properties()
        report.user_properties += written
        if judged:
            if is_over(self.limit, figures):
                self._over(report, run, figures)
            elif (self.debt is not None and not run.reported
                  and self.debt.fixed(strip_group_suffix(report.nodeid), figures.estimate,
                                      self.limit)):
                _record(run, report, BASELINE_PROPERTY, "fixed")
        run.failed = run.failed or report.outcome == "failed"
        return written[ESTIMATE_AT][1]

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
                _record(run, report, BASELINE_PROPERTY, "known")
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
            _record(run, report, REPORTED_PROPERTY, reported(line))
            report.sections.append(("test policy", reported(line)))


def _record(run: Run, report: pytest.TestReport, name: str, value: str) -> None:
    """A JUnit property, from any phase: junitxml writes the teardown report's, which
    pytest copies from the item's when it makes that report."""
    if report.when == "teardown":
        report.user_properties.append((name, value))
    else:
        run.item.user_properties.append((name, value))


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
    wall clock, the children's part of the CPU time). Where schedstat exists, one read
    gives the thread's CPU time (1st field) and its wait (2nd); else `time.thread_time()`
    and no wait."""
    children = _children_cpu()
    fields = _schedstat()
    try:
        ran = int(fields[0])
        if ran:  # "0 0 0": a kernel that keeps no schedstat
            return ran / 1e9 + children, int(fields[1]) / 1e9, wall_clock(), children
    except (IndexError, ValueError):
        pass
    return time.thread_time() + children, 0.0, wall_clock(), children


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
