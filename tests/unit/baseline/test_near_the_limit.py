"""A baselined test that runs just under its limit is neither fixed nor known debt: a test
that hovers at its limit must not fail the audit as fixed one run and pass the next."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_policy_engine.cli.main import main

POLICY = """\
version: 1
warn_ratio: 0.8
categories:
  unit:
    limit: 1
    default: true
    paths: ["tests/unit/**"]
"""
RECORDED = {"test_render": 1.02, "test_fast": 0.1}


def junit(path: Path, times: dict[str, float]) -> str:
    cases = "".join(f'<testcase classname="tests.unit.test_app" name="{name}" time="{t:.3f}"/>'
                    for name, t in times.items())
    path.write_text(f'<testsuites><testsuite name="pytest">{cases}</testsuite></testsuites>')
    return str(path)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY)
    monkeypatch.chdir(tmp_path)
    assert main(["baseline", junit(tmp_path / "day-one.xml", RECORDED)]) == 0
    return tmp_path


def test_a_recorded_test_at_90_percent_of_its_limit_is_not_taken_for_fixed(project, capsys):
    capsys.readouterr()
    assert main(["audit", junit(project / "r.xml", {**RECORDED, "test_render": 0.9})]) == 0
    out = capsys.readouterr().out
    assert "0 known slow tests (warnings), 0 new, 0 much slower, 0 expired, 0 fixed" in out


def test_rewriting_the_baseline_keeps_an_entry_whose_test_ran_near_its_limit(project):
    assert main(["baseline", junit(project / "r.xml", {**RECORDED, "test_render": 0.9})]) == 0
    assert "test_render unit 1.020" in (project / ".test-policy-baseline").read_text()


def test_a_recorded_test_at_half_its_limit_is_fixed(project, capsys):
    capsys.readouterr()
    assert main(["audit", junit(project / "r.xml", {**RECORDED, "test_render": 0.5})]) == 1
    assert "test_render: within its limit now: fixed" in capsys.readouterr().out
