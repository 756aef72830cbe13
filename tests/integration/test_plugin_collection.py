"""What the plugin gives each test at collection: in-process pytester runs that only
collect (no timer is armed here; runs where a timer fires are in test_plugin_runs.py)."""

import subprocess
import sys

import pytest
from test_policy_engine.cli.main import main

from tests.integration.policy_project import kill_args, resolutions, write_policy


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    write_policy(pytester)
    return pytester


def collect(pytester: pytest.Pytester, *args: str) -> dict[str, pytest.Item]:
    items, _ = pytester.inline_genitems(*args)
    return {item.nodeid: item for item in items}


def test_an_integration_test_marked_slow_gets_30_seconds(project):
    project.makepyfile(**{"tests/integration/test_db": """
        import pytest

        @pytest.mark.slow
        def test_migrations(): pass

        def test_query(): pass
    """})
    items = collect(project)
    slow = items["tests/integration/test_db.py::test_migrations"]
    plain = items["tests/integration/test_db.py::test_query"]
    assert resolutions([slow, plain]) == {
        slow.nodeid: ("slow", "30", "marker slow"),
        plain.nodeid: ("integration", "5", "path tests/integration/**"),
    }
    # pytest-timeout only stops hung tests, at kill_after (default 10) x the limit.
    assert kill_args(slow) == (300.0, "signal")
    assert kill_args(plain) == (50.0, "signal")


def test_with_kill_after_one_the_kill_point_is_the_limit_and_explicit_markers_stay(
        pytester):
    write_policy(pytester, kill_after=1)
    pytester.makepyfile(**{"tests/integration/test_db": """
        import pytest

        def test_query(): pass

        @pytest.mark.timeout(7)
        def test_explicit(): pass
    """})
    items, _ = pytester.inline_genitems()
    by_name = {item.name: item for item in items}
    assert kill_args(by_name["test_query"]) == (5.0, "signal")
    assert kill_args(by_name["test_explicit"]) == (7, None)


def test_among_several_category_markers_the_larger_limit_wins(project):
    project.makepyfile(**{"tests/unit/test_both": """
        import pytest

        @pytest.mark.slow
        @pytest.mark.integration
        def test_both(): pass
    """})
    (item,) = collect(project).values()
    assert resolutions([item])[item.nodeid] == ("slow", "30", "marker slow")


@pytest.mark.parametrize(
    "source",
    [
        "import pytest\n@pytest.mark.timeout(10)\ndef test_it(): pass\n",
        "import pytest\n@pytest.mark.timeout(10)\nclass TestIt:\n    def test_it(self): pass\n",
        "import pytest\npytestmark = pytest.mark.timeout(10)\ndef test_it(): pass\n",
        "import pytest\n@pytest.mark.parametrize('x', [pytest.param(1, marks="
        "pytest.mark.timeout(10))])\ndef test_it(x): pass\n",
    ],
    ids=["function", "class", "module", "param"],
)
def test_an_explicit_timeout_anywhere_on_the_chain_is_the_limit_and_kills_at_ten_times_it(
        project, source):
    project.makepyfile(**{"tests/unit/test_explicit": source})
    (item,) = collect(project).values()
    assert resolutions([item])[item.nodeid] == ("unit", "10", "explicit timeout")
    assert kill_args(item) == (100.0, "signal")  # the kill point, closest to the test


def test_an_explicit_timeout_also_beats_timeout_on_the_command_line(project):
    project.makepyfile(**{"tests/unit/test_x": """
        import pytest

        @pytest.mark.timeout(7)
        def test_it(): pass
    """})
    (item,) = collect(project, "--timeout=0").values()
    assert resolutions([item])[item.nodeid] == ("unit", "7", "explicit timeout")


@pytest.mark.parametrize("method", ["signal", "thread"])
def test_the_kill_point_does_not_make_k_select_every_test(pytester, method):
    write_policy(pytester, method=method)  # the thread method needs an injected marker
    pytester.makepyfile(**{"tests/unit/test_k": """
        def test_logout(): pass
        def test_login(): pass
    """})
    reprec = pytester.inline_run("--collect-only", "-k", "out")
    (finish,) = reprec.getcalls("pytest_collection_finish")
    assert [item.nodeid for item in finish.session.items] == ["tests/unit/test_k.py::test_logout"]
    assert kill_args(finish.session.items[0]) == (10.0, method)


def test_a_test_without_a_timeout_marker_gets_none_the_plugin_arms_its_kill_point(project):
    project.makepyfile(**{"tests/unit/test_x": "def test_it(): pass"})
    (item,) = collect(project).values()
    assert item.get_closest_marker("timeout") is None
    assert kill_args(item) == (10.0, "signal")


