"""The pure audit: in-memory test records + policy + overrides -> verdicts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_policy_engine.audit.junit import CaseRecord, read_junit
from test_policy_engine.audit.report import as_json
from test_policy_engine.audit.verdicts import (
    Overrides,
    audit,
    audit_files,
    candidate_paths,
    node_id,
    overrides_from_env,
)
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import parse_policy

POLICY = parse_policy(b"""
version: 1
warn_ratio: 0.8
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 5, paths: ["tests/integration/**"], markers: [integration]}
  slow: {limit: 30, markers: [slow]}
  e2e: {limit: 10, audit_limit: 8, paths: ["tests/e2e/**"]}
audit:
  junit_files: {"frontend-*.xml": integration}
""", "policy.yaml")


def rec(name="test_x", classname="tests.unit.test_mod", time=0.1, *, source="r.xml",
        file=None, line=None, raw=None, outcome="passed", timed_out=False, crashed=False,
        teardown=False, props=(), pytest_suite=True) -> CaseRecord:
    return CaseRecord(source, ("pytest",), classname, name, file, line, time, raw, outcome,
                      timed_out, crashed, teardown, 0, pytest_suite, tuple(props))


def plugin(category, limit, reason="default"):
    return (("test_policy.category", category), ("test_policy.limit", limit),
            ("test_policy.reason", reason))


def only(verdicts):
    assert len(verdicts) == 1, verdicts
    return verdicts[0]


def test_a_unit_test_over_one_second_fails_with_the_unit_limit():
    result = audit([rec(time=2.3), rec("test_y", time=0.2)], POLICY)
    failure = only(result.failures)
    assert (failure.record.name, failure.time, failure.limit, failure.category) == (
        "test_x", 2.3, 1.0, "unit")
    assert failure.kind == "over"
    assert result.warnings == []


def test_a_test_over_80_percent_of_its_limit_is_a_warning_not_a_failure():
    result = audit([rec(time=0.9)], POLICY)
    assert result.failures == []
    assert only(result.warnings).kind == "warning"


def test_a_test_exactly_at_its_limit_is_a_failure_as_pytest_timeout_would_have_fired():
    result = audit([rec(time=1.0)], POLICY)
    assert result.warnings == []
    assert only(result.failures).time == 1.0


def test_the_dotted_classname_finds_the_category_of_its_file():
    result = audit([rec(classname="tests.integration.test_api.TestClient", time=4.5)],
                   POLICY)
    warning = only(result.warnings)
    assert (warning.category, warning.limit) == ("integration", 5.0)


def test_candidate_paths_go_from_the_longest_dotted_prefix_to_the_shortest():
    assert candidate_paths("tests.unit.test_batch.TestX") == [
        "tests/unit/test_batch/TestX.py", "tests/unit/test_batch.py", "tests/unit.py",
        "tests.py"]
    assert candidate_paths("src/app.test.ts") == ["src/app.test.ts"]


def test_the_file_attribute_is_classified_before_the_classname():
    record = rec(classname="weird", file="tests/integration/test_db.py", time=5.5)
    assert only(audit([record], POLICY).failures).category == "integration"


def test_a_result_file_glob_gives_the_category_of_tests_without_a_file():
    record = rec("adds > two numbers", classname="math adds two numbers", time=4.5,
                 source="results/frontend-unit.xml", pytest_suite=False)
    assert only(audit([record], POLICY).warnings).category == "integration"


def test_a_test_matching_nothing_gets_the_default_category():
    record = rec("TestFoo", classname="com.example.FooTest", time=1.5, pytest_suite=False)
    assert only(audit([record], POLICY).failures).category == "unit"


def test_the_audit_limit_is_used_instead_of_the_limit():
    result = audit([rec(classname="tests.e2e.test_flow", time=9.0)], POLICY)
    assert only(result.failures).limit == 8.0


def test_the_plugin_category_wins_over_the_path():
    record = rec(classname="tests.unit.test_mod", time=4.0, props=plugin("slow", "30",
                                                                          "marker slow"))
    result = audit([record], POLICY)
    assert result.failures == result.warnings == []
    assert result.categories["slow"].tests == 1


def test_an_explicit_timeout_recorded_by_the_plugin_is_the_limit():
    props = plugin("unit", "10", "explicit timeout")
    result = audit([rec(time=9.0, props=props)], POLICY,
                   Overrides(thresholds={"unit": 0.5}))
    warning = only(result.warnings)
    assert (warning.limit, warning.category) == (10.0, "unit")


def test_an_explicit_timeout_of_zero_means_no_limit():
    result = audit([rec(time=100.0, props=plugin("unit", "0", "explicit timeout"))], POLICY)
    assert result.failures == result.warnings == []


def test_a_recorded_category_this_policy_does_not_know_keeps_its_recorded_limit():
    result = audit([rec(time=3.0, props=plugin("smoke", "2.5", "path smoke/**"))], POLICY)
    failure = only(result.failures)
    assert (failure.category, failure.limit) == ("smoke", 2.5)
    assert result.categories["smoke"].over == 1


def test_an_environment_threshold_overrides_the_policy_for_its_category():
    overrides = overrides_from_env({"UNIT_TEST_THRESHOLD": "2.0"}, POLICY)
    result = audit([rec(time=1.7), rec("test_i", "tests.integration.test_i", time=5.5)],
                   POLICY, overrides)
    assert [v.record.name for v in result.failures] == ["test_i"]
    assert only(result.warnings).limit == 2.0


def test_warn_threshold_percent_sets_the_warning_level():
    overrides = overrides_from_env({"WARN_THRESHOLD_PERCENT": "50"}, POLICY)
    result = audit([rec(time=0.6)], POLICY, overrides)
    assert result.warn_ratio == 0.5
    assert only(result.warnings).time == 0.6


@pytest.mark.parametrize(("variable", "value"), [
    ("UNIT_TEST_THRESHOLD", "abc"),
    ("UNIT_TEST_THRESHOLD", "0"),
    ("UNIT_TEST_THRESHOLD", "-1"),
    ("INTEGRATION_TEST_THRESHOLD", "1,5"),
    ("WARN_THRESHOLD_PERCENT", "180"),
    ("WARN_THRESHOLD_PERCENT", "80%"),
    ("WARN_THRESHOLD_PERCENT", "NaN"),
])
def test_a_malformed_override_is_an_input_error_naming_the_variable(variable, value):
    with pytest.raises(UserError) as caught:
        overrides_from_env({variable: value}, POLICY)
    assert str(caught.value).startswith(f"${variable}: ")
    assert repr(value) in str(caught.value)


def test_a_threshold_for_a_category_the_policy_lacks_is_an_input_error_not_ignored():
    with pytest.raises(UserError) as caught:
        overrides_from_env({"INTEGRATON_TEST_THRESHOLD": "5"}, POLICY)
    assert str(caught.value).startswith(
        "$INTEGRATON_TEST_THRESHOLD: names no category of the policy (got 'INTEGRATON'); "
        "hint: use one of: ")


def test_a_timed_out_test_is_a_failure_even_when_its_time_is_the_limit():
    result = audit([rec(time=1.0, outcome="failed", timed_out=True)], POLICY)
    failure = only(result.failures)
    assert failure.kind == "timed out"
    assert failure.ratio == math.inf


def test_a_crashed_worker_recording_zero_seconds_is_a_failure_without_a_time():
    result = audit([rec(time=0.0, outcome="error", crashed=True)], POLICY)
    failure = only(result.failures)
    assert (failure.kind, failure.time, failure.limit) == ("crashed", None, 1.0)


def test_failures_are_listed_worst_first_by_ratio_to_their_limit():
    records = [rec("a", time=2.0), rec("b", "tests.integration.t", time=15.0),
               rec("c", time=1.5), rec("d", time=0.0, crashed=True)]
    assert [v.record.name for v in audit(records, POLICY).failures] == ["d", "b", "a", "c"]


@pytest.mark.parametrize("raw", ["1,234.5", "0,160", "", "NaN", "-1", "80.803us", None])
def test_an_unreadable_time_is_reported_and_never_read_as_zero(raw):
    result = audit([rec(time=None, raw=raw)], POLICY)
    unreadable = only(result.unreadable)
    assert (unreadable.raw_time, unreadable.raw_source, unreadable.time) == (raw, "r.xml",
                                                                              None)
    assert result.failures == result.warnings == []
    assert result.categories["unit"].unreadable == 1
    assert result.categories["unit"].total == 0.0


def test_a_teardown_error_in_the_same_file_adds_its_time_to_the_test():
    records = [rec(time=0.7, outcome="failed"),
               rec(time=0.5, outcome="error", teardown=True)]
    result = audit(records, POLICY)
    assert only(result.failures).time == pytest.approx(1.2)
    assert result.tests == 1
    assert result.records == 2


def test_a_test_in_several_result_files_counts_once_with_its_longest_time():
    records = [rec(time=0.3, source="shard-1.xml"), rec(time=1.4, source="shard-2.xml"),
               rec(time=0.2, source="shard-3.xml", outcome="error", teardown=True)]
    result = audit(records, POLICY)
    assert only(result.failures).time == 1.4
    assert result.categories["unit"].tests == 1


def test_a_rerun_in_the_same_file_counts_once_with_its_longest_time():
    result = audit([rec(time=0.5, outcome="failed"), rec(time=0.6)], POLICY)
    assert result.tests == 1
    assert result.warnings == []
    assert result.failures == []
    assert result.slowest[0].time == 0.6


def test_a_crash_and_a_readable_record_of_one_test_keep_the_crash_and_the_time():
    records = [rec(time=0.0, crashed=True, source="a.xml"), rec(time=0.4, source="b.xml")]
    failure = only(audit(records, POLICY).failures)
    assert (failure.kind, failure.time) == ("crashed", 0.4)


def test_tests_of_the_same_name_in_different_modules_are_different_tests():
    records = [rec(classname="tests.unit.test_a", time=2.0),
               rec(classname="tests.unit.test_b", time=3.0)]
    assert len(audit(records, POLICY).failures) == 2


def test_category_stats_count_tests_time_over_and_near():
    records = [rec("a", time=0.1), rec("b", time=0.9), rec("c", time=1.2),
               rec("d", "tests.integration.t", time=1.0)]
    stats = audit(records, POLICY).categories
    unit = stats["unit"]
    assert (unit.tests, unit.over, unit.near) == (3, 1, 1)
    assert unit.total == pytest.approx(2.2)
    assert unit.slowest is not None
    assert unit.slowest.record.name == "c"
    assert stats["integration"].tests == 1
    assert stats["slow"].tests == 0


def test_the_slowest_tests_are_the_longest_whatever_their_order():
    records = [rec(f"t{i}", time=(i * 7919 % 1000) / 10000) for i in range(1000)]
    slowest = audit(records, POLICY, top=5).slowest
    assert [v.time for v in slowest] == [0.0999, 0.0998, 0.0997, 0.0996, 0.0995]


def test_a_test_whose_repeats_add_up_enters_the_slowest():
    records = [rec(f"t{i}", time=0.5) for i in range(3)]
    records += [rec("late", time=0.3), rec("late", time=0.4, outcome="error", teardown=True)]
    slowest = audit(records, POLICY, top=1).slowest
    assert [(v.record.name, v.time) for v in slowest] == [("late", 0.7)]


def test_durations_are_collected_by_pytest_node_id():
    records = [
        rec("test_y[a-b]", "tests.unit.test_x.TestC", time=0.25),
        rec("test_z", "tests.unit.test_x", time=0.5, file="tests/unit/test_x.py"),
        rec("crashed", "tests.unit.test_x", time=0.0, crashed=True),
        rec("adds", "src/a.test.ts", time=0.1, pytest_suite=False),
    ]
    durations = audit(records, POLICY, durations=True).durations
    assert durations == {"tests/unit/test_x.py::TestC::test_y[a-b]": 0.25,
                         "tests/unit/test_x.py::test_z": 0.5}


def test_a_node_id_uses_the_module_file_found_on_disk():
    record = rec("test_y", "tests.unit.test_x.helpers_cls")
    assert node_id(record) == "tests/unit/test_x/helpers_cls.py::test_y"
    found = node_id(record, is_file=lambda path: path == "tests/unit/test_x.py")
    assert found == "tests/unit/test_x.py::helpers_cls::test_y"


def test_an_empty_run_audits_clean():
    result = audit([], POLICY)
    assert (result.tests, result.failures, result.slowest) == (0, [], [])


def test_incomplete_plugin_properties_fall_back_to_each_tests_own_path():
    partial = (("test_policy.reason", "default"),)
    records = [rec("a", "tests.integration.test_i", time=4.5, props=partial),
               rec("b", "tests.unit.test_u", time=4.5, props=partial)]
    result = audit(records, POLICY)
    assert [(v.record.name, v.category) for v in result.warnings] == [("a", "integration")]
    assert [(v.record.name, v.category) for v in result.failures] == [("b", "unit")]


def test_thousands_of_tests_and_their_repeats_are_each_judged_once():
    # Past the row table's first 4,096 slots: it grows, and repeats still find their rows.
    records = [rec(f"t{i}", time=0.01) for i in range(5000)]
    records += [rec(f"t{i}", time=0.85, outcome="error", teardown=True)
                for i in range(0, 5000, 1000)]
    result = audit(records, POLICY)
    assert (result.tests, result.records) == (5000, 5005)
    assert sorted(v.record.name for v in result.warnings) == ["t0", "t1000", "t2000",
                                                              "t3000", "t4000"]
    assert [v.time for v in result.warnings] == [pytest.approx(0.86)] * 5
    assert result.categories["unit"].total == pytest.approx(5000 * 0.01 + 5 * 0.85)


SHARD = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="5">
<testcase classname="tests.unit.test_a" name="test_fast" time="0.010"/>
<testcase classname="tests.unit.test_a" name="test_slow" time="{slow}">
  <properties><property name="test_policy.category" value="unit"/>
  <property name="test_policy.limit" value="1"/>
  <property name="test_policy.reason" value="path tests/unit/**"/></properties>
</testcase>
<testcase classname="tests.unit.test_a" name="test_slow" time="0.300">
  <error message="failed on teardown with &quot;AssertionError&quot;">trace</error>
</testcase>
<testcase classname="tests.integration.test_b" name="test_hang" time="5.012">
  <failure message="Failed: Timeout (&gt;5.0s) from pytest-timeout.">trace</failure>
</testcase>
<testcase classname="tests.integration.test_b" name="test_odd" time="1,234.5"/>
</testsuite></testsuites>
"""


def test_reading_files_directly_gives_the_verdicts_of_reading_their_records(tmp_path):
    files: list[tuple[Path, str]] = []
    for index, slow in enumerate(["0.700", "0.400"]):
        path = tmp_path / f"shard-{index}.xml"
        path.write_text(SHARD.format(slow=slow), encoding="utf-8")
        files.append((path, path.name))
    broken = tmp_path / "broken.xml"
    broken.write_text('<testsuite name="pytest">\n<testcase name="t" time="0.1"/>\n<testcase',
                      encoding="utf-8")
    direct, problems = audit_files([*files, (broken, "broken.xml")], POLICY, top=3)
    records = [record for path, shown in files for record in read_junit(path, shown)]
    records += [CaseRecord("broken.xml", ("pytest",), "", "t", None, None, 0.1, None,
                           "passed", False, False, False, 0, True, ())]
    assert as_json(direct) == as_json(audit(records, POLICY, top=3))
    assert [problem.render() for problem in problems] == [
        "broken.xml:3:1: malformed XML: unclosed token"]
    assert [(v.record.name, v.kind) for v in direct.failures] == [("test_hang", "timed out"),
                                                                  ("test_slow", "over")]
    assert direct.warnings == []
