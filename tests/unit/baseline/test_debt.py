"""One test's standing against the baseline, as the pytest plugin asks for it."""

import datetime as dt

import pytest
from test_policy_engine.baseline.debt import Debt, load_debt
from test_policy_engine.baseline.entries import Entry
from test_policy_engine.policy.errors import UserError

TODAY = dt.date(2026, 12, 3)
ENTRY = Entry("tests/t.py::test_a", "unit", 1.5)
DEBT = Debt(".test-policy-baseline", {ENTRY.node_id: ENTRY}, TODAY)


@pytest.mark.parametrize(("seconds", "standing"), [(1.2, "known"), (3.0, "known"),
                                                    (3.01, "slower")])
def test_a_listed_test_is_known_up_to_twice_its_recorded_time(seconds, standing):
    assert DEBT.standing(ENTRY.node_id, seconds) == (standing, ENTRY)


def test_an_unlisted_test_has_no_standing():
    assert DEBT.standing("tests/t.py::test_b", 9.0) is None


def test_an_entry_past_its_date_is_expired_however_fast_the_test():
    old = Entry(ENTRY.node_id, "unit", 1.5, until=dt.date(2026, 12, 2))
    debt = Debt("b", {old.node_id: old}, TODAY)
    assert debt.standing(old.node_id, 1.1) == ("expired", old)
    assert debt.failing_note("expired", old) == "; its entry in b expired on 2026-12-02"


def test_an_entry_expiring_today_still_holds():
    today = Entry(ENTRY.node_id, "unit", 1.5, until=TODAY)
    assert Debt("b", {today.node_id: today}, TODAY).standing(today.node_id, 1.1)[0] == "known"


def test_no_file_and_a_file_of_comments_are_no_debt(tmp_path):
    assert load_debt(tmp_path / "missing", "missing", TODAY) is None
    (tmp_path / "b").write_text("# only a header\n")
    assert load_debt(tmp_path / "b", "b", TODAY) is None


def test_a_file_that_is_not_utf8_is_the_users_error(tmp_path):
    (tmp_path / "b").write_bytes(b"slow tests/t.py::test_\xff unit 1.0\n")
    with pytest.raises(UserError, match=r"b: the baseline is not UTF-8 text \(byte 22\)"):
        load_debt(tmp_path / "b", "b", TODAY)


def test_a_directory_where_the_file_should_be_is_the_users_error(tmp_path):
    (tmp_path / "b").mkdir()
    with pytest.raises(UserError, match="b: cannot read the baseline"):
        load_debt(tmp_path / "b", "b", TODAY)


@pytest.mark.parametrize(("seconds", "fixed"), [(0.5, True), (0.8, True), (0.81, False),
                                                (0.99, False)])
def test_a_listed_test_is_fixed_only_when_comfortably_within_its_limit(seconds, fixed):
    assert DEBT.fixed(ENTRY.node_id, seconds, limit=1.0) is fixed


def test_an_unlisted_fast_test_is_not_fixed():
    assert not DEBT.fixed("tests/t.py::test_b", 0.1, limit=1.0)
