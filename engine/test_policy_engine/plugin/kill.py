"""The kill point never fires inside pytest's own hooks.

pytest-timeout's `signal` method arms one SIGALRM timer for the whole runtest protocol:
setup, call and teardown, and also the reporting between them (`pytest_runtest_makereport`,
`pytest_runtest_logreport`: the terminal reporter's counters, pytest-xdist's message to the
controller). A `Failed: Timeout` raised there is an INTERNALERROR that ends the session
(or a worker's), and the tests after it are never run nor recorded (seen under
`--splits 2 --group 1`: 351 of 357 tests recorded).

So the handler pytest-timeout installs is wrapped (through its documented
`pytest_timeout_set_timer` hook): inside a phase of the test it acts at once; anywhere
else it is held and acts as the test's next phase begins, so the test fails in that phase
with pytest-timeout's own message: before the setup or the call runs, or after the
teardown ran (its fixtures are still finalized; a teardown that hangs meanwhile is stopped
by a timer armed again for the kill point). A timer that fires after the teardown began
reporting is dropped (held for a test that has ended, it is let go as the next test's
setup begins): pytest-timeout cancels its timer next. A hang
in a reporting hook is not the test's, and is not stopped here.

A test with no `timeout` marker of its own (nearly all) gets no marker either: the plugin
arms the SIGALRM timer at its kill point itself as its setup begins, with the deferring
handler above, and disarms it when its teardown ends; when the timer fires inside a
phase, pytest-timeout's own handler (`timeout_sigalrm`: the threads' stacks, then
`Failed: Timeout >10.0s`) stops the test, as it would have. What pytest-timeout does per
test for a marker (reading it twice, its two hooks, `signal.signal` through the enum
wrappers) was a third of the plugin's cost per test (`benchmarks/bench_verdict.py`). The
marker stays where pytest-timeout must read one: a test with its own `timeout` marker,
the `thread` method, a `timeout` ini value or `PYTEST_TIMEOUT`, `timeout_func_only`, and
a test run off the main thread (armed through pytest-timeout's documented
`pytest_timeout_set_timer` hook, `thread` method).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Generator
from types import FrameType
from typing import Any

import pytest

from test_policy_engine.plugin import leftovers
from test_policy_engine.plugin.phases import Handler, Phases
from test_policy_engine.plugin.timing import Run, wall_clock

#: The C module that `signal` wraps (`signal` itself elsewhere): its getsignal and signal
#: take and give plain ints, not enums (0.7 us for both, 16 us through `signal`, a test).
_RAW: Any = sys.modules.get("_signal", signal)
_SIGALRM = int(signal.SIGALRM)
_ITIMER_REAL = int(signal.ITIMER_REAL)


def _settings(item: pytest.Item, seconds: float, method: str) -> Any:
    """pytest-timeout's settings for `item` stopped at `seconds` (its debugger detection
    as configured)."""
    import pytest_timeout

    return pytest_timeout.get_env_settings(item.config)._replace(
        timeout=seconds, method=method, func_only=False)


def _stopper(item: pytest.Item, seconds: float) -> Handler:
    """pytest-timeout's own handler for `item` at `seconds`."""
    settings = _settings(item, seconds, "signal")

    def stop(signum: int, frame: FrameType | None) -> Any:
        __tracebackhide__ = True
        import pytest_timeout

        pytest_timeout.timeout_sigalrm(item, settings)

    return stop


class KillPoint(Phases):
    """The per-test hooks (`plugin.phases`) with the kill point: used when pytest-timeout
    is loaded and SIGALRM exists."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0  # the running test's kill point
        self.armed: pytest.Item | None = None  # the test whose timer the plugin armed
        self.threaded: pytest.Item | None = None  # ... through pytest-timeout's hook
        self.previous: Any = 0  # the SIGALRM handler before `armed`'s (0: SIG_DFL)
        self.main = threading.main_thread().ident
        self.fire: Handler = self._fire  # bound once: installed for every test

    def _arm(self, run: Run) -> None:
        item = run.item
        self.seconds = seconds = run.verdict.kill
        if threading.get_ident() != self.main:  # no signals off the main thread
            item.config.pluginmanager.hook.pytest_timeout_set_timer(
                item=item, settings=_settings(item, seconds, "thread"))
            self.threaded = item
            return
        self.armed = item
        self.previous = _RAW.signal(_SIGALRM, self.fire)
        _RAW.setitimer(_ITIMER_REAL, seconds)

    def _disarm(self) -> None:
        item, self.armed = self.armed, None
        if item is not None:
            _RAW.setitimer(_ITIMER_REAL, 0)
            previous, self.previous = self.previous, 0
            _RAW.signal(_SIGALRM, previous if previous is not None else 0)
        threaded, self.threaded = self.threaded, None
        if threaded is not None:
            threaded.config.pluginmanager.hook.pytest_timeout_cancel_timer(item=threaded)

    def _fire(self, signum: int, frame: FrameType | None) -> Any:
        """The plugin's own SIGALRM handler: pytest-timeout's, deferred outside a phase."""
        __tracebackhide__ = True
        item = self.armed
        if item is None:
            return None
        handler = _stopper(item, self.seconds)
        if self.in_phase:
            self.stopped = item
            return handler(signum, frame)
        self.held = (item, handler)
        return None

    def pytest_sessionfinish(self) -> None:
        """A run cut short between a test's setup and its teardown (Ctrl-C, `Exit`)."""
        self._disarm()

    @pytest.hookimpl(wrapper=True, optionalhook=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings: Any
                                 ) -> Generator[None, object, object]:
        result = yield
        self.seconds = float(getattr(settings, "timeout", 0) or 0)
        if threading.current_thread() is threading.main_thread():
            handler = _RAW.getsignal(_SIGALRM)
            if callable(handler):
                _RAW.signal(_SIGALRM, self._wrap(item, handler))
        return result

    def _wrap(self, item: pytest.Item, handler: Handler) -> Handler:
        def deferring(signum: int, frame: FrameType | None) -> Any:
            __tracebackhide__ = True
            if self.in_phase:
                self.stopped = item
                return handler(signum, frame)
            self.held = (item, handler)
            return None

        return deferring

    def _stop_left_behind(self) -> None:
        """After the teardown of a test the kill point stopped: what it left running."""
        self.stopped = None
        run = self.run
        boot = leftovers.boot_clock()
        if run is None or boot is None:
            return
        offset = boot - wall_clock()  # the wall clock (monotonic) -> seconds since boot
        found = leftovers.stop_left_behind(run.start[2] + offset, run.kept or set())
        if found:
            run.leftovers = found

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> Generator[None, object, object]:
        __tracebackhide__ = True
        self.in_phase = True
        held, self.held = self.held, None
        if held is None or held[0] is not item:
            try:
                return (yield)
            finally:
                self.in_phase = False
                if self.armed is not None or self.threaded is not None:
                    self._disarm()
                if self.stopped is item:
                    self._stop_left_behind()
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)  # a hanging teardown
        try:
            result = yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._disarm()
            if self.stopped is item:
                self._stop_left_behind()
        try:
            held[1](signal.SIGALRM, None)
        finally:
            self.in_phase = False
        return result

