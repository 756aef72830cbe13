"""The streaming JUnit reader: runner dialects, unreadable times, hostile files."""

from __future__ import annotations

import pytest
from test_policy_engine.audit.junit import parse_time, read_junit, strip_group
from test_policy_engine.cli.main import main
from test_policy_engine.policy.errors import UserError

VITEST = """<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="2" failures="1" errors="0" time="1.2345">
    <testsuite name="src/math.test.ts" timestamp="2026-01-01T00:00:00" hostname="ci"
               tests="2" failures="1" errors="0" skipped="0" time="1.2">
        <testcase classname="src/math.test.ts" name="math &gt; adds" time="0.0012345678">
        </testcase>
        <testcase classname="src/math.test.ts" name="math &gt; waits" time="1.2000000001">
            <failure message="expected 1 to be 2" type="AssertionError">
AssertionError: expected 1 to be 2
            </failure>
        </testcase>
    </testsuite>
</testsuites>
"""

JEST = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="2" failures="0" errors="0" time="0.61">
  <testsuite name="Cart" errors="0" failures="0" skipped="1" timestamp="2026-01-01T00:00:00"
             time="0.6" tests="2">
    <testcase classname="Cart adds an item" name="Cart adds an item" time="0.5">
    </testcase>
    <testcase classname="Cart removes an item" name="Cart removes an item" time="0.002">
      <skipped/>
    </testcase>
  </testsuite>
</testsuites>
"""

SUREFIRE = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="3.0"
    name="com.example.CartTest" time="2.1" tests="3" errors="0" skipped="0" failures="1">
  <properties>
    <property name="java.version" value="21"/>
  </properties>
  <testcase name="addsItem" classname="com.example.CartTest" time="0.011"/>
  <testcase name="flakyCheckout" classname="com.example.CartTest" time="1.5">
    <flakyFailure message="boom" type="java.lang.AssertionError">
      <stackTrace>java.lang.AssertionError: boom</stackTrace>
    </flakyFailure>
    <flakyFailure message="boom again" type="java.lang.AssertionError"/>
  </testcase>
  <testcase name="pays" classname="com.example.CartTest" time="0.6">
    <failure message="expected 3" type="org.opentest4j.AssertionFailedError">trace</failure>
    <rerunFailure message="expected 3" type="org.opentest4j.AssertionFailedError"/>
  </testcase>
</testsuite>
"""

GOTESTSUM = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1" errors="0" time="1.300000">
\t<testsuite tests="3" failures="1" time="1.300000" name="github.com/acme/shop/cart"
\t           timestamp="2026-01-01T00:00:00Z">
\t\t<properties>
\t\t\t<property name="go.version" value="go1.23.0 linux/amd64"></property>
\t\t</properties>
\t\t<testcase classname="github.com/acme/shop/cart" name="TestAdd" time="0.000000"></testcase>
\t\t<testcase classname="github.com/acme/shop/cart" name="TestAdd/empty_cart"
\t\t          time="0.000000"></testcase>
\t\t<testcase classname="github.com/acme/shop/cart" name="TestPay" time="1.300000">
\t\t\t<failure message="Failed" type="">=== RUN   TestPay</failure>
\t\t</testcase>
\t</testsuite>
</testsuites>
"""

NESTED = """<testsuites><testsuite name="outer" file="spec/outer.spec.js">
  <testsuite name="inner"><testcase classname="c" name="deep" time="0.1"/></testsuite>
  <testcase classname="c" name="shallow" time="0.2"/>
