"""Random JUnit (bytes, names, attributes, encodings, nesting), environments and globs
through the real commands: a result or located lines with exit 2, never a crash, and no
output line that starts a workflow command of its own."""

from __future__ import annotations

import os
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_policy_engine.cli.main import main
from test_policy_engine.policy.globs import glob_problem, matches

#: More with FUZZ_EXAMPLES=500 when changing the reader or the report.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
POLICY = ("version: 1\ncategories:\n  unit: {limit: 1, default: true, paths: ['tests/unit/**']}\n"
          "  slow: {limit: 30, markers: [slow]}\n")
ERROR_LINE = re.compile(r"^\S.*: \S")
COMMAND = re.compile(r"^::(error|warning|notice) (file=|title=)")
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40) | \
    st.sampled_from(["x\n::add-mask::s", "  ::warning::w", "%0A::error::e", "a|b`c<img>&",
                     "\u2028::x", "t@group", "t[1]"])
attrs = st.fixed_dictionaries({}, optional={
    "classname": names | st.sampled_from(["tests.unit.test_a", "a." * 300 + "b",
                                          "tests/unit/a.ts", "x" * 300]),
    "name": names,
    "time": st.sampled_from(["0.1", "2.5", "nan", "-1", "1e400", "", "0,5", "²"]) | names,
    "line": st.sampled_from(["3", "²", "-1", "99999999999"]) | names,
    "file": names,
})
props = st.lists(st.tuples(st.sampled_from(["test_policy.category", "test_policy.limit",
                                            "test_policy.reason", "other"]),
                           names | st.sampled_from(["unit", "1.0", "explicit timeout"])),
                 max_size=3)
children = st.lists(st.sampled_from(["<failure message='Timeout (pytest-timeout)'/>",
                                     "<error message='worker crashed'/>", "<skipped/>",
                                     "<rerun/>", ""]), max_size=2)


@st.composite
def junit_documents(draw: st.DrawFn) -> bytes:
    cases = []
    for _ in range(draw(st.integers(0, 4))):
        attributes = " ".join(f"{k}={quoteattr(v)}" for k, v in draw(attrs).items())
        properties = "".join(f"<property name={quoteattr(k)} value={quoteattr(v)}/>"
                             for k, v in draw(props))
        body = (f"<properties>{properties}</properties>" if properties else "") + "".join(
            draw(children))
        cases.append(f"<testcase {attributes}>{body}</testcase>")
    depth = draw(st.integers(1, 3))
    suite = draw(st.sampled_from(["pytest", "jest", ""]))
    text = (f"<testsuite name={quoteattr(suite)}>" * depth + "".join(cases)
            + "</testsuite>" * depth)
    encoding = draw(st.sampled_from(["", "utf-8", "latin-1", "x-nonexistent", "utf-7",
                                     "utf-16"]))
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    return (declaration + f"<testsuites>{text}</testsuites>").encode("utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    for name in ("UNIT_TEST_THRESHOLD", "SLOW_TEST_THRESHOLD", "WARN_THRESHOLD_PERCENT"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "tests/unit").mkdir(parents=True)
    (tmp_path / "tests/unit/test_a.py").write_text("")
    return tmp_path


def audit_outcome(project: Path, capsys: pytest.CaptureFixture[str], data: bytes,
                  *options: str) -> None:
    (project / "r.xml").write_bytes(data)
    code = main(["audit", *options, "--top", "5", "r.xml"])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code == 2:
        assert err.strip()
        for line in err.strip().split("\n"):
            assert ERROR_LINE.match(line), line
    for line in out.split("\n"):
        if line.lstrip().startswith("::"):
            assert COMMAND.match(line), line
    summary = project / "summary.md"
    if summary.exists():
        text = summary.read_text()
        # Code spans are literal text (GitHub renders no HTML in them); outside them no
        # raw HTML may be left.
        assert "<img" not in re.sub(r"(`+) .*? \1|`[^`\n]*`", "", text)
        summary.unlink()


@FUZZ
@given(data=junit_documents(), fmt=st.sampled_from(["text", "markdown", "github", "json"]))
def test_random_junit_documents_end_in_a_result_or_located_lines(project, capsys, data, fmt):
    audit_outcome(project, capsys, data, "--format", fmt)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_result_file_end_in_a_result_or_located_lines(project, capsys, data):
    audit_outcome(project, capsys, data)


@FUZZ
@given(data=junit_documents(),
       unit=st.sampled_from(["2", "0", "-1", "nan", "1e9", "x", ""]) | st.text(max_size=8),
       warn=st.sampled_from(["80", "0", "101", "nan", "x"]) | st.text(max_size=8))
def test_random_threshold_overrides_end_in_a_result_or_located_lines(project, capsys,
                                                                     monkeypatch, data, unit,
                                                                     warn):
    if "\0" in unit + warn:
        return  # an environment cannot hold a NUL
    monkeypatch.setenv("UNIT_TEST_THRESHOLD", unit)
    monkeypatch.setenv("WARN_THRESHOLD_PERCENT", warn)
    audit_outcome(project, capsys, data)


@settings(max_examples=EXAMPLES * 10, deadline=None)
@given(glob=st.text("ab*?[]!-/.", max_size=30), path=st.text("ab/.-*[]", max_size=60))
def test_a_random_glob_is_rejected_or_matches_any_path(glob, path):
    if glob_problem(glob) is None:
        assert matches(glob, path) in (True, False)
