"""The baseline: day one green with the debt recorded, and every new slow test still red."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_policy_engine.baseline import entries
from test_policy_engine.baseline.entries import Entry
from test_policy_engine.cli.main import main
from test_policy_engine.policy.errors import UserError

POLICY = """\
version: 1
categories:
  unit:
    limit: 1
    default: true
    paths: ["tests/unit/**"]
  slow:
    limit: 30
    markers: [slow]
"""

SLOW3 = {"test_parse": 2.0, "test_render": 3.5, "test_export[a b]": 1.5, "test_fast": 0.1}


def junit(path: Path, times: dict[str, float]) -> Path:
    cases = "".join(f'<testcase classname="tests.unit.test_app" name="{name}" time="{t:.3f}"/>'
                    for name, t in times.items())
    path.write_text(f'<testsuites><testsuite name="pytest">{cases}</testsuite></testsuites>')
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def audit(project: Path, times: dict[str, float]) -> int:
    return main(["audit", str(junit(project / "results.xml", times))])


def test_a_suite_with_three_slow_tests_is_green_once_they_are_recorded(project, capsys):
    assert audit(project, SLOW3) == 1
    assert main(["baseline", "--no-scan", "results.xml"]) == 0
    lines = (project / ".test-policy-baseline").read_text().splitlines()
    assert [line for line in lines if not line.startswith("#")] == [
        "slow tests/unit/test_app.py::test_export[a b] unit 1.500",
        "slow tests/unit/test_app.py::test_parse unit 2.000",
        "slow tests/unit/test_app.py::test_render unit 3.500",
    ]
    capsys.readouterr()
    assert audit(project, SLOW3) == 0
    out = capsys.readouterr().out
    assert "3 known slow tests (warnings), 0 new" in out
    assert "warning: tests/unit/test_app.py::test_parse: known slow test, 2.00 s" in out


def test_a_fourth_slow_test_fails_and_is_named(project, capsys):
    main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))])
    capsys.readouterr()
    assert audit(project, {**SLOW3, "test_new": 1.2}) == 1
    assert ("error: tests/unit/test_app.py::test_new: over its limit and not in the baseline"
            in capsys.readouterr().out)


def test_a_recorded_test_three_times_slower_fails(project, capsys):
    main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))])
    capsys.readouterr()
    assert audit(project, {**SLOW3, "test_parse": 6.0}) == 1
    assert "test_parse: 6.00 s, more than 2x its recorded 2.00 s" in capsys.readouterr().out


def test_a_fixed_test_fails_until_it_is_pruned(project, capsys):
    main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))])
    fixed = {**SLOW3, "test_render": 0.2}
    assert audit(project, fixed) == 1
    assert "test_render: within its limit now: fixed" in capsys.readouterr().out
    assert main(["baseline", "--no-scan", "--prune", "results.xml"]) == 0
    assert "test_render" not in (project / ".test-policy-baseline").read_text()
    assert audit(project, fixed) == 0


def test_prune_adds_no_new_debt(project, capsys):
    main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))])
    assert main(["baseline", "--no-scan", "--prune", str(junit(project / "results.xml",
                                                  {**SLOW3, "test_new": 4.0}))]) == 0
    assert "test_new" not in (project / ".test-policy-baseline").read_text()


def test_an_expired_entry_fails_like_a_new_one(project, capsys):
    main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))])
    path = project / ".test-policy-baseline"
    path.write_text(path.read_text().replace(
        "test_parse unit 2.000", "test_parse unit 2.000 until=2001-01-31 # parser rewrite"))
    capsys.readouterr()
    assert audit(project, SLOW3) == 1
    assert "test_parse: its baseline entry expired on 2001-01-31" in capsys.readouterr().out


def test_a_rewrite_keeps_each_entrys_reason_and_expiry(project):
    main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))])
    path = project / ".test-policy-baseline"
    path.write_text(path.read_text().replace(
        "test_parse unit 2.000", "test_parse unit 2.000 until=2999-01-31 # parser rewrite"))
    results = junit(project / "results.xml", {**SLOW3, "test_x": 9.0})
    assert main(["baseline", "--no-scan", str(results)]) == 0
    text = path.read_text()
    assert "test_parse unit 2.000 until=2999-01-31 # parser rewrite\n" in text
    assert "test_app.py::test_x unit 9.000\n" in text


def test_baseline_marks_its_file_to_merge_by_union(project):
    (project / ".gitattributes").write_text("*.png binary")
    main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))])
    assert (project / ".gitattributes").read_text() == (
        "*.png binary\n.test-policy-baseline merge=union\n")


def test_an_entry_line_reads_back_as_written_with_spaces_in_the_node_id():
    entry = Entry("tests/t.py::test_x[a b]", "unit", 1.25, dt.date(2027, 1, 31), "flaky # net")
    assert entries.parse(entries.render([entry]), "b") == [entry]


def test_a_malformed_entry_names_its_line_and_what_it_expected():
    with pytest.raises(UserError) as caught:
        entries.parse("# header\nslow tests/t.py::test_x unit fast\n", ".test-policy-baseline")
    message = str(caught.value)
    assert message.startswith(".test-policy-baseline:2:1: baseline: seconds must be a number")
    assert "(got 'fast')" in message


FINDING_LINE = ("finding tests/unit/test_app.py test-policy.real-sleep 3f2a9c1b0d4e5f67:0 "
                "until=2999-01-31 # the retry test, #12\n")
SLEEP_POLICY = POLICY + """\
banned:
  - id: real-sleep
    calls: [time.sleep]
    why: "a real sleep waits"
    fix: "patch it"
"""


def test_recording_slow_tests_only_keeps_the_finding_entries_as_they_are(project):
    path = project / ".test-policy-baseline"
    path.write_text(FINDING_LINE)
    assert main(["baseline", "--no-scan", str(junit(project / "results.xml", SLOW3))]) == 0
    text = path.read_text()
    assert text.endswith(FINDING_LINE)
    assert "slow tests/unit/test_app.py::test_parse unit 2.000\n" in text


def test_no_scan_without_results_records_nothing_and_says_so(project, capsys):
    assert main(["baseline", "--no-scan"]) == 2
    assert "--no-scan without RESULTS records nothing; hint: " in capsys.readouterr().err
    assert not (project / ".test-policy-baseline").exists()


def test_without_semgrep_baseline_says_so_and_writes_nothing(project, capsys, monkeypatch,
                                                              tmp_path_factory):
    (project / "policy.yaml").write_text(SLEEP_POLICY)
    (project / "tests").mkdir()
    (project / "tests" / "test_a.py").write_text("import time\ntime.sleep(2)\n")
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty")))
    assert main(["baseline", str(junit(project / "results.xml", SLOW3))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("test-policy baseline: semgrep not found on PATH, so the rule "
                          "findings cannot be recorded; hint: install it")
    assert "`test-policy baseline --no-scan RESULTS...`" in err
    assert not (project / ".test-policy-baseline").exists()
    assert main(["lint"]) == 2
    assert "semgrep not found on PATH; install it with" in capsys.readouterr().err
