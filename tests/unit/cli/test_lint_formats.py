"""`test-policy lint --format text|json|sarif|github`: the reports of a set of findings."""

from __future__ import annotations

import json
import re

import pytest
from sarif_kit.validate import validation_errors
from test_policy_engine.lint.findings import Finding, number
from test_policy_engine.lint.formats import Report, Skipped, render
from test_policy_engine.lint.plan import Plan, RuleInfo

SLEEP = RuleInfo(id="test-policy.real-sleep", pattern="real-sleep", severity="error",
                 why="a real sleep makes the test wait", fix="patch it",
                 message="A real time.sleep() in a test: a real sleep makes the test wait.",
                 calls=("time.sleep",))
HTTP = RuleInfo(id="test-policy.real-requests", pattern="real-requests", severity="warning",
                why="real HTTP", fix="use responses", message="A real requests.get().",
                calls=("requests.get", "requests.post"))
PLAN = Plan(paths=("tests/**",), exclude=(), rules=(SLEEP, HTTP), parts=())
#: A path, a message and matched code holding everything that could break a line-oriented
#: report or a workflow command: newlines, `::`, `%`, commas, colons, backticks and HTML.
HOSTILE_PATH = "tests/we,ird::%0A dir/test_`x`<b>.py\n::error::forged"
HOSTILE_MESSAGE = "50% of <script>alert(1)</script>, `code`: a::b\r\n::warning::forged"
HOSTILE_CODE = "time.sleep(\n::add-mask::secret)"


def finding(path: str = "tests/test_a.py", line: int = 5, rule: RuleInfo = SLEEP,
            code: str = "time.sleep(2)", message: str | None = None) -> Finding:
    return Finding(path=path, line=line, column=5, end_line=line, end_column=18, rule=rule.id,
                   severity=rule.severity, message=message or rule.message, code=code)


def report(*findings: Finding, files: int = 2) -> Report:
    return Report(PLAN, [f"tests/test_{n}.py" for n in range(files)],
                  findings=number(sorted(findings)))


def test_text_shows_each_finding_with_its_place_rule_message_and_code_then_a_summary():
    out = render(report(finding(), finding(line=9, rule=HTTP, code="requests.get(url)")),
                 "text")
    assert out == (
        "tests/test_a.py:5:5: test-policy.real-sleep: A real time.sleep() in a test: a real "
        "sleep makes the test wait.\n"
        "    | time.sleep(2)\n"
        "tests/test_a.py:9:5: test-policy.real-requests: A real requests.get().\n"
        "    | requests.get(url)\n"
        "2 findings (test-policy.real-requests, test-policy.real-sleep) in 1 file of 2 files "
        "scanned\n")


def test_text_without_findings_says_how_many_files_were_scanned():
    assert render(report(files=3), "text") == "no new findings in 3 files scanned\n"


def test_text_keeps_a_hostile_path_message_and_code_on_their_lines():
    out = render(report(finding(path=HOSTILE_PATH, message=HOSTILE_MESSAGE,
                                code=HOSTILE_CODE)), "text")
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("tests/we,ird::%0A dir/test_`x`<b>.py\\n::error::forged:5:5: ")
    assert lines[0].endswith("a::b\\r\\n::warning::forged")
    assert lines[1] == "    | time.sleep("
    assert not any(line.lstrip().startswith("::") for line in lines)


def test_json_has_the_documented_shape():
    data = json.loads(render(Report(PLAN, ["tests/test_a.py"], findings=[finding()],
                                    skipped=[Skipped("src/app.py", "not a test file")]),
                             "json"))
    assert data == {
        "version": 1,
        "tool": {"name": "test-policy-engine", "version": data["tool"]["version"]},
        "findings": [{
            "rule": "test-policy.real-sleep", "severity": "error", "path": "tests/test_a.py",
            "line": 5, "column": 5, "end_line": 5, "end_column": 18,
            "message": SLEEP.message, "code": "time.sleep(2)",
            "fingerprint": finding().fingerprint, "occurrence": 0,
        }],
        "known": [],
        "files_scanned": 1,
        "not_scanned": [{"path": "src/app.py", "reason": "not a test file"}],
        "errors": [],
        "expired": [],
        "fixed": [],
        "baseline": None,
    }


def test_a_fingerprint_ignores_the_line_and_white_space_but_not_the_rule_file_or_code():
    base = finding()
    assert finding(line=40).fingerprint == base.fingerprint
    assert finding(code="time.sleep( 2 )").fingerprint != base.fingerprint
    assert finding(code="time.sleep(2)\n").fingerprint == base.fingerprint
    assert finding(path="tests/test_b.py").fingerprint != base.fingerprint
    assert finding(rule=HTTP).fingerprint != base.fingerprint
    twice = number(sorted([finding(line=3), finding(line=8)]))
    assert [f.occurrence for f in twice] == [0, 1]


def test_sarif_is_valid_sarif_2_1_0_with_a_rule_per_pattern_and_github_fields():
    out = render(report(finding(), finding(line=9, rule=HTTP, path=HOSTILE_PATH,
                                           message=HOSTILE_MESSAGE, code=HOSTILE_CODE)), "sarif")
    log = json.loads(out)
    assert validation_errors(log) == []
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [SLEEP.id, HTTP.id]
    assert run["tool"]["driver"]["rules"][1]["defaultConfiguration"] == {"level": "warning"}
    first, second = run["results"]
    assert first["ruleId"] == SLEEP.id
    assert first["ruleIndex"] == 0
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "tests/test_a.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 18,
                   "snippet": {"text": "time.sleep(2)"}},
    }
    assert first["partialFingerprints"] == {
        "testPolicyFinding/v1": f"{finding().fingerprint}:0"}
    assert second["ruleIndex"] == 1
    assert second["level"] == "warning"
    assert second["message"]["text"] == HOSTILE_MESSAGE


