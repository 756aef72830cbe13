"""Runtime guard violations recorded in the baseline: real pytest runs (in-process: no
timer fires and no worker starts), the real `test-policy baseline` and `audit` on the JUnit
they wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.policy_project import case_properties, junit_cases

POLICY = """\
version: 1
categories:
  unit:
    limit: 5
    default: true
    paths: ["tests/unit/**"]
    forbid: {mode: strict, sleep: true, subprocess: true}
parallel:
  enabled: false
"""

SUITE = """
    import subprocess
    import sys
    import time

    def test_retries():
        time.sleep(0.02)

    def test_spawns():
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    def test_clean():
        pass
"""


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosemgrep: test-policy.real-subprocess (the CLI under test)
        [sys.executable, "-m", "test_policy_engine", *args], cwd=root, capture_output=True,
        text=True, timeout=60, check=False)


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider",
                              "--junit-xml=out.xml")


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "TEST_POLICY_SERIAL"):
        monkeypatch.delenv(name, raising=False)
    (pytester.path / "policy.yaml").write_text(POLICY)
    pytester.makepyfile(**{"tests/unit/test_calls": SUITE})
    return pytester


def test_recorded_violations_pass_as_known_debt_and_a_new_one_still_fails(suite):
    run(suite).assert_outcomes(passed=1, failed=2)  # day one: strict guard, both fail
    recorded = cli(suite.path, "baseline", "--no-scan", "out.xml")
    assert recorded.returncode == 0, recorded.stderr
    assert "2 guard violations (2 added, 0 pruned)" in recorded.stderr
    lines = [line for line in (suite.path / ".test-policy-baseline").read_text().splitlines()
             if not line.startswith("#")]
    assert lines == ["guard tests/unit/test_calls.py::test_retries sleep",
                     "guard tests/unit/test_calls.py::test_spawns subprocess"]

    run(suite).assert_outcomes(passed=3)
    cases = {c.get("name"): case_properties(c) for c in junit_cases(suite.path / "out.xml")}
    assert cases["test_retries"]["test_policy.guard_mode"] == "known"
    assert cases["test_retries"]["test_policy.guard.sleep"].endswith(
        "[known: .test-policy-baseline]")
    audit = cli(suite.path, "audit", "out.xml")
    assert audit.returncode == 0, audit.stdout
    assert "runtime guard: 0 failures, 0 warnings, 2 known" in audit.stdout

    # A listed test that does something else forbidden fails for that.
    (suite.path / "tests/unit/test_calls.py").write_text(
        "import time\n\ndef test_spawns():\n    time.sleep(0.02)\n")
    result = run(suite)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unit tests may not sleep for real: time.sleep(0.02)*"])


def test_a_listed_test_that_stopped_doing_it_fails_the_audit_until_pruned(suite):
    run(suite)
    cli(suite.path, "baseline", "--no-scan", "out.xml")
    path = suite.path / "tests/unit/test_calls.py"
    path.write_text(path.read_text().replace("time.sleep(0.02)", "pass"))
    run(suite).assert_outcomes(passed=3)
    audit = cli(suite.path, "audit", "out.xml")
    assert audit.returncode == 1, audit.stdout
    assert ("error: tests/unit/test_calls.py::test_retries: no longer does what its guard "
            "entry lists (sleep): fixed; hint: drop it with `test-policy baseline --prune "
            "RESULTS...`") in audit.stdout
    pruned = cli(suite.path, "baseline", "--no-scan", "--prune", "out.xml")
    assert "1 guard violation (0 added, 1 pruned)" in pruned.stderr
    assert cli(suite.path, "audit", "out.xml").returncode == 0


def test_an_expired_guard_entry_fails_again(suite):
    (suite.path / ".test-policy-baseline").write_text(
        "guard tests/unit/test_calls.py::test_retries sleep until=2020-01-01 # old\n"
        "guard tests/unit/test_calls.py::test_spawns subprocess\n")
    result = run(suite)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED *test_retries - unit tests may not sleep for*"])
