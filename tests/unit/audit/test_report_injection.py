"""Hostile names in a JUnit file cannot start a GitHub workflow command or inject markup.

A pull request controls its test names, so the audit job of whoever merges it prints them:
every line the audit writes under `GITHUB_ACTIONS=true` is either one of its own
annotations or starts with something other than `::`, and the job summary carries no raw
HTML and no code span of the name's making.
"""

from __future__ import annotations

import re

import pytest
from test_policy_engine.cli.main import main

POLICY = """\
version: 1
categories:
  unit: {limit: 1, default: true}
"""

#: (attribute value as written in the XML, what it must not produce)
HOSTILE_NAMES = [
    "x&#10;::add-mask::SECRET",
    "x&#13;::stop-commands::tok",
    "::set-output name=a::b",
    "  ::warning ::forged",
    "x&#x2028;::add-mask::sep",
    "100%&#10;::error::pct",
]

OWN_COMMAND = re.compile(r"::(error|warning|notice) (file=[^,:]*,line=\d+,)?title=[^:]*::")


def junit(name: str, time: str = "2.5", classname: str = "tests.test_a",
          props: str = "") -> str:
    return ('<testsuites><testsuite name="pytest">'
            f'<testcase classname="{classname}" name="{name}" time="{time}">{props}</testcase>'
            '</testsuite></testsuites>')


@pytest.fixture
def actions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "results").mkdir()
    return tmp_path


def command_lines(output: str) -> list[str]:
    """Every line the runner would read as a workflow command."""
    return [line for line in re.split(r"\r\n|\r|\n", output) if line.lstrip().startswith("::")]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_test_name_starts_no_workflow_command_of_its_own(actions, capsys, name):
    (actions / "results" / "a.xml").write_text(junit(name))
    assert main(["audit", "results", "--top", "3"]) == 1
    out = capsys.readouterr()
    commands = command_lines(out.out + out.err)
    assert commands, "the failure is still annotated"
    assert all(OWN_COMMAND.match(line) for line in commands), commands


def test_a_hostile_category_property_starts_no_workflow_command(actions, capsys):
    props = ('<properties><property name="test_policy.category" value="unit&#10;::stop-'
             'commands::tok"/><property name="test_policy.limit" value="1"/></properties>')
    (actions / "results" / "a.xml").write_text(junit("test_x", props=props))
    main(["audit", "results"])
    out = capsys.readouterr()
    assert all(OWN_COMMAND.match(line) for line in command_lines(out.out + out.err))
    assert "unit\\n::stop-commands::tok" in out.out  # shown, escaped, on the same line


def test_a_result_file_name_with_a_newline_starts_no_workflow_command(actions, capsys):
    (actions / "results" / "a\n::add-mask::FILE.xml").write_text(junit("t", time="NaN"))
    main(["audit", "results"])
    out = capsys.readouterr()
    assert all(OWN_COMMAND.match(line) for line in command_lines(out.out + out.err))


def test_the_job_summary_escapes_html_and_markdown_in_names_and_categories(actions, capsys):
    props = ('<properties><property name="test_policy.category" value="&lt;b&gt;u|nit'
             '&lt;/b&gt;"/><property name="test_policy.limit" value="1"/></properties>')
    name = "test_x[&lt;img src=x onerror=alert(1)&gt;``|`]"
    (actions / "results" / "a.xml").write_text(junit(name, props=props))
    main(["audit", "results"])
    capsys.readouterr()
    summary = (actions / "summary.md").read_text()
    # The name's code span is fenced with more backticks than the name holds, so it
    # stays literal text; outside code spans no raw HTML is left.
    span = "``` test_x[<img src=x onerror=alert(1)>``\\|`] ```"
    assert span in summary
    assert "<" not in summary.replace(span, "")
    assert "&lt;b&gt;u\\|nit&lt;/b&gt;" in summary


def test_a_name_that_only_looks_like_a_command_is_quoted_in_the_text_report(actions, capsys):
    (actions / "results" / "a.xml").write_text(junit("::add-mask::x"))
    main(["audit", "results"])
    assert '  "::add-mask::x": 2.5s (limit: 1.0s) [unit]' in capsys.readouterr().out
