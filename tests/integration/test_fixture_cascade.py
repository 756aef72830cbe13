"""A broad fixture that fails once fails every test that uses it: counted once, where it
failed (real runs in a subprocess: the fixture is stopped by a real kill point)."""

import re
import subprocess
import sys

from tests.integration.policy_project import (
    ONE_CATEGORY,
    case_properties,
    clean_environment,
    junit_cases,
)

OUTER = 25

SHARED_FIXTURE_HANGS = """
    import time

    import pytest

    @pytest.fixture(scope="session")
    def database():
        time.sleep(30)  # stopped at the kill point (0.4 s), in the first test's setup
        yield

    def test_first(database):
        pass

    def test_second(database):
        pass

    def test_third(database):
        pass

    def test_without_it():
        pass
"""


def test_tests_failing_on_a_fixture_timeout_from_an_earlier_test_are_not_timeouts_of_their_own(
        pytester, monkeypatch):
    clean_environment(monkeypatch)
    (pytester.path / "policy.yaml").write_text(ONE_CATEGORY)
    pytester.makepyfile(**{"tests/unit/test_db": SHARED_FIXTURE_HANGS})
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--junit-xml=out.xml",
                                           timeout=OUTER)
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines([
        "*session fixture database failed in tests/unit/test_db.py::test_first; pytest "
        "raises its error again in each test that uses it (this one did not run)*"])
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    marked = {name for name, case in cases.items()
              if "test_policy.failed_fixture" in case_properties(case)}
    assert marked == {"test_second", "test_third"}

    audit = subprocess.run(  # nosemgrep: test-policy.real-subprocess (the CLI under test)
        [sys.executable, "-m", "test_policy_engine", "audit", "out.xml"],
        cwd=pytester.path, capture_output=True, text=True, timeout=OUTER, check=False)
    assert audit.returncode == 1, audit.stdout + audit.stderr
    failures = [line for line in audit.stdout.splitlines() if line.startswith("  test_")]
    # Judged by the time it ran until it was stopped (the fixture's setup), not by its
    # own estimate (which leaves the broad fixture out: 0.0 s would contradict a timeout).
    assert len(failures) == 1, audit.stdout
    assert re.match(r"  test_first: timed out after (0\.[4-9]|[1-9][0-9.]*)s \(limit: 0\.1s\)",
                    failures[0]), failures[0]
    assert "Summary: 1 failure, 0 warnings" in audit.stdout