</testsuite><testsuite name="second"><testcase classname="c" name="last" time="0.3"/>
</testsuite></testsuites>"""


def read(tmp_path, text, name="results.xml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list(read_junit(path, name))


def test_vitest_keeps_the_file_as_classname_and_all_decimals(tmp_path):
    adds, waits = read(tmp_path, VITEST)
    assert (adds.classname, adds.name, adds.time) == ("src/math.test.ts", "math > adds",
                                                      0.0012345678)
    assert (waits.outcome, waits.time, waits.file) == ("failed", 1.2000000001, None)
    assert adds.suite == ("src/math.test.ts",)
    assert not adds.from_pytest


def test_jest_junit_tests_have_a_describe_classname_and_no_file(tmp_path):
    adds, removes = read(tmp_path, JEST)
    assert (adds.classname, adds.name, adds.file, adds.time) == (
        "Cart adds an item", "Cart adds an item", None, 0.5)
    assert removes.outcome == "skipped"


def test_surefire_flaky_reruns_stay_one_passing_test(tmp_path):
    adds, flaky, pays = read(tmp_path, SUREFIRE)
    assert (adds.name, adds.time, adds.outcome) == ("addsItem", 0.011, "passed")
    assert (flaky.outcome, flaky.reruns, flaky.time) == ("passed", 2, 1.5)
    assert (pays.outcome, pays.reruns) == ("failed", 1)
    assert flaky.properties == ()  # suite properties are not the test's


def test_gotestsum_subtests_are_tests_of_their_package(tmp_path):
    records = read(tmp_path, GOTESTSUM)
    assert [r.name for r in records] == ["TestAdd", "TestAdd/empty_cart", "TestPay"]
    assert {r.classname for r in records} == {"github.com/acme/shop/cart"}
    assert records[2].outcome == "failed"


def test_nested_suites_give_each_test_its_suite_path_and_inherited_file(tmp_path):
    deep, shallow, last = read(tmp_path, NESTED)
    assert deep.suite == ("outer", "inner")
    assert shallow.suite == ("outer",)
    assert last.suite == ("second",)
    assert deep.file == shallow.file == "spec/outer.spec.js"
    assert last.file is None


def test_a_testsuite_root_is_read_like_a_testsuites_root(tmp_path):
    (record,) = read(tmp_path, '<testsuite name="x"><testcase classname="a" name="b" '
                               'time="1.5"/></testsuite>')
    assert (record.classname, record.name, record.time) == ("a", "b", 1.5)


def test_pytest_xunit1_lines_are_made_one_based(tmp_path):
    (record,) = read(tmp_path, '<testsuites><testsuite name="pytest"><testcase '
                               'classname="tests.test_a" name="t" file="tests/test_a.py" '
                               'line="4" time="0.010"/></testsuite></testsuites>')
    assert (record.file, record.line, record.from_pytest) == ("tests/test_a.py", 5, True)


def test_the_plugin_properties_are_read_and_other_properties_ignored(tmp_path):
    (record,) = read(tmp_path, """<testsuite name="pytest"><testcase classname="a" name="b"
        time="0.1"><properties><property name="other" value="x"/>
        <property name="test_policy.category" value="slow"/>
        <property name="test_policy.limit" value="30"/>
        <property name="test_policy.reason" value="marker slow"/>
        </properties></testcase></testsuite>""")
    assert record.properties == (("test_policy.category", "slow"),
                                 ("test_policy.limit", "30"),
                                 ("test_policy.reason", "marker slow"))
    assert record.prop("test_policy.limit") == "30"


def test_timeouts_crashes_and_teardown_errors_are_recognised(tmp_path):
    timed_out, crashed, teardown = read(tmp_path, """<testsuite name="pytest">
      <testcase classname="a" name="t1" time="5.000"><failure
        message="Failed: Timeout (&gt;5.0s) from pytest-timeout.">...</failure></testcase>
      <testcase classname="a" name="t2" time="0.000"><error message="failed on setup with
        &quot;worker 'gw1' crashed while running 'a.py::t2'&quot;">...</error></testcase>
      <testcase classname="a" name="t3" time="0.2"><error
        message="failed on teardown with &quot;RuntimeError: x&quot;">...</error></testcase>
    </testsuite>""")
    assert (timed_out.timed_out, timed_out.crashed, timed_out.outcome) == (True, False,
                                                                           "failed")
    assert (crashed.crashed, crashed.outcome) == (True, "error")
    assert (teardown.teardown_error, teardown.timed_out) == (True, False)


@pytest.mark.parametrize(("name", "expected"), [
    ("test_x@db", "test_x"),
    ("test_x[1-2]@serial_group", "test_x[1-2]"),
    ("test_email[a@b.com]", "test_email[a@b.com]"),
    ("test_plain", "test_plain"),
])
def test_the_xdist_group_suffix_is_stripped_from_names(name, expected):
    assert strip_group(name) == expected


@pytest.mark.parametrize("raw", ["1,234.5", "0,160", "", "NaN", "nan", "inf", "-1",
                                 "80.803us", "0:00:00.69", "1_000", "160000000"])
def test_an_unreadable_time_keeps_its_raw_text(tmp_path, raw):
    (record,) = read(tmp_path, f'<testsuite><testcase classname="a" name="b" '
                               f'time="{raw}"/></testsuite>')
    assert (record.time, record.raw_time) == (None, raw)
    assert parse_time(raw) is None


def test_a_missing_time_is_unreadable_with_no_raw_text(tmp_path):
    (record,) = read(tmp_path, '<testsuite><testcase classname="a" name="b"/></testsuite>')
    assert (record.time, record.raw_time) == (None, None)


@pytest.mark.parametrize(("raw", "seconds"), [("0", 0.0), ("0.000", 0.0), ("1.5", 1.5),
                                              ("12", 12.0), ("1e-3", 0.001)])
def test_plain_decimal_times_are_read(raw, seconds):
    assert parse_time(raw) == seconds


# -- hostile files: exit 2 with one line and no traceback, or audit fine ----------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuite><testcase classname="a" name="&lol3;" time="1"/></testsuite>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite><testcase classname="a" name="&xxe;" time="1"/></testsuite>
"""