def test_sarif_without_findings_is_still_a_valid_log_that_lists_the_rules():
    log = json.loads(render(report(), "sarif"))
    assert validation_errors(log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == 2


COMMAND = re.compile(r"^::(error|warning) ([^:]*)::(.*)$")


def unescape(value: str) -> str:
    """What the GitHub runner makes of an escaped value."""
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","),
                          ("%25", "%")):
        value = value.replace(escaped, char)
    return value


def test_github_commands_carry_file_line_col_and_title_and_survive_hostile_text():
    out = render(report(finding(path=HOSTILE_PATH, message=HOSTILE_MESSAGE, code=HOSTILE_CODE),
                        finding(line=9, rule=HTTP)), "github")
    lines = out.splitlines()
    assert len(lines) == 3  # two commands and the summary: no text escaped onto a line
    commands = [COMMAND.match(line) for line in lines[:2]]
    assert all(commands)
    assert not lines[2].startswith("::")
    kinds = [m.group(1) for m in commands if m]
    assert sorted(kinds) == ["error", "warning"]
    hostile = next(m for m in commands if m and m.group(1) == "error")
    props = dict(p.split("=", 1) for p in hostile.group(2).split(","))
    assert unescape(props["file"]) == HOSTILE_PATH
    assert (props["line"], props["col"], props["endLine"], props["endColumn"]) == (
        "5", "5", "5", "18")
    assert unescape(props["title"]) == SLEEP.id
    assert unescape(hostile.group(3)) == HOSTILE_MESSAGE


def test_github_annotates_ten_findings_and_lists_the_rest_in_the_log():
    many = [finding(line=n) for n in range(1, 15)]
    lines = render(report(*many), "github").splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == 10
    assert commands[-1].startswith("::error title=More slow-test patterns::5 more findings")
    assert lines[10:15] == [f"tests/test_a.py:{n}:5: test-policy.real-sleep: {SLEEP.message}"
                            for n in range(10, 15)]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_every_format_renders_an_empty_scan(fmt: str):
    out = render(Report(PLAN, []), fmt)
    assert out.endswith("\n")
    if fmt in ("json", "sarif"):
        json.loads(out)


def baselined() -> Report:
    """A scan with one new finding, one known, one whose entry expired and one fixed entry."""
    import datetime as dt

    from test_policy_engine.baseline.findings import FindingEntry

    known, expired = finding(line=3, code="time.sleep(3)"), finding(line=7, code="time.sleep(4)")
    gone = FindingEntry("tests/test_b.py", SLEEP.id, "3f2a9c1b0d4e5f67", 0, reason="sleep(9)")
    return Report(PLAN, ["tests/test_a.py", "tests/test_b.py"], findings=[finding(line=11)],
                  known=[known], expired=[(expired, FindingEntry(
                      expired.path, expired.rule, expired.fingerprint, 0, dt.date(2001, 1, 31)))],
                  fixed=[gone], baseline=".test-policy-baseline")


def test_text_lists_known_findings_then_the_new_expired_and_fixed_ones_and_counts_them():
    lines = render(baselined(), "text").splitlines()
    assert lines[0] == "tests/test_a.py:3:5: test-policy.real-sleep: known finding, in the baseline"
    assert lines[1].startswith("tests/test_a.py:11:5: test-policy.real-sleep: A real")
    assert lines[3].startswith("tests/test_a.py:7:5: test-policy.real-sleep: its baseline "
                               "entry expired on 2001-01-31: A real")
    assert lines[5] == ("tests/test_b.py: test-policy.real-sleep: fixed: the baseline entry "
                        "3f2a9c1b0d4e5f67:0 (sleep(9)) matches nothing in this file now; "
                        "hint: drop it with `test-policy baseline --prune`")
    assert lines[6] == ("1 finding (test-policy.real-sleep) in 1 file of 2 files scanned; "
                        "1 known finding in the baseline; 1 baseline entry expired; "
                        "1 baseline entry fixed (prune: `test-policy baseline --prune`)")
    assert baselined().failed
    assert not Report(PLAN, [], known=[finding()]).failed


def test_json_and_sarif_carry_the_known_expired_and_fixed_entries():
    data = json.loads(render(baselined(), "json"))
    assert [f["line"] for f in data["known"]] == [3]
    assert [(f["line"], f["until"]) for f in data["expired"]] == [(7, "2001-01-31")]
    assert data["fixed"] == [{"rule": SLEEP.id, "path": "tests/test_b.py",
                              "fingerprint": "3f2a9c1b0d4e5f67", "occurrence": 0,
                              "until": None, "reason": "sleep(9)"}]
    assert data["baseline"] == ".test-policy-baseline"
    log = json.loads(render(baselined(), "sarif"))
    assert validation_errors(log) == []
    states = [(r["baselineState"], r["level"]) for r in log["runs"][0]["results"]]
    assert states == [("new", "error"), ("unchanged", "note"), ("unchanged", "error"),
                      ("absent", "error")]


def test_github_annotates_the_expired_and_fixed_entries_and_counts_the_known_in_a_notice():
    lines = render(baselined(), "github").splitlines()
    assert [line.split(" ", 1)[0] for line in lines[:4]] == ["::error"] * 3 + ["::notice"]
    assert "its baseline entry expired on 2001-01-31" in lines[1]
    assert lines[2].startswith(
        "::error file=tests/test_b.py,title=test-policy.real-sleep%3A fixed::")
    assert lines[3] == ("::notice title=Known slow-test patterns::1 known finding in the "
                        "baseline .test-policy-baseline")
