"""`enforce:` in policy.yaml: whether a limit exceeded fails, or is only reported.

`enforce: fail` (the default) is the engine as it always was. `enforce: warn` is the
report-only mode for a team's first weeks: every test over its limit is still found,
named and counted (by the pytest plugin and by the CI audit), but nothing fails because of
it; the team looks before it blocks, then removes the line (or records a baseline first).

Pure functions, for the plugin and the audit to call at their verdict and exit code:

- `limits_fail(enforce)`: a test over its limit fails (True) or is reported (False);
- `exit_code(enforce, code)`: the audit's (or lint's) exit code in this mode: 1 (limits
  exceeded, new findings) becomes 0; 0 and 2 (bad input: always an error) stay;
- `reported(message)`: the verdict's one-line message, marked as reported only.
"""

from __future__ import annotations

from typing import Literal

Enforce = Literal["fail", "warn"]
MODES: tuple[Enforce, ...] = ("fail", "warn")
DEFAULT: Enforce = "fail"

#: What a verdict line ends with when the policy only reports.
REPORTED_NOTE = " (reported only: enforce: warn in the policy)"
#: JUnit `<property>` the plugin can write on a test that was over its limit but passed.
REPORTED_PROPERTY = "test_policy.over_limit"
#: JUnit `<property>` on a test the baseline lists (`baseline.debt`): `known` (over its
#: limit, passed as recorded debt) or `fixed` (within its limit: prune the entry).
BASELINE_PROPERTY = "test_policy.baseline"


def limits_fail(enforce: str) -> bool:
    """Whether a test over its limit fails under `enforce` (an unknown value fails: safe)."""
    return enforce != "warn"


def exit_code(enforce: str, code: int) -> int:
    """The exit code of a check (audit, lint) under `enforce`: `warn` turns the verdict's
    1 into 0; 2, a usage or input error, is never hidden."""
    if code == 1 and not limits_fail(enforce):
        return 0
    return code


def reported(message: str) -> str:
    """`message` (a verdict line) marked as reported only."""
    return message if message.endswith(REPORTED_NOTE) else message + REPORTED_NOTE
