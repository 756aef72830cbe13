"""Reporters: the seed's text format, markdown, json and GitHub workflow commands."""

from __future__ import annotations

import json

import pytest
from test_policy_engine.audit.junit import CaseRecord
from test_policy_engine.audit.report import as_json, github, markdown, text, time_and_limit
from test_policy_engine.audit.verdicts import audit
from test_policy_engine.policy.loader import parse_policy

POLICY = parse_policy(b"""
version: 1
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 5, paths: ["tests/integration/**"]}
""", "policy.yaml")

SEED = """\
=== TEST PERFORMANCE AUDIT ===

FAILURES (exceeded threshold):
  test_batch_aggregator_full_cycle: 2.3s (limit: 1.0s) [unit]
  test_websocket_reconnection: 6.1s (limit: 5.0s) [integration]

WARNINGS (>80% of threshold):
  test_detector_client_retry: 0.9s (limit: 1.0s) [unit]

Summary: 2 failures, 1 warning
"""


def rec(name, classname="tests.unit.test_mod", time=0.1, *, file=None, line=None,
        raw=None, crashed=False, timed_out=False, source="results.xml") -> CaseRecord:
    return CaseRecord(source, ("pytest",), classname, name, file, line, time, raw, "passed",
                      timed_out, crashed, False, 0, True, ())


def seed_records():
    return [rec("test_websocket_reconnection", "tests.integration.test_ws", 6.1),
            rec("test_detector_client_retry", time=0.9),
            rec("test_batch_aggregator_full_cycle", time=2.3),
            rec("test_fast", time=0.01)]


def test_the_text_report_is_the_seeds_format_exactly():
    assert text(audit(seed_records(), POLICY)) == SEED


def test_one_failure_and_no_warnings_are_counted_in_words():
    report = text(audit([rec("test_a", time=1.5)], POLICY))
    assert report.endswith("Summary: 1 failure, 0 warnings\n")
    assert "WARNINGS" not in report


def test_a_clean_run_says_so_in_one_line_before_the_summary():
    report = text(audit([rec("a"), rec("b")], POLICY))
    assert report == ("=== TEST PERFORMANCE AUDIT ===\n\n"
                      "All 2 tests within 80% of their thresholds.\n\n"
                      "Summary: 0 failures, 0 warnings\n")


def test_the_warning_percentage_comes_from_the_policy():
    policy = parse_policy(b"version: 1\nwarn_ratio: 0.75\ncategories:\n"
                          b"  unit: {limit: 2, default: true}\n", "policy.yaml")
    report = text(audit([rec("a", time=1.6)], policy))
    assert "WARNINGS (>75% of threshold):\n  a: 1.6s (limit: 2.0s) [unit]\n" in report


@pytest.mark.parametrize(("time", "limit", "shown"), [
    (2.3, 1.0, ("2.3s", "1.0s")),
    (0.96, 1.0, ("0.96s", "1.00s")),
    (1.04, 1.0, ("1.04s", "1.00s")),
    (0.9999, 1.0, ("0.9999s", "1.0000s")),
    (1.0000001, 1.0, ("1.0000001s", "1.0000000s")),
    (0.3, 0.25, ("0.30s", "0.25s")),
    (1.0, 1.0, ("1.0s", "1.0s")),
])
def test_a_time_never_prints_as_its_limit_unless_it_equals_it(time, limit, shown):
    assert time_and_limit(time, limit) == shown


def test_tests_of_the_same_name_in_different_files_are_told_apart():
    records = [rec("test_retry", "tests.unit.test_a", 1.5),
               rec("test_retry", "tests.unit.test_b.TestClient", 1.2,
                   file="tests/unit/test_b.py"),
               rec("test_other", time=1.1)]
    report = text(audit(records, POLICY))
    assert "  tests/unit/test_a.py::test_retry: 1.5s (limit: 1.0s) [unit]\n" in report
    assert "  tests/unit/test_b.py::TestClient::test_retry: 1.2s" in report
    assert "  test_other: 1.1s" in report


def test_timed_out_and_crashed_tests_are_listed_first_as_such():
    records = [rec("test_slow", time=3.0), rec("test_killed", time=1.0, timed_out=True),
               rec("test_lost", time=0.0, crashed=True)]
    lines = text(audit(records, POLICY)).splitlines()
    assert lines[3:6] == [
        "  test_killed: timed out after 1.0s (limit: 1.0s) [unit]",
        "  test_lost: crashed (its worker died; no time) (limit: 1.0s) [unit]",
        "  test_slow: 3.0s (limit: 1.0s) [unit]",
    ]