@pytest.mark.parametrize("where", ["ini", "environment"])
def test_with_a_timeout_of_pytest_timeouts_own_every_test_gets_its_kill_point_as_a_marker(
        project, monkeypatch, where):
    # Otherwise pytest-timeout would arm its own timeout for a test without a marker.
    if where == "ini":
        project.makeini("[pytest]\ntimeout = 120\n")
    else:
        monkeypatch.setenv("PYTEST_TIMEOUT", "120")
    project.makepyfile(**{"tests/unit/test_x": "def test_it(): pass"})
    (item,) = collect(project).values()
    mark = item.get_closest_marker("timeout")
    assert mark is not None
    assert (*mark.args, mark.kwargs.get("method")) == (10.0, "signal")


def test_timeout_zero_on_the_command_line_switches_the_policy_limits_off(project):
    project.makepyfile(**{"tests/integration/test_x": "def test_it(): pass"})
    (item,) = collect(project, "--timeout=0").values()
    assert resolutions([item])[item.nodeid] == ("integration", "0", "--timeout")
    assert kill_args(item) is None  # pytest-timeout uses --timeout and its debugger check


def test_pdb_switches_the_kill_off_with_a_zero_timeout_marker(project):
    project.makepyfile(**{"tests/integration/test_x": "def test_it(): pass"})
    (item,) = collect(project, "--pdb").values()
    assert kill_args(item) == (0, None)


def test_a_timeout_marker_with_only_a_method_keeps_the_method_and_gets_the_limit(project):
    project.makepyfile(**{"tests/integration/test_x": """
        import pytest

        @pytest.mark.timeout(method="thread")
        def test_it(): pass
    """})
    (item,) = collect(project).values()
    assert resolutions([item])[item.nodeid] == ("integration", "5", "path tests/integration/**")
    assert kill_args(item) == (50.0, "thread")


def test_a_disintegration_test_under_unit_stays_unit(project):
    project.makepyfile(**{"tests/unit/test_disintegration": "def test_it(): pass"})
    (item,) = collect(project).values()
    assert resolutions([item])[item.nodeid] == ("unit", "1", "path tests/unit/**")


def test_a_test_outside_every_path_with_marker_integration_is_integration(project):
    project.makepyfile(**{"checks/test_api": """
        import pytest

        @pytest.mark.integration
        def test_api(): pass

        def test_plain(): pass
    """})
    items = collect(project)
    assert resolutions(list(items.values())) == {
        "checks/test_api.py::test_api": ("integration", "5", "marker integration"),
        "checks/test_api.py::test_plain": ("unit", "1", "default"),
    }


def test_policy_groups_add_xdist_group_markers_unless_the_test_has_one(pytester):
    write_policy(pytester, parallel="  enabled: false\n  groups:\n    db: ['tests/db/**']")
    pytester.makepyfile(**{"tests/db/test_db": """
        import pytest

        def test_a(): pass

        @pytest.mark.xdist_group("mine")
        def test_b(): pass
    """, "tests/unit/test_u": "def test_c(): pass"})
    items = collect(pytester)
    groups = {nodeid: [m.args[0] for m in item.iter_markers("xdist_group")]
              for nodeid, item in items.items()}
    assert groups == {"tests/db/test_db.py::test_a": ["db"],
                      "tests/db/test_db.py::test_b": ["mine"],
                      "tests/unit/test_u.py::test_c": []}


def test_the_policy_is_found_through_the_option_and_the_ini_setting(pytester):
    pytester.mkdir("ci")
    write_policy(pytester, unit_limit=2, name="ci/limits.yaml")
    pytester.makepyfile(test_a="def test_it(): pass")
    (item,) = collect(pytester, "--policy=ci/limits.yaml").values()
    assert resolutions([item])[item.nodeid] == ("unit", "2", "default")
    pytester.makeini("[pytest]\ntest_policy = ci/limits.yaml\n")
    (item,) = collect(pytester).values()
    assert resolutions([item])[item.nodeid] == ("unit", "2", "default")


def test_category_markers_are_registered_for_strict_markers(project):
    project.makepyfile(**{"tests/test_m": """
        import pytest

        @pytest.mark.slow
        @pytest.mark.integration
        def test_it(): pass
    """})
    assert len(collect(project, "--strict-markers")) == 1
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines([
        "@pytest.mark.integration: tests of the integration category "
        "[[]test-policy: category integration, 5 s[]]",
        "@pytest.mark.slow: known to be slow [[]test-policy: category slow, 30 s[]]",
    ])


