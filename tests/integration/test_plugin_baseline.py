"""The pytest plugin reads `.test-policy-baseline` beside the policy: real runs in a
subprocess, with a 0.1 s unit limit and tests that sleep past it."""

from __future__ import annotations

import pytest

from tests.integration.policy_project import (
    PARALLEL,
    case_properties,
    junit_cases,
    write_policy,
)

OUTER = 25  # seconds: the outer limit on one inner pytest run

SLOW_TESTS = """
    import time

    def test_listed():
        time.sleep(0.2)  # twice the limit

    def test_not_listed():
        time.sleep(0.2)  # twice the limit

    def test_fast_again():
        pass
"""

FILE = "tests/unit/test_debt.py"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("TEST_POLICY_SERIAL", "PYTEST_XDIST_AUTO_NUM_WORKERS", "PYTEST_TIMEOUT",
                 "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


def project(pytester: pytest.Pytester, baseline: str, parallel: str | None = None) -> None:
    if parallel is None:
        write_policy(pytester, unit_limit=0.1)
    else:
        write_policy(pytester, unit_limit=0.1, parallel=parallel)
    pytester.makepyfile(**{FILE[:-3]: SLOW_TESTS})
    (pytester.path / ".test-policy-baseline").write_text(baseline)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--junit-xml=out.xml", *args, timeout=OUTER)


def outcomes(pytester: pytest.Pytester) -> dict[str, tuple[str, dict[str, str]]]:
    """test name -> (passed | failed, its properties)."""
    out = {}
    for case in junit_cases(pytester.path / "out.xml"):
        failed = case.find("failure") is not None or case.find("error") is not None
        out[str(case.get("name"))] = ("failed" if failed else "passed", case_properties(case))
    return out


def test_a_listed_slow_test_passes_as_known_debt_and_an_unlisted_one_still_fails(pytester):
    project(pytester, f"slow {FILE}::test_listed unit 0.500 # the parser's big input\n")
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*test-policy: policy.yaml*; baseline: .test-policy-baseline (1 test listed); *",
        "known slow tests (.test-policy-baseline): 1 test over the limit, passed as "
        "recorded debt:",
        f"  {FILE}::test_listed",
        f"FAILED {FILE}::test_not_listed - over its unit limit*"])
    found = outcomes(pytester)
    assert found["test_listed"][0] == "passed"
    assert found["test_listed"][1]["test_policy.baseline"] == "known"
    assert found["test_not_listed"][0] == "failed"
    assert "test_policy.baseline" not in found["test_not_listed"][1]


def test_a_listed_test_more_than_twice_as_slow_as_recorded_fails_naming_the_record(pytester):
    project(pytester, f"slow {FILE}::test_listed unit 0.060\n")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "over its unit limit: took 0.* s, limit 0.1 s (tests/unit/** -> unit); mark it "
        "@pytest.mark.slow or make it faster; more than 2x the 0.06 s recorded in "
        ".test-policy-baseline"])


def test_a_listed_test_whose_entry_expired_fails_naming_the_date(pytester):
    project(pytester, f"slow {FILE}::test_listed unit 0.500 until=2020-01-31\n")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "over its unit limit*; its entry in .test-policy-baseline expired on 2020-01-31"])


def test_a_listed_test_within_its_limit_is_reported_as_fixed_and_asks_for_pruning(pytester):
    project(pytester, f"slow {FILE}::test_fast_again unit 2.000\n"
                      f"slow {FILE}::test_listed unit 0.500\n")
    result = run(pytester, "-k", "fast_again or listed and not not_listed")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "known slow tests (.test-policy-baseline): 1 test over the limit, passed as recorded "
        "debt (-v lists them)",
        "fixed: 1 test listed in .test-policy-baseline within the limit now; prune: "
        "test-policy baseline --prune RESULTS... (the audit fails until then)",
        f"  {FILE}::test_fast_again"])
    assert outcomes(pytester)["test_fast_again"][1]["test_policy.baseline"] == "fixed"


def test_the_plugin_and_the_audit_agree_on_a_baselined_run(pytester, capsys, monkeypatch):
    """The audit of the run's JUnit passes the known test and fails the fixed entry."""
    project(pytester, f"slow {FILE}::test_fast_again unit 2.000\n"
                      f"slow {FILE}::test_listed unit 0.500\n")
    run(pytester, "-k", "fast_again or listed and not not_listed").assert_outcomes(passed=2)
    monkeypatch.chdir(pytester.path)
    from test_policy_engine.cli.main import main

    capsys.readouterr()
    assert main(["audit", "out.xml"]) == 1
    out = capsys.readouterr().out
    assert f"warning: {FILE}::test_listed: known slow test" in out
    assert f"error: {FILE}::test_fast_again: within its limit now: fixed" in out


def test_a_malformed_baseline_is_a_usage_error_naming_its_line(pytester):
    project(pytester, "# debt\nslow only-a-name\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test policy baseline:*",
                                 "*.test-policy-baseline:2:1: baseline: *"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.slow  # two pytest-xdist workers
def test_under_xdist_the_workers_judge_listed_tests_by_the_baseline(pytester):
    project(pytester, f"slow {FILE}::test_listed unit 0.500\n", parallel=PARALLEL)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*created: 2/2 workers*"])
    found = outcomes(pytester)
    assert found["test_listed"] == ("passed", found["test_listed"][1])
    assert found["test_listed"][1]["test_policy.baseline"] == "known"
    assert found["test_not_listed"][0] == "failed"
