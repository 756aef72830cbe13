"""The plugin's per-test hooks: two plain ones for every test, the rest only when needed.

Every hook an installed plugin implements runs for every test (pluggy calls each
implementation with its own arguments, a wrapper as a generator), so the common path is
two plain hooks: `pytest_runtest_setup` (tryfirst) takes the test's start figures and
arms its kill point (`plugin.kill`, a subclass), `pytest_runtest_logreport` (tryfirst:
before the terminal, the JUnit file and pytest-xdist's message see the report) judges
each phase's report (`Verdict.judge`) and, where the run's summary is kept in this
process, adds the report to it. What is rare registers its own hooks when it happens: a
kill point reached while pytest reports (`plugin.kill`), a broad fixture that failed
(`plugin.fixtures`). The state of the test being run is one `Run` held here, not a
handful of `item.stash` keys. Registered only when a policy is in force and no debugger
is asked for: a run without a policy pays for none of it.
`benchmarks/bench_test_cost.py` counts what one test costs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any, Protocol

import pytest

from test_policy_engine.plugin.summary import LEFTOVERS_PROPERTY
from test_policy_engine.plugin.timing import VERDICT, Run, snapshot

Handler = Callable[[int, FrameType | None], Any]


class Summary(Protocol):
    """What receives every report after the verdict: the run's summary, where it is kept
    in this process (not on a pytest-xdist worker; `plugin.run`)."""

    def record(self, report: pytest.TestReport, nodeid: str) -> None:
        """A report, as logged (`nodeid`: its node id, read once)."""

    def judged(self, report: pytest.TestReport, nodeid: str, run: Run,
               estimate: str | None) -> None:
        """The teardown report of a test judged here, whose setup's and call's reports
        were not recorded (`run.durations` holds their durations)."""

#: pytest calls each phase's hook (`pytest_runtest_setup`, `..._call`, `..._teardown`)
#: through `CallInfo.from_call`, which catches what the phase raises into its report.
_FROM_CALL: CodeType = pytest.CallInfo.from_call.__func__.__code__  # type: ignore[attr-defined]


def in_phase(frame: FrameType | None) -> bool:
    """Whether `frame` runs inside a phase of a test: within the function pytest's
    `CallInfo.from_call` calls, so that an exception raised here fails the phase, not the
    session. Outside it (making or logging a report: the terminal's counters,
    pytest-xdist's message to the controller) one is an INTERNALERROR."""
    while frame is not None:
        back = frame.f_back
        if back is not None and back.f_code is _FROM_CALL:
            return True
        frame = back
    return False


class Phases:
    """Takes each test's start figures, judges its reports (`Verdict.judge`)."""

    def __init__(self, summary: Summary | None = None) -> None:
        self.run: Run | None = None  # the test being run (a process runs one at a time)
        self.summary = summary
        self.stopped: pytest.Item | None = None  # the test the kill point acted on
        #: id(exception) -> (the exception, "session fixture db", the test it failed in):
        #: broad fixtures whose setup raised (`plugin.fixtures`), which pytest raises again
        #: in the setup of every later test that uses them.
        self.failed_fixtures: dict[int, tuple[BaseException, str, str]] = {}
        self.pending = False  # a timer of `plugin.kill` may still run (see `_cancel`)

    def _arm(self, run: Run) -> None:
        """Arm the kill point of a test that has no `timeout` marker (`plugin.kill`)."""

    def _cancel(self) -> None:
        """Cancel the timer an earlier test's kill point left running (`plugin.kill`)."""

    def _end(self, run: Run) -> None:
        """The test's teardown was reported: its kill point is over (`plugin.kill`)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        verdict = item.stash.get(VERDICT, None)
        if verdict is None:
            self.run = None
        else:
            run = self.run = Run(item, item.nodeid, verdict, snapshot(), [0.0, 0.0, 0.0])
            if verdict.kill:
                self._arm(run)
                return
        if self.pending:
            self._cancel()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        run = self.run
        nodeid = report.nodeid
        summary = self.summary
        # A report logged while the test's call still runs (a subtest's, a subclass of
        # TestReport) is part of the test, judged with the whole of it.
        if run is None or nodeid != run.nodeid or (
                type(report) is not pytest.TestReport and in_phase(sys._getframe())):
            if summary is not None:
                summary.record(report, nodeid)
            return
        estimate = run.verdict.judge(report, run)
        if report.when != "teardown":
            run.durations += report.duration  # given to the summary with the teardown's
            return
        self._end(run)
        self.run = None
        if run.leftovers:  # in the JUnit and the summary
            report.user_properties.append((LEFTOVERS_PROPERTY, "; ".join(run.leftovers)))
        if summary is not None:
            summary.judged(report, nodeid, run, estimate)
