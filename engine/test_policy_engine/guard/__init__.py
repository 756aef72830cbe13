"""The runtime guard: what a category's tests may not do (`forbid:` in policy.yaml).

`rules` holds the pure decisions (is this call forbidden, what does the report say),
`hook` the audit hook and the sleep patches (the only module with process-wide state),
`plugin` the pytest plugin object that switches the guard on around each test.
"""

from test_policy_engine.guard.rules import KINDS, GuardViolation, Rules, Violation

__all__ = ["KINDS", "GuardViolation", "Rules", "Violation"]
