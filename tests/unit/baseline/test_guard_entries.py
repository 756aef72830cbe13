"""The baseline's `guard` lines: read, written, and what they let a test do."""

import datetime as dt

import pytest
from test_policy_engine.baseline import entries
from test_policy_engine.baseline.guards import GuardEntry, known, parse_line, render_all
from test_policy_engine.policy.errors import UserError

TODAY = dt.date(2026, 12, 3)


def test_a_guard_line_reads_its_node_id_with_spaces_kind_date_and_reason():
    entry = parse_line("guard t.py::test_x[a b] sleep until=2027-01-31 # retry loop", "b", 3)
    assert entry == GuardEntry("t.py::test_x[a b]", "sleep", dt.date(2027, 1, 31), "retry loop")
    assert entry.render() == "guard t.py::test_x[a b] sleep until=2027-01-31 # retry loop"


@pytest.mark.parametrize(("line", "said"), [
    ("guard t.py::test_x", "a guard entry has a node id and a kind"),
    ("guard t.py::test_x sleeps", "a guard entry's kind is one of the guard's (got 'sleeps')"),
    ("guard t.py::test_x sleep until=soon", "until= must be a date YYYY-MM-DD (got 'soon')"),
])
def test_a_malformed_guard_line_is_a_located_error(line, said):
    with pytest.raises(UserError) as caught:
        parse_line(line, ".test-policy-baseline", 7)
    assert str(caught.value).startswith(f".test-policy-baseline:7:1: baseline: {said}")


def test_an_expired_entry_lets_its_test_do_nothing_and_kinds_are_gathered_per_test():
    lines = [GuardEntry("t::a", "sleep"), GuardEntry("t::a", "network"),
             GuardEntry("t::b", "subprocess", until=dt.date(2026, 12, 2))]
    assert known(lines, TODAY) == {"t::a": frozenset({"sleep", "network"})}


def test_the_file_lists_each_kind_of_each_test_once_sorted_after_the_other_kinds():
    text = entries.render([entries.Entry("t::slow", "unit", 2.0)], (),
                          [GuardEntry("t::b", "sleep"), GuardEntry("t::a", "sleep"),
                           GuardEntry("t::a", "sleep", reason="again")])
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == ["slow t::slow unit 2.000", "guard t::a sleep", "guard t::b sleep"]
    assert render_all([]) == ""


def test_slow_and_finding_readers_skip_guard_lines_and_the_guard_reader_the_others():
    text = ("slow t::slow unit 2.000\n"
            "finding tests/t.py test-policy.real-sleep 3f2a9c1b0d4e5f67:0\n"
            "guard t::a sleep\n")
    assert [e.node_id for e in entries.parse(text, "b")] == ["t::slow"]
    assert [e.path for e in entries.parse_findings(text, "b")] == ["tests/t.py"]
    assert entries.parse_guards(text, "b") == [GuardEntry("t::a", "sleep")]
