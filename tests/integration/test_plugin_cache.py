"""The validated copy of the policy the plugin keeps in pytest's cache: a run whose
policy file is unchanged uses it, any other run validates the file in full."""

import pytest
from test_policy_engine.plugin.history import load_durations
from test_policy_engine.plugin.hooks import ACTIVE

from tests.integration.policy_project import kill_args, resolutions, write_policy

TESTS = {
    "tests/integration/test_db": """
        import pytest

        pytestmark = pytest.mark.integration

        @pytest.mark.slow
        def test_migrations(): pass

        class TestQueries:
            @pytest.mark.timeout(7)
            def test_explicit(self): pass

            @pytest.mark.timeout(method="thread")
            def test_method_only(self): pass

            @pytest.mark.parametrize("n", [1, pytest.param(2, marks=pytest.mark.slow)])
            def test_param(self, n): pass
    """,
    "tests/unit/test_disintegration": "def test_it(): pass",
    "tests/db/test_groups": "def test_grouped(): pass",
}
GROUPS = "  enabled: false\n  groups:\n    db: [\"tests/db/**\"]"


def collect(pytester: pytest.Pytester, *args: str) -> tuple[list[pytest.Item], bool]:
    """The collected items and whether the policy came from pytest's cache."""
    items, _ = pytester.inline_genitems(*args)
    return items, items[0].config.stash[ACTIVE].from_cache


def seen(items: list[pytest.Item]) -> dict[str, object]:
    """Everything the plugin gives each test."""
    return {item.nodeid: (resolutions([item])[item.nodeid], kill_args(item),
                          [m.args for m in item.iter_markers("xdist_group")])
            for item in items}


def test_a_second_run_uses_the_cached_policy_and_gives_every_test_the_same(pytester):
    write_policy(pytester, parallel=GROUPS)
    pytester.makepyfile(**TESTS)
    first, cached = collect(pytester)
    assert not cached
    second, cached = collect(pytester)
    assert cached
    assert seen(second) == seen(first)
    assert seen(first)["tests/integration/test_db.py::TestQueries::test_param[2]"] == (
        ("slow", "30", "marker slow"), (300.0, "signal"), [])
    assert seen(first)["tests/db/test_groups.py::test_grouped"][2] == [("db",)]


def test_a_changed_policy_is_validated_again(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_a": "def test_it(): pass"})
    collect(pytester)
    write_policy(pytester, unit_limit=2)
    (item,), cached = collect(pytester)
    assert not cached
    assert resolutions([item])[item.nodeid] == ("unit", "2", "path tests/unit/**")
    assert collect(pytester)[1]


def test_a_policy_broken_after_a_cached_run_is_still_a_usage_error(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_a": "def test_it(): pass"})
    assert pytester.runpytest().ret == pytest.ExitCode.OK
    policy = pytester.path / "policy.yaml"
    policy.write_text(policy.read_text().replace("limit: 1\n", "limit: -1\n"))
    for _ in range(2):  # a broken policy is never stored
        result = pytester.runpytest()
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*test policy (rootdir):",
                                     "policy.yaml:*: categories.unit.limit: *(got -1)*"])


@pytest.mark.parametrize("args", [("--cache-clear",), ("-p", "no:cacheprovider")])
def test_cache_clear_or_no_cache_validates_the_policy(pytester, args):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_a": "def test_it(): pass"})
    collect(pytester)
    assert not collect(pytester, *args)[1]


def test_without_pytests_cache_no_copy_is_stored(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_a": "def test_it(): pass"})
    collect(pytester, "-p", "no:cacheprovider")
    assert not collect(pytester)[1]
    assert collect(pytester)[1]


def test_a_run_with_the_cached_policy_imports_neither_yaml_nor_pydantic(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_a": "def test_it(): pass"})
    pytester.makeconftest("""
        import sys

        def pytest_sessionfinish():
            modules = ("pydantic", "yaml", "test_policy_engine.policy.model")
            print("LOADED", sorted(m for m in modules if m in sys.modules))
    """)
    first = pytester.runpytest_subprocess("-s")
    second = pytester.runpytest_subprocess("-s")
    first.assert_outcomes(passed=1)
    second.assert_outcomes(passed=1)
    assert "LOADED ['pydantic', 'test_policy_engine.policy.model', 'yaml']" in first.stdout.str()
    assert "LOADED []" in second.stdout.str()


def test_a_cache_that_cannot_be_written_is_no_error_under_filterwarnings_error(pytester):
    # As root a read-only directory is still writable; a cache_dir below a file is not.
    # pytest's own last-failed cache then warns at the session's end (its business);
    # the plugin's copy, stored before the first test, must not stop the run.
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_a": "def test_it(): pass"})
    (pytester.path / "not-a-dir").write_text("")
    result = pytester.runpytest_subprocess("-o", "cache_dir=not-a-dir/cache", "-W", "error")
    result.stdout.fnmatch_lines(["tests/unit/test_a.py .*"])
    assert "test_policy/policy" not in result.stdout.str() + result.stderr.str()


def test_a_run_records_each_tests_duration_for_the_schedule_of_the_next_runs(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_d": """
        import time

        def test_waits():
            time.sleep(0.05)

        def test_quick():
            pass
    """})
    pytester.inline_run("-p", "no:randomly").assertoutcome(passed=2)
    config = pytester.parseconfigure()
    found = load_durations(pytester.path, config.cache)
    waits, quick = "tests/unit/test_d.py::test_waits", "tests/unit/test_d.py::test_quick"
    assert set(found) == {waits, quick}
    assert found[waits] >= 0.05 > found[quick]
    # A later run of a part of the suite keeps what the others took.
    pytester.inline_run("-p", "no:randomly", "-k", "quick").assertoutcome(passed=1)
    assert set(load_durations(pytester.path, pytester.parseconfigure().cache)) == {waits, quick}
