"""What pytest-timeout gets for one test, and what the JUnit XML records: pure functions.

Nothing here imports pytest: the plugin hands in marker arguments and gets back values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

from test_policy_engine.policy.categories import Resolution

#: The `<property>` names written on each `<testcase>` (the CI audit reads exactly these).
CATEGORY_PROPERTY = "test_policy.category"
LIMIT_PROPERTY = "test_policy.limit"
REASON_PROPERTY = "test_policy.reason"
#: The test's pytest node id (without pytest-xdist's `@group` suffix): the audit, its
#: annotations and `--durations-out` use it instead of guessing it from `classname`.
NODEID_PROPERTY = "test_policy.nodeid"
#: On a test whose setup failed on a broad fixture's failure cached from an earlier test
#: (pytest raises it again for every test that uses the fixture): which fixture, and in
#: which test it failed. The audit counts such a test's error once, where it happened.
CASCADE_PROPERTY = "test_policy.failed_fixture"
#: On the first test a run records: how many tests the run collected (after deselection),
#: so the audit can tell a run that was cut short from a complete one.
COLLECTED_PROPERTY = "test_policy.collected"
PROPERTY_NAMES = (CATEGORY_PROPERTY, LIMIT_PROPERTY, REASON_PROPERTY)


def effective_method(policy_method: str, has_sigalrm: bool) -> tuple[str, str]:
    """The timeout method to use and a note when it differs from the policy's."""
    if policy_method == "signal" and not has_sigalrm:
        return "thread", "SIGALRM is not available here, so the 'thread' method is used"
    return policy_method, ""


def format_limit(seconds: float) -> str:
    """A limit as the JUnit property writes it: '1', '2.5', '0' (never '1.0' or '1e-05')."""
    if not math.isfinite(seconds):
        raise ValueError(f"a limit must be finite (got {seconds})")
    text = format(Decimal(repr(float(seconds))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def marker_timeout(
    args: Sequence[object], kwargs: Mapping[str, object]
) -> tuple[float | None, str | None]:
    """(seconds, method) of a `timeout` marker, read as pytest-timeout reads it.

    Seconds is None when the marker sets only a method (or a value pytest-timeout
    itself will reject: it reports that error when the test runs).
    """
    value = kwargs.get("timeout", args[0] if args else None)
    method = kwargs.get("method", args[1] if len(args) > 1 else None)
    seconds: float | None
    try:
        seconds = None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = None
    if seconds is not None and not math.isfinite(seconds):
        seconds = None
    return seconds, method if isinstance(method, str) else None


def properties(resolution: Resolution) -> list[tuple[str, str]]:
    """The `item.user_properties` entries for one test."""
    return [
        (CATEGORY_PROPERTY, resolution.category),
        (LIMIT_PROPERTY, format_limit(resolution.limit)),
        (REASON_PROPERTY, resolution.reason),
    ]


def read_properties(user_properties: Sequence[tuple[str, object]]) -> dict[str, str]:
    """Our properties among a report's `user_properties` (others are left out)."""
    return {name: str(value) for name, value in user_properties if name in PROPERTY_NAMES}
