"""Acceptance: the audit on JUnit files that real pytest runs wrote, here and now.

The inner runs use a policy with tenth-of-a-second limits so that slow tests
are slow in tenths of a second. The engine's own pytest plugin is switched off
in them (`-p no:test_policy`): where the plugin's properties are wanted, the
inner conftest writes them under the contract's names.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from test_policy_engine.cli.main import main

POLICY = """\
version: 1
warn_ratio: 0.8
categories:
  unit: {limit: 0.25, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 2, paths: ["tests/integration/**"]}
  slow: {limit: 30, markers: [slow]}
"""

UNIT_TESTS = """
import time
import pytest

def test_fast():
    pass

def test_slow():
    time.sleep(0.4)

class TestGroup:
    @pytest.mark.parametrize("n", [1, 2])
    def test_param(self, n):
        pass
"""

INTEGRATION_TESTS = """
import time

def test_near_limit():
    time.sleep(1.7)
"""

NO_PLUGIN = ("-p", "no:test_policy", "-p", "no:cacheprovider")


@pytest.fixture
def project(pytester, monkeypatch):
    """A pytester checkout with the policy, a unit and an integration test module."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "UNIT_TEST_THRESHOLD",
                 "INTEGRATION_TEST_THRESHOLD", "WARN_THRESHOLD_PERCENT"):
        monkeypatch.delenv(name, raising=False)
    pytester.makefile(".yaml", policy=POLICY)
    pytester.makepyfile(**{"tests/unit/test_jobs": UNIT_TESTS})
    return pytester


