"""The process-wide half of the guard: one audit hook and the sleep patches.

An audit hook cannot be removed, so it is installed once and does nothing unless a
guarded test is running: its first statement reads the module-level `_rules`, None
outside a guarded test (FIELD-NOTES: an audited event costs about 1-2 us already).
`time.sleep` (an audit event only from Python 3.13) and `asyncio.sleep` (never one)
are replaced while a guarded test runs and put back after it, under every name they are
bound to (`from time import sleep`: see `bindings`). A mocked call never reaches the real
function, so it never reaches the guard either: a sleep already replaced by a mock when
the guard starts is left alone.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import time
import types
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType
from typing import Any

from test_policy_engine.guard.bindings import Bindings, Pair, restore
from test_policy_engine.guard.rules import (
    EVENTS,
    SLEEP,
    GuardViolation,
    Rules,
    Violation,
    judge,
    report,
    sleep_forbidden,
)

_rules: Rules | None = None  # the running test's rules; None: the hook does nothing
_violations: list[Violation] = []  # what the running test did, in order
_root = ""  # call sites under this directory are shown relative to it
_installed = False
_real_sleep = time.sleep
_real_async_sleep: Callable[..., Coroutine[Any, Any, Any]] | None = None  # once asyncio is
_bindings = Bindings(skip=(__name__.rsplit(".", 1)[0],))  # the guard holds the real ones
#: From Python 3.13 `time.sleep` is an audit event: seen whatever the import form.
_SLEEP_AUDITED = sys.version_info >= (3, 13)
_HERE = os.path.dirname(os.path.abspath(__file__))
_LIBRARY = tuple(
    os.path.abspath(p) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
) + (_HERE + os.sep,)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    rules = _rules
    if rules is None or event not in EVENTS:
        return
    __tracebackhide__ = True
    if event == "time.sleep":
        if args and sleep_forbidden(rules, args[0]):
            _forbidden(rules, SLEEP, f"time.sleep({args[0]!r})")
        return
    found = judge(rules, event, args)
    if found is not None:
        _forbidden(rules, found[0], found[1])


def _forbidden(rules: Rules, kind: str, call: str) -> None:
    __tracebackhide__ = True
    message = report(rules, kind, call, call_site(sys._getframe(2)))
    _violations.append(Violation(kind, message))
    if rules.fails(kind):
        raise GuardViolation(message)


def call_site(frame: FrameType | None) -> str:
    """`path:line in function()` of the first frame outside the standard library,
    site-packages and the guard itself: the code that made the call."""
    first = frame
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARY) and not filename.startswith("<frozen"):
            break
        frame = frame.f_back
    if frame is None:
        frame = first
        if frame is None:
            return "<unknown>"
    filename = frame.f_code.co_filename
    if _root and filename.startswith(_root):
        filename = Path(filename[len(_root):]).as_posix()
    return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}()"


class _Sleep:
    """What replaces `time.sleep`: a callable object, not a function, so that like the
    builtin it does not bind as a method (`class Poller: pause = time.sleep`)."""

    __name__ = __qualname__ = "sleep"

    def __call__(self, seconds: float) -> None:
        rules = _rules
        if rules is not None and sleep_forbidden(rules, seconds):
            _forbidden(rules, SLEEP, f"time.sleep({seconds!r})")
        _real_sleep(seconds)

    def __repr__(self) -> str:
        return "<time.sleep, guarded by test-policy>"


_sleep = _Sleep()


async def _async_sleep(delay: float, result: Any = None) -> Any:
    # A coroutine function like the real one (code that checks
    # `inspect.iscoroutinefunction(sleep)` sees no difference), judged when awaited: a
    # coroutine that is never awaited does not sleep.
    rules = _rules
    if rules is not None and sleep_forbidden(rules, delay):
        _forbidden(rules, SLEEP, f"asyncio.sleep({delay!r})")
    assert _real_async_sleep is not None  # patched in only once it is known
    return await _real_async_sleep(delay, result)


def install(root: str) -> None:
    """Add the audit hook, once per process."""
    global _installed, _root
    _root = root.rstrip(os.sep) + os.sep
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True


def start(rules: Rules) -> Callable[[], list[Violation]]:
    """Guard what runs from now on by `rules`; returns the function that stops the guard
    and returns what it saw."""
    global _rules
    _violations.clear()
    patched = []
    if SLEEP in rules.kinds:
        pairs = _sleep_pairs()
        if pairs:
            _bindings.refresh(pairs)
            patched = _bindings.patch()
    _rules = rules

    def stop() -> list[Violation]:
        global _rules
        _rules = None
        restore(patched)
        seen = list(_violations)
        _violations.clear()
        return seen

    return stop


def tidy() -> None:
    """After a guarded test's teardown: the real sleep functions back where a mock's undo
    put back the guard's replacement (it found the replacement when it was set)."""
    _bindings.tidy()


def _sleep_pairs() -> tuple[Pair, ...]:
    """(each real sleep function, its replacement)."""
    global _real_async_sleep
    pairs: list[Pair] = []
    if not _SLEEP_AUDITED:
        pairs.append((_real_sleep, _sleep))
    # asyncio is not imported for this (13 ms in every pytest process): code that has not
    # imported it by the time the test starts cannot call asyncio.sleep.
    if _real_async_sleep is None:
        tasks = sys.modules.get("asyncio.tasks")
        found = getattr(tasks, "__dict__", {}).get("sleep")
        # The function asyncio defines, not a mock someone put there before the first test.
        if type(found) is types.FunctionType and found.__module__ == "asyncio.tasks":
            _real_async_sleep = found
    if _real_async_sleep is not None:
        pairs.append((_real_async_sleep, _async_sleep))
    return tuple(pairs)


def pause() -> Rules | None:
    """Stop guarding for a while (a broader fixture's setup); `resume` with the result."""
    global _rules
    rules, _rules = _rules, None
    return rules


def resume(rules: Rules | None) -> None:
    global _rules
    _rules = rules
