import pytest
from test_policy_engine.plugin.summary import RunSummary, strip_group_suffix


def props(category: str, limit: str) -> list[tuple[str, object]]:
    return [("test_policy.category", category), ("test_policy.limit", limit),
            ("test_policy.reason", "default")]


@pytest.mark.parametrize(
    ("nodeid", "clean"),
    [("t.py::test_a@db", "t.py::test_a"), ("t.py::test_a[x@y]", "t.py::test_a[x@y]"),
     ("t.py::test_a[x@y]@db", "t.py::test_a[x@y]"), ("t.py::C::test_b", "t.py::C::test_b"),
     ("a@b/t.py::test_c", "a@b/t.py::test_c")],
)
def test_the_loadgroup_suffix_is_stripped_from_node_ids(nodeid, clean):
    assert strip_group_suffix(nodeid) == clean


def summary() -> RunSummary:
    result = RunSummary(warn_ratio=0.8)
    for phase_time in (0.1, 0.75, 0.05):  # setup + call + teardown of one test
        result.add("tests/unit/test_a.py::test_slowish@g", props("unit", "1"), phase_time)
    result.add("tests/unit/test_a.py::test_quick", props("unit", "1"), 0.01)
    result.add("tests/integration/test_b.py::test_b", props("integration", "5"), 1.0)
    result.add("other.py::test_without_properties", [], 9.0)
    return result


def test_each_category_shows_its_tests_total_and_slowest():
    lines = summary().lines(verbosity=0, order=("unit", "integration"))
    assert lines[0].split()[:3] == ["unit", "2", "tests"]
    assert "0.91 s total" in lines[0]
    assert "slowest 0.90 s tests/unit/test_a.py::test_slowish " in lines[0]
    assert "1 over 80 % of the limit" in lines[0]
    assert lines[1].startswith("integration")
    assert "0 over" in lines[1]


def test_tests_over_the_warning_ratio_are_listed_by_share_of_their_limit():
    lines = summary().lines(verbosity=0)
    assert lines[-2] == "tests over 80 % of their limit:"
    assert lines[-1] == "  0.90 s of 1 s (90 %) [unit] tests/unit/test_a.py::test_slowish"


def test_the_summary_is_quiet_with_q():
    assert summary().lines(verbosity=-1) == []


def test_only_five_late_tests_are_listed_without_v():
    result = RunSummary(warn_ratio=0.5)
    for n in range(7):
        result.add(f"t.py::test_{n}", props("unit", "1"), 0.6 + n / 100)
    assert result.lines(verbosity=0)[-1] == "  ... and 2 more (-v shows all)"
    assert len(result.lines(verbosity=1)) == 1 + 1 + 7


def test_a_test_slowed_by_load_is_counted_by_its_idle_estimate_as_the_verdict_and_audit_do():
    result = RunSummary(warn_ratio=0.8)
    nodeid = "tests/unit/test_a.py::test_busy"
    result.add(nodeid, props("unit", "1"), 0.1, "setup")
    result.add(nodeid, props("unit", "1"), 2.5, "call")  # 2.6 s of wall time under load
    result.add(nodeid, [*props("unit", "1"), ("test_policy.wall", "2.650"),
                        ("test_policy.estimate", "0.300")], 0.05, "teardown")
    line = result.lines(verbosity=0)[0]
    assert "slowest 0.30 s" in line
    assert "0 over 80 % of the limit" in line


def test_an_estimate_above_the_wall_time_is_not_believed():
    result = RunSummary(warn_ratio=0.8)
    result.add("t.py::test_x", [*props("unit", "1"), ("test_policy.estimate", "7")], 0.5)
    assert "slowest 0.50 s" in result.lines(verbosity=0)[0]


def test_the_setup_and_call_durations_count_once_the_teardown_report_comes():
    result = RunSummary(warn_ratio=0.8)
    nodeid = "tests/unit/test_a.py::test_slow_setup"
    result.add(nodeid, props("unit", "1"), 0.7, "setup")
    result.add(nodeid, props("unit", "1"), 0.2, "call")
    assert result.lines(verbosity=0) == []  # nothing known of the test before its teardown
    result.add(nodeid, props("unit", "1"), 0.05, "teardown")
    assert "slowest 0.95 s" in result.lines(verbosity=0)[0]
    assert result.earlier == {}


def test_a_test_judged_in_the_same_process_is_summed_as_its_reports_properties_would_be():
    by_properties, by_figures = RunSummary(warn_ratio=0.8), RunSummary(warn_ratio=0.8)
    nodeid = "tests/unit/test_a.py::test_x@db"
    for when, phase_time in (("setup", 0.1), ("call", 0.7), ("teardown", 0.05)):
        teardown = [("test_policy.estimate", "0.840")] if when == "teardown" else []
        by_properties.add(nodeid, [*props("unit", "1"), *teardown], phase_time, when)
    by_figures.judged(nodeid, "unit", 1.0, 0.1 + 0.7 + 0.05, "0.840")
    assert by_figures.tests() == by_properties.tests()
    assert by_figures.lines(verbosity=1) == by_properties.lines(verbosity=1)
    assert by_figures.walls() == {"tests/unit/test_a.py::test_x": pytest.approx(0.85)}


def test_a_test_reported_twice_keeps_its_first_limit_and_adds_up_its_time():
    result = RunSummary(warn_ratio=0.8)
    result.judged("t.py::test_a", "unit", 1.0, 0.5, "0.500")
    result.judged("t.py::test_a", "slow", 30.0, 0.4, "0.400")
    (test,) = result.tests().values()
    assert (test.category, test.limit, test.wall, test.estimate) == ("unit", 1.0,
                                                                     pytest.approx(0.9), 0.4)


@pytest.mark.parametrize(("extra", "rare"), [
    ([("test_policy.wall", "0.001"), ("test_policy.estimate", "0.001")], False),
    ([("test_policy.fixture", "session fixture db (conftest.py:3): 2.00 s")], True),
    ([("test_policy.leftovers", "pid 12 (python -m http.server)")], True),
    ([("test_policy.baseline", "known")], True),
    (["not a pair"], True),
])
def test_only_a_report_with_a_property_the_summary_reads_rarely_takes_the_full_path(
        extra, rare):
    from test_policy_engine.plugin.summary import has_rare

    assert has_rare([*props("unit", "1"), *extra]) is rare
