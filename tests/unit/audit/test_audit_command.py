"""`test-policy audit`: files and directories, exit codes, GitHub output, durations file."""

from __future__ import annotations

import json

import pytest
from test_policy_engine.cli.main import main

POLICY = """\
version: 1
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 5, paths: ["tests/integration/**"]}
audit:
  junit_files: {"frontend*.xml": integration}
"""


def junit(*cases: tuple[str, str, str]) -> str:
    body = "".join(f'<testcase classname="{c}" name="{n}" time="{t}"/>' for c, n, t in cases)
    return f'<testsuites><testsuite name="pytest">{body}</testsuite></testsuites>'


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A checkout with a policy, a results directory and no GitHub environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "UNIT_TEST_THRESHOLD",
                 "INTEGRATION_TEST_THRESHOLD", "WARN_THRESHOLD_PERCENT"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "policy.yaml").write_text(POLICY)
    results = tmp_path / "test-results"
    (results / "unit").mkdir(parents=True)
    return tmp_path


def test_a_directory_is_searched_recursively_and_a_slow_test_exits_1(project, capsys):
    (project / "test-results/unit/a.xml").write_text(junit(("tests.unit.test_a", "t1", "2.5")))
    (project / "test-results/b.xml").write_text(junit(("tests.unit.test_b", "t2", "0.1")))
    (project / "test-results/notes.txt").write_text("not a result file")
    assert main(["audit", "test-results"]) == 1
    out = capsys.readouterr().out
    assert "  t1: 2.5s (limit: 1.0s) [unit]" in out
    assert out.endswith("Summary: 1 failure, 0 warnings\n")


def test_warnings_exit_0_unless_fail_on_warning(project, capsys):
    (project / "test-results/a.xml").write_text(junit(("tests.unit.test_a", "t1", "0.9")))
    assert main(["audit", "test-results"]) == 0
    assert main(["audit", "--fail-on-warning", "test-results"]) == 1


@pytest.mark.parametrize(("attribute", "shown"), [
    ('time="1,234.5"', 'unreadable time "1,234.5"'),
    ('time="0,160"', 'unreadable time "0,160"'),
    ('time=""', 'unreadable time ""'),
    ('time="NaN"', 'unreadable time "NaN"'),
    ('time="-0.5"', 'unreadable time "-0.5"'),
    ('time="80.803us"', 'unreadable time "80.803us"'),
    ("", "no time attribute"),
])
def test_an_unreadable_time_is_reported_and_fails_only_with_fail_on_warning(
        project, capsys, attribute, shown):
    (project / "test-results/a.xml").write_text(
        f'<testsuite><testcase classname="tests.unit.test_a" name="t1" {attribute}/>'
        '<testcase classname="tests.unit.test_a" name="t2" time="0.5"/></testsuite>')
    assert main(["audit", "test-results"]) == 0
    out = capsys.readouterr().out
    assert f"UNREADABLE TIMES (not audited):\n  t1: {shown} in test-results/a.xml [unit]\n" in out
    assert out.endswith("Summary: 0 failures, 0 warnings, 1 unreadable time\n")
    assert main(["audit", "--fail-on-warning", "test-results"]) == 1


def test_a_result_file_glob_puts_frontend_tests_in_their_category(project, capsys):
    (project / "test-results/frontend.xml").write_text(
        '<testsuites><testsuite name="src/a.test.ts"><testcase classname="Cart adds" '
        'name="Cart adds" time="4.5"/></testsuite></testsuites>')
    assert main(["audit", "test-results/frontend.xml"]) == 0
    assert "  Cart adds: 4.5s (limit: 5.0s) [integration]" in capsys.readouterr().out


def test_environment_thresholds_override_the_policy(project, capsys, monkeypatch):
    (project / "test-results/a.xml").write_text(junit(("tests.unit.test_a", "t1", "1.5")))
    monkeypatch.setenv("UNIT_TEST_THRESHOLD", "2.0")
    monkeypatch.setenv("WARN_THRESHOLD_PERCENT", "70")
    assert main(["audit", "test-results"]) == 0
    assert "WARNINGS (>70% of threshold):\n  t1: 1.5s (limit: 2.0s) [unit]" in (
        capsys.readouterr().out)


def test_a_malformed_environment_threshold_exits_2_with_one_line(project, capsys, monkeypatch):
    (project / "test-results/a.xml").write_text(junit(("tests.unit.test_a", "t1", "1.5")))
    monkeypatch.setenv("UNIT_TEST_THRESHOLD", "1s")
    assert main(["audit", "test-results"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("$UNIT_TEST_THRESHOLD: must be a number of seconds > 0 (got '1s'); "
                   "hint: write it like '1.0'\n")


def test_no_result_files_is_an_input_error(project, capsys):
    assert main(["audit", "test-results", "missing.xml"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "test-results: no *.xml result files found; hint: check the artifact download "
        "step's path",
        "missing.xml: no such file or directory",
    ]


def test_every_broken_file_is_reported_and_no_report_is_printed(project, capsys):
    (project / "test-results/a.xml").write_text(junit(("tests.unit.test_a", "t1", "9")))
    (project / "test-results/b.xml").write_text("<testsuite>")
    (project / "test-results/c.xml").write_text("<html/>")
    assert main(["audit", "test-results"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert [line.split(":")[0] for line in err.splitlines()] == ["test-results/b.xml",
                                                                 "test-results/c.xml"]


def test_in_github_actions_it_annotates_and_writes_the_job_summary(project, capsys,
                                                                   monkeypatch):
    (project / "tests/unit").mkdir(parents=True)
    (project / "tests/unit/test_a.py").write_text("")
    (project / "test-results/a.xml").write_text(junit(("tests.unit.test_a", "t1", "2.5"),
                                                      ("tests.unit.test_a", "t2", "0.1")))
    summary = project / "summary.md"
    summary.write_text("previous step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["audit", "test-results"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error file=tests/unit/test_a.py,title=Test over its time limit"
                          "::t1: 2.5s (limit: 1.0s) [unit]\n=== TEST PERFORMANCE AUDIT ===")
    written = summary.read_text()
    assert written.startswith("previous step\n## Test performance audit\n")
    assert "| unit | 2 | 2.600 s | `t1` 2.500 s | 1 | 0 |" in written


def test_json_output_stays_pure_json_in_github_actions(project, capsys, monkeypatch):
    (project / "test-results/a.xml").write_text(junit(("tests.unit.test_a", "t1", "2.5")))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["audit", "--format", "json", "test-results"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["failures"] == 1


def test_top_n_must_be_a_whole_number(project, capsys):
    assert main(["audit", "--top", "many", "test-results"]) == 2
    assert "must be a whole number (got 'many')" in capsys.readouterr().err


def test_durations_out_writes_pytest_split_durations_sorted(project, capsys):
    (project / "tests/unit").mkdir(parents=True)
    (project / "tests/unit/test_b.py").write_text("")
    (project / "test-results/a.xml").write_text(junit(
        ("tests.unit.test_b.TestC", "test_y[1-a]", "0.250"),
        ("tests.unit.test_b", "test_x", "0.125"),
        ("tests.unit.test_b", "test_bad", "NaN")))
    assert main(["audit", "--durations-out", ".test_durations", "test-results"]) == 0
    text = (project / ".test_durations").read_text()
    assert json.loads(text) == {"tests/unit/test_b.py::TestC::test_y[1-a]": 0.25,
                                "tests/unit/test_b.py::test_x": 0.125}
    assert text.index("TestC") < text.index("test_x")
    assert "wrote 2 durations to .test_durations" in capsys.readouterr().err
