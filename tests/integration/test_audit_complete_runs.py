"""The plugin records each test's node id and how many tests the run collected; the audit
uses the ids, and fails a result file that is missing tests: runs cut short by `-x`, by
pytest's INTERNALERROR, or by a worker's session ending early. JUnit files written by real
pytest runs with the plugin on."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from test_policy_engine.cli.main import main

from tests.integration.policy_project import PARALLEL, case_properties, junit_cases, write_policy

OUTER = 60  # seconds: the outer limit on one inner pytest run (a hang fails, not stalls)

THREE = """
    def test_one():
        pass

    def test_two():
        assert False, "the second test fails"

    def test_three():
        pass
"""

#: A conftest collecting `*.yml` files as non-Python items, as pytest-mypy-plugins does.
YAML_ITEMS = """
    import time

    import pytest

    class Case(pytest.Item):
        def runtest(self):
            time.sleep(0.005)  # a time the figures' 1 ms resolution shows

    class Cases(pytest.File):
        def collect(self):
            for line in self.path.read_text().splitlines():
                if line.startswith("- case: "):
                    yield Case.from_parent(self, name=line[len("- case: "):])

    def pytest_collect_file(file_path, parent):
        if file_path.suffix == ".yml" and file_path.name.startswith("test_"):
            return Cases.from_parent(parent, path=file_path)
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TEST_POLICY_SERIAL",
                 "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_TIMEOUT",
                 "UNIT_TEST_THRESHOLD", "WARN_THRESHOLD_PERCENT"):
        monkeypatch.delenv(name, raising=False)


def audit(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


def collected_properties(path) -> list[str]:
    return [value for case in junit_cases(path)
            for name, value in case_properties(case).items() if name == "test_policy.collected"]


def test_every_testcase_carries_its_node_id_and_one_carries_the_collected_count(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_three": THREE})
    pytester.runpytest_subprocess("--junit-xml=out.xml", timeout=OUTER)
    cases = junit_cases(pytester.path / "out.xml")
    assert [case_properties(c)["test_policy.nodeid"] for c in cases] == [
        f"tests/unit/test_three.py::test_{n}" for n in ("one", "two", "three")]
    assert collected_properties(pytester.path / "out.xml") == ["3"]


def test_a_complete_run_passes_the_audit(pytester, capsys, monkeypatch):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_three": THREE.replace("assert False", "assert 1")})
    pytester.runpytest_subprocess("--junit-xml=out.xml", timeout=OUTER)
    monkeypatch.chdir(pytester.path)
    code, out = audit(capsys, "out.xml")
    assert (code, "cut short" in out) == (0, False)


def test_a_run_stopped_by_exitfirst_fails_the_audit_as_cut_short(pytester, capsys,
                                                                   monkeypatch):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_three": THREE})
    pytester.runpytest_subprocess("-x", "--junit-xml=out.xml", timeout=OUTER)
    monkeypatch.chdir(pytester.path)
    code, out = audit(capsys, "out.xml")
    assert code == 1
    assert "  out.xml: 3 tests collected, 2 recorded: the run was cut short" in out
    assert out.rstrip().splitlines()[-1].startswith("Summary: 1 run cut short, 0 failures")


def test_an_internal_error_is_a_failed_run_never_a_pass(pytester, capsys, monkeypatch):
    write_policy(pytester)
    pytester.makeconftest("""
        def pytest_runtest_logreport(report):
            if report.when == "teardown" and report.nodeid.endswith("test_one"):
                raise RuntimeError("a reporting plugin broke")
    """)
    pytester.makepyfile(**{"tests/unit/test_three": THREE.replace("assert False", "assert 1")})
    result = pytester.runpytest_subprocess("--junit-xml=out.xml", timeout=OUTER)
    assert "INTERNALERROR" in result.stdout.str() + result.stderr.str()
    names = [(c.get("classname"), c.get("name")) for c in junit_cases(pytester.path / "out.xml")]
    assert ("pytest", "internal") in names  # how pytest records it
    monkeypatch.chdir(pytester.path)
    code, out = audit(capsys, "out.xml")
    assert code == 1
    assert re.search(r"out\.xml: 3 tests collected, 1 recorded: the run was cut short "
                     r"\(pytest stopped with an INTERNALERROR\)", out), out


def test_the_audit_names_the_cut_short_run_in_json_and_annotations(pytester, capsys,
                                                                   monkeypatch):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_three": THREE})
    pytester.runpytest_subprocess("-x", "--junit-xml=out.xml", timeout=OUTER)
    monkeypatch.chdir(pytester.path)
    _, out = audit(capsys, "--format", "json", "out.xml")
    assert json.loads(out)["incomplete"] == [
        {"result_file": "out.xml", "collected": 3, "recorded": 2, "internal_error": False}]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out = audit(capsys, "out.xml")
    assert out.startswith("::error title=Run cut short::out.xml: 3 tests collected, "
                          "2 recorded: the run was cut short\n")


def test_durations_out_uses_the_recorded_node_ids_of_non_python_items(pytester, capsys,
                                                                       monkeypatch):
    write_policy(pytester)
    pytester.makeconftest(YAML_ITEMS)
    (pytester.path / "tests" / "unit").mkdir(parents=True)
    (pytester.path / "tests" / "unit" / "test_types.yml").write_text(
        "- case: accepts_int\n- case: rejects_str\n")
    pytester.runpytest_subprocess("--junit-xml=out.xml", timeout=OUTER)
    monkeypatch.chdir(pytester.path)
    code, _ = audit(capsys, "--durations-out", ".test_durations", "out.xml")
    assert code == 0
    durations = json.loads((pytester.path / ".test_durations").read_text())
    assert sorted(durations) == ["tests/unit/test_types.yml::accepts_int",
                                 "tests/unit/test_types.yml::rejects_str"]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("UNIT_TEST_THRESHOLD", "0.000001")  # every test over: annotated
    _, out = audit(capsys, "out.xml")
    assert "::error file=tests/unit/test_types.yml," in out


@pytest.mark.slow
def test_under_xdist_the_controller_records_the_collected_count_once(pytester, capsys,
                                                                      monkeypatch):
    write_policy(pytester, parallel=PARALLEL)
    pytester.makepyfile(**{"tests/unit/test_three": THREE.replace("assert False", "assert 1"),
                           "tests/unit/test_more": THREE.replace("assert False", "assert 1")})
    pytester.runpytest_subprocess("--junit-xml=out.xml", timeout=OUTER)
    assert collected_properties(pytester.path / "out.xml") == ["6"]
    root = ET.parse(pytester.path / "out.xml").getroot()
    assert len(root.findall(".//testcase")) == 6
    monkeypatch.chdir(pytester.path)
    assert audit(capsys, "out.xml")[0] == 0