def audit(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()  # what pytester printed about its runs
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


def failure_line(out: str, name: str) -> str:
    found = re.search(rf"^  {re.escape(name)}: .*$", out, re.M)
    assert found, out
    return found.group(0)


@pytest.mark.parametrize("family", ["xunit1", "xunit2", "legacy"])
def test_a_pytest_run_in_each_junit_family_is_audited(project, capsys, family):
    result = project.runpytest_subprocess(*NO_PLUGIN, "-o", f"junit_family={family}",
                                          "--junit-xml=test-results/unit.xml")
    result.assert_outcomes(passed=4)
    code, out = audit(capsys, "test-results")
    assert code == 1
    assert re.fullmatch(r"  test_slow: 0\.4\d*s \(limit: 0\.25s\) \[unit\]",
                        failure_line(out, "test_slow"))
    assert out.endswith("Summary: 1 failure, 0 warnings\n")


def test_xunit1_file_and_line_point_the_annotation_at_the_test(project, capsys, monkeypatch):
    project.runpytest_subprocess(*NO_PLUGIN, "-o", "junit_family=xunit1",
                                 "--junit-xml=test-results/unit.xml")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out = audit(capsys, "--format", "github", "test-results")
    written = (project.path / "tests/unit/test_jobs.py").read_text().splitlines()
    line = written.index("def test_slow():") + 1
    assert out.startswith(f"::error file=tests/unit/test_jobs.py,line={line},"
                          "title=Test over its time limit::test_slow: 0.4")


@pytest.mark.slow
def test_an_xdist_run_is_audited_with_categories_from_the_classnames(project, capsys):
    project.makepyfile(**{"tests/integration/test_service": INTEGRATION_TESTS})
    result = project.runpytest_subprocess(*NO_PLUGIN, "-n", "2",
                                          "--junit-xml=test-results/all.xml")
    result.assert_outcomes(passed=5)
    code, out = audit(capsys, "test-results", "--top", "2")
    assert code == 1
    assert "FAILURES (exceeded threshold):\n  test_slow: 0.4" in out
    assert re.search(r"WARNINGS \(>80% of threshold\):\n  test_near_limit: 1\.7\d*s "
                     r"\(limit: 2\.0s\) \[integration\]\n", out), out
    assert re.search(r"SLOWEST 2 TESTS:\n  test_near_limit: 1\.7\d\ds .*\n  test_slow: ", out)


def test_the_plugin_properties_decide_category_and_limit(project, capsys):
    project.makeconftest("""
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                if item.name == "test_slow":
                    item.user_properties += [("test_policy.category", "unit"),
                                             ("test_policy.limit", "10"),
                                             ("test_policy.reason", "explicit timeout")]
                elif item.name == "test_fast":
                    item.user_properties += [("test_policy.category", "slow"),
                                             ("test_policy.limit", "30"),
                                             ("test_policy.reason", "marker slow")]
    """)
    project.runpytest_subprocess(*NO_PLUGIN, "--junit-xml=test-results/unit.xml")
    code, out = audit(capsys, "--format", "json", "test-results")
    data = json.loads(out)
    assert code == 0
    assert data["summary"]["failures"] == 0
    assert data["categories"]["slow"]["tests"] == 1
    assert data["categories"]["unit"]["tests"] == 3


def test_a_signal_timeout_is_a_failure_listed_as_timed_out(project, capsys):
    project.makepyfile(**{"tests/unit/test_hang": """
        import time
        import pytest

        @pytest.mark.timeout(0.3, method="signal")
        def test_hangs():
            time.sleep(3)
    """})
    result = project.runpytest_subprocess(*NO_PLUGIN, "tests/unit/test_hang.py",
                                          "--junit-xml=test-results/hang.xml")
    result.assert_outcomes(failed=1)
    code, out = audit(capsys, "test-results")
    assert code == 1
    assert re.fullmatch(r"  test_hangs: timed out after 0\.3\d*s \(limit: 0\.25s\) \[unit\]",
                        failure_line(out, "test_hangs"))


@pytest.mark.slow
def test_a_thread_timeout_under_xdist_is_a_crash_listed_with_its_limit(project, capsys):
    project.makepyfile(**{"tests/unit/test_hang": """
        import time
        import pytest

        @pytest.mark.timeout(0.5, method="thread")
        def test_hangs():
            time.sleep(5)

        def test_survives():
            pass
    """})
    result = project.runpytest_subprocess(*NO_PLUGIN, "-n", "2", "tests/unit/test_hang.py",
                                          "--junit-xml=test-results/hang.xml")
    result.assert_outcomes(passed=1, failed=1)
    code, out = audit(capsys, "test-results")
    assert code == 1
    assert failure_line(out, "test_hangs") == (
        "  test_hangs: crashed (its worker died; no time) (limit: 0.25s) [unit]")


def test_python_m_engine_audit_reads_a_results_directory(project):
    project.runpytest_subprocess(*NO_PLUGIN, "--junit-xml=test-results/unit.xml")
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", "audit", "test-results/"],
                          capture_output=True, text=True, cwd=project.path, check=False,
                          env={"PATH": "/usr/bin:/bin", "UNIT_TEST_THRESHOLD": "1.0"})
    assert (done.returncode, done.stderr) == (0, "")
    assert "All 4 tests within 80% of their thresholds." in done.stdout


@pytest.mark.slow  # three pytest runs
def test_durations_out_holds_the_node_ids_pytest_split_uses(project, capsys):
    project.runpytest_subprocess(*NO_PLUGIN, "--junit-xml=test-results/unit.xml")
    audit(capsys, "--durations-out", ".test_durations", "test-results")
    durations = json.loads((project.path / ".test_durations").read_text())
    collected = project.runpytest_subprocess(*NO_PLUGIN, "--collect-only", "-q")
    node_ids = {line for line in collected.outlines if "::" in line}
    assert set(durations) == node_ids
    assert durations["tests/unit/test_jobs.py::test_slow"] >= 0.4
    split = project.runpytest_subprocess(*NO_PLUGIN, "--splits", "2", "--group", "1",
                                         "--durations-path", ".test_durations")
    split.stdout.fnmatch_lines(["*Running group 1/2 (estimated duration: 0.4*s)*"])