def test_a_broken_policy_is_a_usage_error_with_its_location(pytester):
    (pytester.path / "policy.yaml").write_text(
        "version: 1\ncategories:\n  unit:\n    limit: -1\n    default: true\n")
    pytester.makepyfile(test_a="def test_it(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test policy (rootdir):",
                                 "policy.yaml:4:12: categories.unit.limit: *(got -1)*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_missing_policy_given_by_option_is_a_usage_error(pytester):
    pytester.makepyfile(test_a="def test_it(): pass")
    result = pytester.runpytest("--policy=nope.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["nope.yaml: policy file not found*"])


INERT = pytest.mark.parametrize("policy_yaml", [None, "kind: NetworkPolicy\nspec: {}\n"],
                                ids=["no-policy", "unrelated-policy-yaml"])
OFF = ("-p", "no:test_policy")


def inert_project(pytester: pytest.Pytester, policy_yaml: str | None) -> None:
    if policy_yaml is not None:
        (pytester.path / "policy.yaml").write_text(policy_yaml)
    pytester.makepyfile(**{
        "tests/unit/test_a": "import pytest\n@pytest.mark.slow\ndef test_a(): pass\n",
        "tests/integration/test_b": "def test_b(): pass\ndef test_c(): assert 0\n",
    })
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")


@INERT
def test_without_a_policy_the_plugin_leaves_every_test_as_it_was(pytester, policy_yaml):
    inert_project(pytester, policy_yaml)

    def seen(*flags: str) -> list[object]:
        items, _ = pytester.inline_genitems(*flags)
        return [(i.nodeid, [m.name for m in i.iter_markers()], i.user_properties)
                for i in items]

    with_plugin = seen()
    assert with_plugin == seen(*OFF)
    assert with_plugin[0] == ("tests/integration/test_b.py::test_b", [], [])


@INERT
def test_without_a_policy_the_run_and_the_markers_are_as_without_the_plugin(pytester,
                                                                            policy_yaml):
    inert_project(pytester, policy_yaml)

    def shown(*flags: str) -> tuple[object, ...]:
        result = pytester.runpytest("-v", *flags)
        markers = pytester.runpytest("--markers", *flags)
        return (result.parseoutcomes(), [line for line in result.stdout.lines if "::" in line],
                markers.stdout.lines)

    with_plugin = shown()
    assert with_plugin == shown(*OFF)
    assert with_plugin[0] == {"passed": 2, "failed": 1}


def test_the_verbose_header_shows_policy_method_and_parallel_choice(project):
    project.makepyfile(test_a="def test_it(): pass")
    result = project.runpytest("-v", "--collect-only")
    result.stdout.fnmatch_lines([
        "test-policy: policy.yaml (from rootdir); timeouts: signal method; limits judged "
        "after each test, hung tests stopped at 10x the limit; "
        "parallel: serial: parallel.enabled is false in the policy"])
    quiet = project.runpytest("--collect-only")
    assert "test-policy:" not in quiet.stdout.str()


def test_explain_collects_the_target_and_gives_each_tests_reason(project, capsys):
    project.makepyfile(**{"tests/integration/test_e": """
        import pytest

        @pytest.mark.timeout(12)
        class TestA:
            def test_a(self): pass

        @pytest.mark.slow
        def test_b(): pass

        def test_c(): pass
    """})
    assert main(["explain", "tests/integration/test_e.py"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert lines[0][:4] == ["policy.yaml:", "timeout", "method", "signal"]
    assert lines[1:] == [
        ["tests/integration/test_e.py::TestA::test_a", "integration", "12", "s",
         "explicit", "timeout"],
        ["tests/integration/test_e.py::test_b", "slow", "30", "s", "marker", "slow"],
        ["tests/integration/test_e.py::test_c", "integration", "5", "s", "path",
         "tests/integration/**"],
    ]


def test_explain_works_in_a_project_that_turns_warnings_into_errors(project):
    project.makeini("[pytest]\nfilterwarnings =\n    error\n")
    project.makepyfile(**{"tests/unit/test_w": "def test_it(): pass"})
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", "explain",
                           "tests/unit/test_w.py"], cwd=project.path, capture_output=True,
                          text=True, timeout=60, check=False)
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].split()[:3] == ["tests/unit/test_w.py::test_it", "unit",
                                                       "1"]


def test_explain_of_a_node_id_that_matches_nothing_is_an_input_error(project, capsys):
    project.makepyfile(**{"tests/unit/test_x": "def test_it(): pass"})
    assert main(["explain", "tests/unit/test_x.py::test_missing"]) == 2
    assert "tests/unit/test_x.py::test_missing" in capsys.readouterr().err


def test_an_unreadable_explicit_timeout_is_reported_as_without_the_plugin(project):
    project.makepyfile(**{"tests/unit/test_bad": """
        import pytest

        @pytest.mark.timeout("abc")
        def test_it(): pass
    """})
    with_plugin = project.runpytest("-p", "no:xdist")
    without = project.runpytest("-p", "no:xdist", "-p", "no:test_policy")
    assert with_plugin.ret == without.ret != 0
    with_plugin.stdout.fnmatch_lines(["*Invalid timeout abc from marker*"])
