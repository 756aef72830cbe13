"""The baseline's rule-finding lines and how a scan's findings are judged against them."""

from __future__ import annotations

import datetime as dt

import pytest
from test_policy_engine.baseline import entries
from test_policy_engine.baseline.entries import Entry
from test_policy_engine.baseline.findings import FindingEntry, note, unique
from test_policy_engine.baseline.ratchet import judge_findings
from test_policy_engine.lint.findings import Finding, number
from test_policy_engine.policy.errors import UserError

TODAY = dt.date(2026, 12, 3)
RULE = "test-policy.real-sleep"


def finding(path: str = "tests/test_a.py", line: int = 5, code: str = "time.sleep(2)"
            ) -> Finding:
    return Finding(path=path, line=line, column=5, end_line=line, end_column=18, rule=RULE,
                   severity="error", message="a real sleep", code=code)


def entry(found: Finding, occurrence: int = 0, until: dt.date | None = None) -> FindingEntry:
    return FindingEntry(found.path, found.rule, found.fingerprint, occurrence, until)


def everything(path: str) -> bool:
    return True


def test_a_finding_line_reads_back_as_written_with_odd_characters_in_the_file_name():
    written = FindingEntry("tests/a b/#1 100%.py", RULE, "3f2a9c1b0d4e5f67", 2,
                           dt.date(2027, 1, 31), "the retry test # waits")
    line = written.render()
    assert line == ("finding tests/a%20b/%231%20100%25.py test-policy.real-sleep "
                    "3f2a9c1b0d4e5f67:2 until=2027-01-31 # the retry test # waits")
    assert entries.parse_findings(line + "\n", "b") == [written]
    for odd in ("tests/é ü.py", "tests/x\udcff.py", "tests/%41\t.py"):
        again = FindingEntry(odd, RULE, "3f2a9c1b0d4e5f67")
        assert entries.parse_findings(again.render(), "b") == [again]


def test_each_parser_reads_its_own_kind_and_skips_the_other():
    slow = Entry("tests/t.py::test_x", "unit", 1.5)
    found = FindingEntry("tests/t.py", RULE, "3f2a9c1b0d4e5f67")
    text = entries.render([slow], [found])
    assert entries.parse(text, "b") == [slow]
    assert entries.parse_findings(text, "b") == [found]


@pytest.mark.parametrize(("line", "says"), [
    ("finding tests/t.py test-policy.real-sleep 3f2a", "the fingerprint is 16 hex digits"),
    ("finding tests/t.py 3f2a9c1b0d4e5f67:0", "has a file, a rule id and a fingerprint"),
    ("finding tests/t.py r 3f2a9c1b0d4e5f67:0 until=soon", "until= must be a date"),
    ("finding /etc/t.py r 3f2a9c1b0d4e5f67:0", "relative to the policy's directory"),
    ("findings tests/t.py r 3f2a9c1b0d4e5f67:0", "starts with `slow`, `finding` or `guard`"),
])
def test_a_malformed_finding_line_is_an_error_at_its_line(line: str, says: str):
    with pytest.raises(UserError) as caught:
        entries.parse_findings(f"# header\nslow tests/t.py::test_x unit 2.0\n{line}\n",
                               ".test-policy-baseline")
    assert str(caught.value).startswith(".test-policy-baseline:3:1: baseline: ")
    assert says in str(caught.value)


def test_the_slow_parser_does_not_read_finding_lines_even_malformed_ones():
    assert entries.parse("finding tests/t.py nonsense\n", "b") == []


def test_known_findings_pass_and_a_third_is_new():
    one, two, three = finding(line=5), finding(line=9, code="time.sleep(3)"), finding(
        line=12, code="time.sleep(4)")
    judged = judge_findings([one, two, three], [entry(one), entry(two)], everything, TODAY)
    assert [f for f, _ in judged.known] == [one, two]
    assert judged.new == [three]
    assert judged.failed


def test_identical_matches_are_counted_the_extra_ones_new_the_missing_ones_fixed():
    three = number([finding(line=n) for n in (3, 6, 9)])
    listed = [entry(three[0], 0), entry(three[0], 1)]
    judged = judge_findings(three, listed, everything, TODAY)
    assert (len(judged.known), judged.new, judged.fixed) == (2, [three[2]], [])
    judged = judge_findings(three[:1], listed, everything, TODAY)
    assert judged.fixed == [listed[1]]


def test_an_expired_entry_fails_and_a_dated_one_still_running_passes():
    found = finding()
    assert judge_findings([found], [entry(found, until=TODAY)], everything, TODAY).known
    judged = judge_findings([found], [entry(found, until=dt.date(2026, 12, 2))], everything,
                            TODAY)
    assert [f for f, _ in judged.expired] == [found]
    assert judged.failed


def test_an_entry_of_a_file_that_was_not_scanned_is_left_alone():
    gone = entry(finding(path="tests/test_other.py"))
    judged = judge_findings([], [gone], lambda path: path == "tests/test_a.py", TODAY)
    assert not judged.failed
    judged = judge_findings([], [gone], everything, TODAY)
    assert judged.fixed == [gone]


def test_a_line_repeated_by_a_merge_counts_once():
    found = finding()
    twice = [entry(found), FindingEntry(*entry(found).key, 0, reason="ours")]
    assert len(unique(twice)) == 1
    judged = judge_findings(number([finding(line=3), finding(line=6)]), twice, everything,
                            TODAY)
    assert len(judged.known) == 1
    assert len(judged.new) == 1


def test_the_written_note_is_the_first_line_of_the_match_on_one_line_and_short():
    assert note("requests.get(\n    url)") == "requests.get("
    assert note("x(\x1b[31m)") == "x( [31m)"
    assert len(note("f(" + "a" * 200 + ")")) == 72
