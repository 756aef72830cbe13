"""The kill point never fires inside pytest's own hooks.

pytest-timeout's `signal` method arms one SIGALRM timer for the whole runtest protocol:
setup, call and teardown, and also the reporting between them (`pytest_runtest_makereport`,
`pytest_runtest_logreport`: the terminal reporter's counters, pytest-xdist's message to the
controller). A `Failed: Timeout` raised there is an INTERNALERROR that ends the session
(or a worker's), and the tests after it are never run nor recorded (seen under
`--splits 2 --group 1`: 351 of 357 tests recorded).

So the handler pytest-timeout installs is wrapped (through its documented
`pytest_timeout_set_timer` hook): inside a phase of the test (`plugin.phases.in_phase`:
the frames show pytest's `CallInfo.from_call` calling the phase's hook) it acts at once;
anywhere else it is held (`_Held`, registered only then) and acts as the test's next
phase begins, so the test fails in that phase with pytest-timeout's own message: before
the setup or the call runs, or after the teardown ran (its fixtures are still finalized;
a teardown that hangs meanwhile is stopped by a timer armed again for the kill point). A
timer that fires after the teardown began reporting is dropped (held for a test that has
ended, it is let go as the teardown is logged, or as the next test's setup begins). A
hang in a reporting hook is not the test's, and is not stopped here.

A test with no `timeout` marker of its own (nearly all) gets no marker either: the plugin
arms the SIGALRM timer at its kill point itself as its setup begins, with the deferring
handler above (installed once: the next test's setup re-arms the timer, or cancels it
where that test has no kill point; a timer that fires for no test is ignored); when the
timer fires inside a phase, pytest-timeout's own handler (`timeout_sigalrm`: the
threads' stacks, then `Failed: Timeout >10.0s`) stops the test, as it would have. What
pytest-timeout does per test for a marker (reading it twice, its two hooks,
`signal.signal` through the enum wrappers) was a third of the plugin's cost per test
(`benchmarks/bench_verdict.py`). The marker stays where pytest-timeout must read one: a
test with its own `timeout` marker, the `thread` method, a `timeout` ini value or
`PYTEST_TIMEOUT`, `timeout_func_only`, and a test run off the main thread (armed through
pytest-timeout's documented `pytest_timeout_set_timer` hook, `thread` method).
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
from test_policy_engine.plugin.phases import Handler, Phases, Summary, in_phase
from test_policy_engine.plugin.timing import Run, wall_clock

#: The C module that `signal` wraps (`signal` itself elsewhere): its getsignal and signal
#: take and give plain ints, not enums (0.7 us for both, 16 us through `signal`, a test).
_RAW: Any = sys.modules.get("_signal", signal)
_SIGALRM = int(signal.SIGALRM)
_ITIMER_REAL = int(signal.ITIMER_REAL)
_NOTHING: Any = object()  # no handler replaced yet


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

    def __init__(self, pluginmanager: pytest.PytestPluginManager,
                 summary: Summary | None = None) -> None:
        super().__init__(summary)
        self.pluginmanager = pluginmanager
        self.seconds = 0.0  # the running test's kill point
        self.armed: pytest.Item | None = None  # the test whose timer the plugin armed
        self.threaded: pytest.Item | None = None  # ... through pytest-timeout's hook
        #: SIGALRM's handler before the plugin installed its own, put back when the
        #: session ends (`_disarm`).
        self.installed: Any = _NOTHING
        self.held: _Held | None = None  # a kill reached outside a phase, registered
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
        fire = self.fire
        if _RAW.getsignal(_SIGALRM) is not fire:
            previous = _RAW.signal(_SIGALRM, fire)
            if self.installed is _NOTHING:
                self.installed = previous
        self.armed = item
        self.pending = True
        _RAW.setitimer(_ITIMER_REAL, seconds)  # replaces a timer still running

    def _end(self, run: Run) -> None:
        """The test's timer is left running: the next test's setup arms it again (or
        cancels it), and a timer that fires for no test is ignored (`_fire`), which saves
        two system calls a test. Unless the test left another SIGALRM handler installed
        (its own, or none): that one must not get the timer, which is cancelled."""
        self.armed = None
        if self.pending and _RAW.getsignal(_SIGALRM) is not self.fire:
            self._cancel()
        if self.threaded is not None:
            self._cancel_threaded()
        if self.held is not None:  # reached while the teardown was reported: dropped
            self.release()
        if self.stopped is run.item:
            self._stop_left_behind(run)

    def _cancel(self) -> None:
        self.pending = False
        _RAW.setitimer(_ITIMER_REAL, 0)

    def _cancel_threaded(self) -> None:
        threaded, self.threaded = self.threaded, None
        if threaded is not None:
            threaded.config.pluginmanager.hook.pytest_timeout_cancel_timer(item=threaded)

    def _disarm(self) -> None:
        """No timer of the plugin's runs any more, and SIGALRM's handler is what it was."""
        self.armed = None
        if self.pending:
            self._cancel()
        installed, self.installed = self.installed, _NOTHING
        if installed is not _NOTHING and _RAW.getsignal(_SIGALRM) is self.fire:
            _RAW.signal(_SIGALRM, installed if installed is not None else 0)
        self._cancel_threaded()

    def _fire(self, signum: int, frame: FrameType | None) -> Any:
        """The plugin's own SIGALRM handler: pytest-timeout's, deferred outside a phase."""
        __tracebackhide__ = True
        self.pending = False
        item = self.armed
        if item is None:  # left running after its test (`_end`)
            return None
        return self._act_or_hold(item, _stopper(item, self.seconds), signum, frame)

    def _act_or_hold(self, item: pytest.Item, handler: Handler, signum: int,
                     frame: FrameType | None) -> Any:
        """Inside a phase of `item`, stop it now; else (pytest makes or logs a report)
        the kill acts as the test's next phase begins (`_Held`, registered only now)."""
        __tracebackhide__ = True
        if in_phase(frame):
            self.stopped = item
            return handler(signum, frame)
        self.release()
        self.held = _Held(self, item, handler)
        self.pluginmanager.register(self.held, "test_policy_held_kill")
        return None

    def release(self) -> None:
        held, self.held = self.held, None
        if held is not None and self.pluginmanager.is_registered(held):
            self.pluginmanager.unregister(held)

    def pytest_sessionfinish(self) -> None:
        """A run cut short between a test's setup and its teardown (Ctrl-C, `Exit`)."""
        self._disarm()
        self.release()

    @pytest.hookimpl(wrapper=True, optionalhook=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings: Any
                                 ) -> Generator[None, object, object]:
        result = yield
        self.pending = False  # pytest-timeout's timer replaced the plugin's
        self.seconds = float(getattr(settings, "timeout", 0) or 0)
        if threading.current_thread() is threading.main_thread():
            handler = _RAW.getsignal(_SIGALRM)
            if callable(handler):
                _RAW.signal(_SIGALRM, self._wrap(item, handler))
        return result

    def _wrap(self, item: pytest.Item, handler: Handler) -> Handler:
        def deferring(signum: int, frame: FrameType | None) -> Any:
            __tracebackhide__ = True
            return self._act_or_hold(item, handler, signum, frame)

        return deferring

    def _stop_left_behind(self, run: Run) -> None:
        """After the teardown of a test the kill point stopped: what it left running."""
        self.stopped = None
        boot = leftovers.boot_clock()
        if boot is None:
            return
        offset = boot - wall_clock()  # the wall clock (monotonic) -> seconds since boot
        found = leftovers.stop_left_behind(run.start[2] + offset, run.kept or set())
        if found:
            run.leftovers = found


class _Held:
    """A kill reached outside the phases of `item` (while pytest made or logged a report),
    registered until it acts or is dropped: it acts as the test's next phase begins, so
    the test fails in that phase with pytest-timeout's own message (before the setup or
    the call runs, or after the teardown ran: its fixtures are still finalized, and a
    teardown that hangs meanwhile is stopped by a timer armed again for the kill point).
    Held for a test that has ended, it is dropped as the next test's setup begins."""

    def __init__(self, owner: KillPoint, item: pytest.Item, handler: Handler) -> None:
        self.owner = owner
        self.item = item
        self.handler = handler

    def _act(self, item: pytest.Item) -> None:
        __tracebackhide__ = True
        self.owner.release()
        if item is self.item:
            self.owner.stopped = item
            self.handler(_SIGALRM, None)  # raises pytest-timeout's `Failed: Timeout`

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        self._act(item)
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        self._act(item)
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> Generator[None, object, object]:
        __tracebackhide__ = True
        owner = self.owner
        owner.release()
        if item is not self.item:
            return (yield)
        if owner.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, owner.seconds)  # a hanging teardown
        try:
            result = yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            owner._disarm()
        self.handler(_SIGALRM, None)
        return result