def test_unreadable_times_are_listed_with_their_file_and_text():
    records = [rec("test_comma", time=None, raw="0,160", source="out/vitest.xml"),
               rec("test_missing", time=None, source="out/jest.xml")]
    report = text(audit(records, POLICY))
    assert ("UNREADABLE TIMES (not audited):\n"
            '  test_comma: unreadable time "0,160" in out/vitest.xml [unit]\n'
            "  test_missing: no time attribute in out/jest.xml [unit]\n") in report
    assert report.endswith("Summary: 0 failures, 0 warnings, 2 unreadable times\n")


def test_top_lists_the_slowest_tests_after_the_summary():
    records = [rec(f"t{i}", time=i / 100) for i in range(20)]
    report = text(audit(records, POLICY, top=10), top=3)
    assert report.endswith("Summary: 0 failures, 0 warnings\n\nSLOWEST 3 TESTS:\n"
                           "  t19: 0.190s (limit: 1.0s) [unit]\n"
                           "  t18: 0.180s (limit: 1.0s) [unit]\n"
                           "  t17: 0.170s (limit: 1.0s) [unit]\n")


def test_github_annotations_point_at_the_test_with_escaped_values():
    records = [rec("test_a[50%,\nb]", "tests.unit.test_a", 2.0, file="tests/unit/a:b,c.py",
                   line=7)]
    (annotation,) = github(audit(records, POLICY)).splitlines()
    assert annotation == ("::error file=tests/unit/a%3Ab%2Cc.py,line=7,"
                          "title=Test over its time limit::"
                          "test_a[50%25,%0Ab]: 2.0s (limit: 1.0s) [unit]")


def test_github_annotations_find_the_file_of_a_vitest_test_or_on_disk():
    records = [rec("adds", "src/math.test.ts", 1.2), rec("b", "tests.unit.test_b", 1.5)]
    annotations = github(audit(records, POLICY),
                         is_file=lambda path: path == "tests/unit/test_b.py").splitlines()
    assert annotations[0].startswith("::error file=tests/unit/test_b.py,title=")
    assert annotations[1].startswith("::error file=src/math.test.ts,title=")


def test_github_shows_at_most_ten_annotations_per_type_worst_first():
    records = [rec(f"test_{i:02d}", time=1.1 + i / 10) for i in range(25)]
    records += [rec(f"warn_{i}", time=0.85) for i in range(3)]
    lines = github(audit(records, POLICY)).splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 10
    assert "test_24: 3.5s" in errors[0]
    assert errors[-1] == ("::error title=Tests over their time limit::"
                          "16 more tests not annotated: see the job log or summary")
    assert len([line for line in lines if line.startswith("::warning")]) == 3


def test_markdown_has_a_category_table_and_the_slowest_tests():
    report = markdown(audit(seed_records(), POLICY), top=10)
    assert "| Category | Tests | Total time | Slowest | Over limit | Near limit |" in report
    assert "| unit | 3 | 3.210 s | `test_batch_aggregator_full_cycle` 2.300 s | 1 | 1 |" in report
    assert "### 4 slowest tests" in report
    assert "**2 failures, 1 warning** in 4 tests" in report


def test_markdown_stays_under_one_mebibyte_whatever_the_names():
    records = [rec(f"test_|{i}|" + "x" * 60_000, time=2.0) for i in range(100)]
    records += [rec(f"t{i}", f"tests.unit.m{i}", 1.5) for i in range(5000)]
    report = markdown(audit(records, POLICY), top=10)
    assert len(report.encode()) < 1 << 20
    assert "…and 5,050 more tests." in report
    assert "\\|" in report  # a '|' in a name does not break the table


def test_json_lists_every_verdict():
    data = json.loads(as_json(audit(seed_records(), POLICY)))
    assert data["summary"] == {"failures": 2, "warnings": 1, "unreadable": 0, "incomplete": 0,
                               "tests": 4,
                               "records": 4}
    assert [f["name"] for f in data["failures"]] == ["test_batch_aggregator_full_cycle",
                                                     "test_websocket_reconnection"]
    assert data["failures"][0]["limit"] == 1.0
    assert data["categories"]["integration"]["over_limit"] == 1


def test_the_audit_docs_show_what_the_audit_prints(root):
    section = (root / "docs" / "audit.md").read_text()
    shown = section[section.index("```\n=== TEST") + 4:section.index("```\n\n- Failures")]
    records = [
        rec("test_hangs", "tests.integration.test_ws", 5.0, timed_out=True),
        rec("test_lost", time=0.0, crashed=True),
        rec("test_batch_aggregator_full_cycle", time=2.3),
        rec("test_websocket_reconnection", "tests.integration.test_ws", 6.1),
        rec("test_detector_client_retry", time=0.96),
        rec("math > adds", "src/math.test.ts", None, raw="0,160",
            source="test-results/frontend.xml"),
    ]
    policy = parse_policy(b"""
version: 1
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 5, paths: ["tests/integration/**"]}
audit:
  junit_files: {"frontend*.xml": integration}
""", "policy.yaml")
    assert text(audit(records, policy), top=2) == shown
