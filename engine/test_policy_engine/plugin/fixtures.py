"""Broad fixtures are not the first test's fault.

A class-, module-, package- or session-scoped fixture is set up once for many tests, but
pytest bills its setup to whichever test needs it first (its setup phase, JUnit's
`time`). Measured here per fixture (`pytest_fixture_setup`), the setup of a fixture
broader than the function is left out of that test's verdict (wall, CPU and wait alike),
and a slow one is reported on its own: a `test_policy.fixture` property on the test that
paid for it (`session fixture venv (tests/conftest.py:12): 8.10 s`) and a line in the
terminal summary. While it is set up, the test's kill point is paused and the largest kill
point of the policy applies (`signal` method: the remaining time is put back after).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Generator
from pathlib import Path

import pytest

from test_policy_engine.plugin import leftovers
from test_policy_engine.plugin.phases import Phases
from test_policy_engine.plugin.summary import FIXTURE_PROPERTY
from test_policy_engine.plugin.timing import snapshot
from test_policy_engine.policy.timeouts import CASCADE_PROPERTY


class BroadFixtures:
    def __init__(self, phases: Phases, root: Path, largest_kill: float,
                 warn_ratio: float) -> None:
        self.phases = phases  # whose `run` is the test being run
        self.root = root
        self.largest_kill = largest_kill
        self.warn_ratio = warn_ratio
        self.depth = 0  # broad fixtures being set up (a broad one may need another)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[object]
                             ) -> Generator[None, object, object]:
        # In the test's setup, or in its call (`request.getfixturevalue`).
        run = self.phases.run
        if run is None or fixturedef.scope == "function" or self.depth:
            return (yield)
        self.depth += 1
        remaining = self._pause_kill()
        cpu0, wait0, start, _ = snapshot()
        done = False
        try:
            result = yield
            done = True
            return result
        except BaseException as error:
            failed = self.phases.failed_fixtures
            if not failed:  # from now on, the setup reports are checked for its error
                run.item.config.pluginmanager.register(Cascades(self.phases),
                                                       "test_policy_cascades")
            failed[id(error)] = (
                error, f"{fixturedef.scope} fixture {fixturedef.argname}", run.item.nodeid)
            raise
        finally:
            cpu, wait, end, _ = snapshot()
            wall = end - start
            self.depth -= 1
            self._resume_kill(remaining)
            broad = run.broad
            if done and self.largest_kill > 0 and leftovers.PROC.is_dir():
                # What it started is kept if the test is then stopped at its kill point
                # (not when its own setup failed or was stopped: then it is the test's).
                run.kept = (run.kept or set()) | leftovers.descendant_pids(os.getpid())
            broad[0] += wall
            broad[1] += max(cpu - cpu0, 0.0)
            broad[2] += max(wait - wait0, 0.0)
            if wall > self.warn_ratio * run.verdict.limit:
                run.item.user_properties.append(
                    (FIXTURE_PROPERTY, f"{fixturedef.scope} fixture {fixturedef.argname} "
                                       f"({self._where(fixturedef)}): {wall:.2f} s"))

    def _pause_kill(self) -> float:
        """The test's remaining time to its kill point (0: no timer); the largest kill point
        of the policy runs meanwhile."""
        if (self.largest_kill <= 0 or not hasattr(signal, "setitimer")
                or threading.current_thread() is not threading.main_thread()):
            return 0.0
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        if remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, max(self.largest_kill, remaining))
        return remaining

    @staticmethod
    def _resume_kill(remaining: float) -> None:
        if remaining > 0 and signal.getitimer(signal.ITIMER_REAL)[0] > 0:
            signal.setitimer(signal.ITIMER_REAL, remaining)

    def _where(self, fixturedef: pytest.FixtureDef[object]) -> str:
        code = getattr(fixturedef.func, "__code__", None)
        if code is None:
            return "?"
        path = Path(code.co_filename)
        try:
            shown = path.relative_to(self.root).as_posix()
        except ValueError:
            shown = path.as_posix()
        return f"{shown}:{code.co_firstlineno}"


class Cascades:
    """Registered once a broad fixture's setup failed: a later test's setup that fails on
    the same error (pytest raises it again in each test that uses the fixture) says so,
    and is counted as that fixture's failure (`test_policy.failed_fixture`)."""

    def __init__(self, phases: Phases) -> None:
        self.phases = phases

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when != "setup" or not report.failed or call.excinfo is None:
            return report
        error = call.excinfo.value
        found = self.phases.failed_fixtures.get(id(error))
        if found is not None and found[0] is error and found[2] != item.nodeid:
            said = f"{found[1]} failed in {found[2]}"
            item.user_properties.append((CASCADE_PROPERTY, said))
            report.sections.append(("test policy", f"{said}; pytest raises its error again "
                                    "in each test that uses it (this one did not run)"))
        return report
