"""A FIFO, a device or a directory where a file is expected is one line, never a hang."""

from __future__ import annotations

import os

import pytest
from test_policy_engine.cli.main import main
from test_policy_engine.policy.reading import POLICY_MAX_BYTES

POLICY = "version: 1\ncategories:\n  unit: {limit: 1, default: true}\n"
JUNIT = ('<testsuite name="pytest"><testcase classname="tests.test_a" name="t" time="2.5"/>'
         '</testsuite>')


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_a_fifo_as_the_policy_is_refused_at_once(here, capsys):
    os.mkfifo(here / "policy.yaml")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "policy.yaml: the policy is a named pipe (FIFO), not a file; "
        "hint: pass the policy file with --policy PATH\n")


def test_dev_zero_as_the_policy_is_read_only_up_to_the_cap(here, capsys):
    assert main(["check", "--policy", "/dev/zero"]) == 2
    assert "the policy is a device, not a file" in capsys.readouterr().err


def test_a_policy_over_the_size_cap_is_refused_without_parsing_it(here, capsys):
    (here / "policy.yaml").write_text(POLICY + "#" * POLICY_MAX_BYTES)
    assert main(["check"]) == 2
    assert "the policy is larger than 1,024 KiB" in capsys.readouterr().err


def test_a_fifo_named_as_a_result_file_is_refused(here, capsys):
    (here / "policy.yaml").write_text(POLICY)
    os.mkfifo(here / "results.xml")
    assert main(["audit", "results.xml"]) == 2
    assert capsys.readouterr().err == (
        "results.xml: not a file or a directory; hint: name JUnit XML files or directories "
        "of them\n")


def test_a_fifo_inside_the_results_directory_is_not_read(here, capsys):
    (here / "policy.yaml").write_text(POLICY)
    (here / "results").mkdir()
    (here / "results" / "a.xml").write_text(JUNIT)
    os.mkfifo(here / "results" / "b.xml")
    assert main(["audit", "results"]) == 1  # a.xml's slow test; b.xml never blocks


def test_a_step_summary_that_is_a_fifo_is_skipped_with_a_warning(here, capsys, monkeypatch):
    (here / "policy.yaml").write_text(POLICY)
    (here / "a.xml").write_text(JUNIT)
    os.mkfifo(here / "summary")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(here / "summary"))
    assert main(["audit", "a.xml"]) == 1
    assert "cannot write the job summary" in capsys.readouterr().err


def test_five_hundred_levels_of_flow_nesting_are_one_located_line(here, capsys):
    (here / "policy.yaml").write_text(POLICY + "x: " + "[" * 500 + "1" + "]" * 500 + "\n")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "policy.yaml:4:67: nested deeper than 64 levels; "
        "hint: a policy needs at most a few levels of nesting\n")


@pytest.mark.parametrize(("limit", "shown"), [("1.0e+10", "10000000000.0"), ("0.00001", "1e-05")])
def test_a_limit_beyond_what_a_timer_can_mean_is_refused_by_check(here, capsys, limit, shown):
    (here / "policy.yaml").write_text(POLICY.replace("limit: 1", f"limit: {limit}"))
    assert main(["check"]) == 2
    assert (f"policy.yaml:3:17: categories.unit.limit: must be from 0.001 to 86,400 seconds "
            f"(a day) (got {shown})") in capsys.readouterr().err


@pytest.mark.parametrize(("declaration", "why"), [
    ('encoding="x-nonexistent"', "unknown encoding: x-nonexistent"),
    ('encoding="utf-7"', "multi-byte encodings are not supported"),
])
def test_a_result_file_in_an_encoding_expat_cannot_read_is_one_line(here, capsys,
                                                                    declaration, why):
    (here / "policy.yaml").write_text(POLICY)
    (here / "a.xml").write_text(f'<?xml version="1.0" {declaration}?>' + JUNIT)
    assert main(["audit", "a.xml"]) == 2
    assert capsys.readouterr().err == (f"a.xml:1:1: cannot decode the file ({why}); "
                                       "hint: write JUnit XML as UTF-8\n")


def test_a_line_attribute_of_unicode_digits_is_ignored_not_a_traceback(here, capsys):
    (here / "policy.yaml").write_text(POLICY)
    (here / "a.xml").write_text(JUNIT.replace('time="2.5"', 'time="0.1" line="²"'))
    assert main(["audit", "a.xml"]) == 0


def test_explain_refuses_a_timeout_that_is_not_a_number_of_seconds(here, capsys):
    (here / "policy.yaml").write_text(POLICY)
    assert main(["explain", "tests/test_a.py", "--timeout", "nan"]) == 2
    assert "argument --timeout: must be a number of seconds, 0 or more (got 'nan')" in (
        capsys.readouterr().err)