def run_audit(capsys, monkeypatch, tmp_path, content: bytes, root):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    path = tmp_path / "hostile.xml"
    path.write_bytes(content)
    code = main(["audit", "--policy", str(root / "policy.yaml"), str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize(("content", "message"), [
    (BILLION_LAUGHS.encode(), ":2:16: a DOCTYPE is refused"),
    (EXTERNAL_ENTITY.encode(), ":2:15: a DOCTYPE is refused"),
    (b'<testsuite><testcase classname="a" name="b" time="1"/>', ": malformed XML: "),
    (b"", ":1:1: malformed XML: no element found; hint: the file is empty"),
    (b"this is not XML at all\n", ":1:1: malformed XML: syntax error"),
    (b'<testsuite><testcase name="&foo;"/></testsuite>', ": malformed XML: undefined entity"),
    (b"<html><body>404</body></html>", ":1:1: not a JUnit file: the root element is <html>"),
    (b'<testsuite><testcase name="' + b"x" * (10 << 20) + b'"/></testsuite>',
     ": an XML tag longer than 1 MiB"),
    (b"\xff\xfe<\x00t\x00", ": malformed XML"),
])
def test_a_hostile_or_broken_file_exits_2_with_one_located_line(
        capsys, monkeypatch, tmp_path, root, content, message):
    code, out, err = run_audit(capsys, monkeypatch, tmp_path, content, root)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(str(tmp_path / "hostile.xml") + ":")
    assert message in err


def test_a_truncated_file_names_the_line_where_it_stops(capsys, monkeypatch, tmp_path, root):
    content = b'<testsuites>\n<testsuite name="pytest">\n<testcase name="a" time="0.1"'
    code, _, err = run_audit(capsys, monkeypatch, tmp_path, content, root)
    assert code == 2
    assert f"{tmp_path / 'hostile.xml'}:3:" in err


def test_ten_thousand_nested_suites_audit_fine(capsys, monkeypatch, tmp_path, root):
    depth = 10_000
    content = ('<testsuites>' + '<testsuite name="s">' * depth
               + '<testcase classname="tests.unit.test_deep" name="test_deep" time="1.5"/>'
               + '</testsuite>' * depth + '</testsuites>').encode()
    code, out, err = run_audit(capsys, monkeypatch, tmp_path, content, root)
    assert (code, err) == (1, "")
    assert "test_deep: 1.5s (limit: 1.0s) [unit]" in out


def test_a_large_attribute_elsewhere_under_the_cap_is_read(tmp_path):
    (record,) = read(tmp_path, '<testsuite hostname="' + "h" * 500_000 + '"><testcase '
                               'classname="a" name="b" time="0.5"/></testsuite>')
    assert record.time == 0.5


def test_a_file_that_cannot_be_read_is_an_input_error(tmp_path):
    with pytest.raises(UserError, match="cannot read"):
        list(read_junit(tmp_path, "results"))


LOADED = """<testsuite name="pytest"><testcase classname="tests.unit.test_a" name="test_cpu"
    time="{time}"><properties>
    <property name="test_policy.category" value="unit"/>
    <property name="test_policy.limit" value="1"/>
    <property name="test_policy.reason" value="path tests/unit/**"/>
    <property name="test_policy.wall" value="{time}"/>
    <property name="test_policy.cpu" value="0.311"/>
    <property name="test_policy.wait" value="2.810"/>
    <property name="test_policy.estimate" value="{estimate}"/>
    </properties>{failure}</testcase></testsuite>"""


def test_the_plugins_estimate_is_the_time_judged_and_the_figures_leave_the_properties(
        tmp_path):
    (record,) = read(tmp_path, LOADED.format(time="3.003", estimate="0.311", failure=""))
    assert record.time == pytest.approx(0.311)
    assert record.properties == (("test_policy.category", "unit"),
                                 ("test_policy.limit", "1"),
                                 ("test_policy.reason", "path tests/unit/**"))


def test_the_estimate_counts_with_a_property_after_the_figures(tmp_path):
    # The run's first test also carries how many tests the run collected, after them.
    text = LOADED.format(time="3.003", estimate="0.311", failure="").replace(
        "</properties>", '<property name="test_policy.collected" value="12"/></properties>')
    (record,) = read(tmp_path, text)
    assert record.time == pytest.approx(0.311)


@pytest.mark.parametrize("estimate", ["9.5", "nan?", "-1"])
def test_an_estimate_above_the_time_or_unreadable_leaves_the_time(tmp_path, estimate):
    (record,) = read(tmp_path, LOADED.format(time="3.003", estimate=estimate, failure=""))
    assert record.time == pytest.approx(3.003)


def test_the_audit_passes_a_cpu_bound_test_slowed_by_load_and_fails_one_over_when_idle(
        capsys, monkeypatch, tmp_path, root):
    loaded = LOADED.format(time="3.003", estimate="0.311", failure="").encode()
    code, out, _ = run_audit(capsys, monkeypatch, tmp_path, loaded, root)
    assert code == 0, out
    over = LOADED.format(time="2.410", estimate="2.410", failure=(
        '<failure message="over its unit limit: took 2.41 s, limit 1 s"/>')).encode()
    code, out, _ = run_audit(capsys, monkeypatch, tmp_path, over, root)
    assert code == 1
    assert "test_cpu: 2.4s (limit: 1.0s) [unit]" in out
