"""The plugin's per-test hooks: one wrapper per phase of a test, and one per report.

Every hook an installed plugin implements runs for every test (pluggy calls each
implementation with its own arguments, a wrapper as a generator), so the timing verdict,
the kill point (`plugin.kill`, a subclass) and the broad fixtures (`plugin.fixtures`)
share these wrappers instead of having their own, and the state of the test being run is
one `Run` held here, not a handful of `item.stash` keys. Registered only when a policy is
in force and no debugger is asked for: a run without a policy pays for none of it.
`benchmarks/bench_test_cost.py` counts what one test costs.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Generator
from types import FrameType
from typing import Any

import pytest

from test_policy_engine.plugin.summary import LEFTOVERS_PROPERTY
from test_policy_engine.plugin.timing import VERDICT, Run, snapshot
from test_policy_engine.policy.timeouts import CASCADE_PROPERTY

Handler = Callable[[int, FrameType | None], Any]


class Phases:
    """Takes each test's start figures, judges its reports (`Verdict.judge`)."""

    def __init__(self) -> None:
        self.run: Run | None = None  # the test being run (a process runs one at a time)
        # The kill point's state (`plugin.kill`): whether a phase of the test runs, and
        # pytest-timeout's handler held when its timer fired outside one.
        self.in_phase = False
        self.held: tuple[pytest.Item, Handler] | None = None
        self.stopped: pytest.Item | None = None  # the test the kill point acted on
        #: id(exception) -> (the exception, "session fixture db", the test it failed in):
        #: broad fixtures whose setup raised (`plugin.fixtures`), which pytest raises again
        #: in the setup of every later test that uses them.
        self.failed_fixtures: dict[int, tuple[BaseException, str, str]] = {}

    def _arm(self, run: Run) -> None:
        """Arm the kill point of a test that has no `timeout` marker (`plugin.kill`)."""

    def _enter(self, item: pytest.Item) -> None:
        """Enter a phase of `item`: a kill held for it acts now. The phase ends in the
        wrapper's own `finally` (these wrappers are the outermost), not at the report: a
        report made while the test runs (a subtest's) does not end the phase."""
        self.in_phase = True
        held = self.held
        if held is not None:
            self.held = None
            if held[0] is item:
                self.stopped = item
                held[1](signal.SIGALRM, None)  # raises pytest-timeout's `Failed: Timeout`

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        verdict = item.stash.get(VERDICT, None)
        if verdict is None:
            self.run = None
        else:
            run = self.run = Run(item, verdict, snapshot(), [0.0, 0.0, 0.0])
            if verdict.kill:
                self._arm(run)
        try:
            self._enter(item)
            return (yield)
        finally:
            self.in_phase = False

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        run = self.run
        if run is not None and run.item is item:
            run.running = True
        try:
            self._enter(item)
            return (yield)
        finally:
            self.in_phase = False
            if run is not None:
                run.running = False

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        run = self.run
        # A report made while the test's call still runs (a subtest's) is part of the
        # test, judged with the whole of it.
        if run is not None and run.item is item and not run.running:
            if report.when == "setup" and report.failed and self.failed_fixtures:
                self._cascade(item, call, report)
            run.verdict.judge(report, run)
            if report.when == "teardown":
                self.run = None
                if run.leftovers:  # in the JUnit and the summary
                    report.user_properties.append((LEFTOVERS_PROPERTY,
                                                   "; ".join(run.leftovers)))
        return report

    def _cascade(self, item: pytest.Item, call: pytest.CallInfo[None],
                 report: pytest.TestReport) -> None:
        """A setup that failed on a broad fixture's failure from an earlier test."""
        error = call.excinfo.value if call.excinfo is not None else None
        found = self.failed_fixtures.get(id(error))
        if found is not None and found[0] is error and found[2] != item.nodeid:
            said = f"{found[1]} failed in {found[2]}"
            item.user_properties.append((CASCADE_PROPERTY, said))
            report.sections.append(("test policy", f"{said}; pytest raises its error again "
                                    "in each test that uses it (this one did not run)"))
