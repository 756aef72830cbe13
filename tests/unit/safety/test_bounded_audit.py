"""Hostile result files, environments and arguments end in a result or one line, at once."""

from __future__ import annotations

import os

import pytest
from test_policy_engine.audit.verdicts import MAX_MODULE_PARTS, candidate_paths
from test_policy_engine.cli.main import main

POLICY = "version: 1\ncategories:\n  unit: {limit: 1, default: true, paths: ['tests/unit/**']}\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "UNIT_TEST_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    return err[0]


def _case(attrs: str) -> str:
    return (f'<testsuites><testsuite name="pytest"><testcase {attrs}/></testsuite>'
            '</testsuites>')


def test_a_superscript_digit_as_the_line_of_a_passing_test_is_ignored(project, capsys):
    (project / "r.xml").write_text(_case('classname="tests.unit.a" name="t" line="²" time="0.1"'))
    assert main(["audit", "--format", "json", "r.xml"]) == 0
    assert '"line": null' in capsys.readouterr().out


def test_a_fifo_in_a_results_directory_is_not_opened(project, capsys):
    (project / "results").mkdir()
    os.mkfifo(project / "results/r.xml")
    (project / "results/ok.xml").write_text(_case('classname="tests.unit.a" name="t" time="0.1"'))
    assert main(["audit", "results"]) == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_an_unreadable_results_subdirectory_is_an_error_not_skipped(project, capsys):
    hidden = project / "results/hidden"
    hidden.mkdir(parents=True)
    (project / "results/ok.xml").write_text(_case('classname="tests.unit.a" name="t" time="0.1"'))
    hidden.chmod(0)
    try:
        assert main(["audit", "results"]) == 2
    finally:
        hidden.chmod(0o755)
    assert "cannot read this directory" in _one_error(capsys)


def test_a_fifo_as_the_job_summary_is_a_warning_not_a_hang(project, capsys, monkeypatch):
    os.mkfifo(project / "summary")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project / "summary"))
    (project / "r.xml").write_text(_case('classname="tests.unit.a" name="t" time="0.1"'))
    assert main(["audit", "r.xml"]) == 0
    assert "warning: cannot write the job summary" in _one_error(capsys)


def test_an_800_kb_dotted_classname_gives_a_bounded_set_of_candidate_paths():
    candidates = candidate_paths("a." * 400_000 + "b")
    assert len(candidates) <= MAX_MODULE_PARTS
    assert max(map(len, candidates)) < 100


def test_a_classname_part_longer_than_a_file_name_is_audited_under_actions(project, capsys,
                                                                          monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (project / "r.xml").write_text(
        _case(f'classname="tests.unit.{"x" * 300}" name="t" time="2.0"'))
    assert main(["audit", "--durations-out", "d.json", "r.xml"]) == 1
    assert "::error title=Test over its time limit::t: 2.0s" in capsys.readouterr().out


def test_more_distinct_category_properties_than_fit_is_one_line(project, capsys):
    props = "".join(f'<testcase classname="c" name="t{i}" time="0.1"><properties>'
                    f'<property name="test_policy.category" value="c{i}"/>'
                    f'<property name="test_policy.limit" value="1"/></properties></testcase>'
                    for i in range(1_001))
    (project / "r.xml").write_text(f'<testsuites><testsuite name="pytest">{props}'
                                   '</testsuite></testsuites>')
    assert main(["audit", "r.xml"]) == 2
    assert "more than 1,000 distinct test_policy.category values" in _one_error(capsys)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_explain_refuses_a_timeout_that_is_not_a_finite_number(project, capsys, value):
    assert main(["explain", "--timeout", value, "tests/unit/test_a.py"]) == 2
    assert "argument --timeout: must be" in capsys.readouterr().err

