"""`enforce:` in the policy: `warn` reports limits exceeded and fails nothing."""

from __future__ import annotations

import pytest
from test_policy_engine.policy import checks, enforcement
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import parse_policy

BASE = "version: 1\ncategories:\n  unit: {limit: 1, default: true}\n"


def test_a_policy_fails_on_limits_unless_it_says_enforce_warn():
    assert parse_policy(BASE.encode(), "policy.yaml").enforce == "fail"
    warn = parse_policy((BASE + "enforce: warn\n").encode(), "policy.yaml")
    assert warn.enforce == "warn"
    assert enforcement.limits_fail("fail")
    assert not enforcement.limits_fail(warn.enforce)


def test_an_unknown_enforce_value_is_one_located_line():
    with pytest.raises(UserError) as caught:
        parse_policy((BASE + "enforce: warning\n").encode(), "policy.yaml")
    assert str(caught.value).startswith(
        "policy.yaml:4:10: enforce: must be one of 'fail' or 'warn' (got 'warning')")


@pytest.mark.parametrize(("enforce", "code", "expected"), [
    ("fail", 0, 0), ("fail", 1, 1), ("fail", 2, 2),
    ("warn", 0, 0), ("warn", 1, 0), ("warn", 2, 2),
])
def test_warn_turns_only_the_verdicts_exit_code_into_success(enforce, code, expected):
    assert enforcement.exit_code(enforce, code) == expected


def test_a_reported_verdict_says_why_it_did_not_fail_once():
    line = "over its unit limit: took 2.00 s, limit 1 s"
    once = enforcement.reported(line)
    assert once == line + " (reported only: enforce: warn in the policy)"
    assert enforcement.reported(once) == once


def test_the_plugins_cached_copy_is_checked_with_the_same_values():
    assert checks.check_enforce("warn") == "warn"
    with pytest.raises(ValueError, match="must be 'fail' or 'warn'"):
        checks.check_enforce("off")
