"""xdist_group holds under the default parallel run (pytest 9.2 + pytest-xdist 3.8 too,
where pytest-xdist's own loadgroup spreads groups: #1386): real workers record their ids."""

import json

import pytest

from tests.integration.policy_project import PARALLEL, write_policy

OUTER = 60

RECORD = """
import os, pathlib

def record(name):
    out = pathlib.Path(os.environ["OUT"]) / name
    out.write_text(os.environ["PYTEST_XDIST_WORKER"])
"""

USER_MARKED = {
    "tests/unit/test_function": """
        import pytest
        from record import record

        @pytest.mark.xdist_group("fn")
        @pytest.mark.parametrize("n", range(4))
        def test_function_marked(n):
            record(f"fn-{n}")
    """,
    "tests/unit/test_class": """
        import pytest
        from record import record

        @pytest.mark.xdist_group(name="cls")
        class TestMarked:
            @pytest.mark.parametrize("n", range(4))
            def test_method(self, n):
                record(f"cls-{n}")
    """,
    "tests/unit/test_module": """
        import pytest
        from record import record

        pytestmark = pytest.mark.xdist_group("mod")

        @pytest.mark.parametrize("n", range(4))
        def test_in_marked_module(n):
            record(f"mod-{n}")
    """,
    "tests/unit/test_param": """
        import pytest
        from record import record

        @pytest.mark.parametrize("n", [pytest.param(n, marks=pytest.mark.xdist_group("par"))
                                       for n in range(4)] + [4, 5, 6, 7])
        def test_param(n):
            record(f"par-{n}" if n < 4 else f"free-{n}")
    """,
    "tests/db/test_db": """
        import pytest
        from record import record

        @pytest.mark.parametrize("n", range(4))
        def test_db(n):
            record(f"db-{n}")
    """,
    "tests/unit/test_free": """
        import time
        import pytest
        from record import record

        @pytest.mark.parametrize("n", range(8))
        def test_free(n):
            time.sleep(0.05)  # long enough that both workers take some
            record(f"free-{n + 10}")
    """,
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("TEST_POLICY_SERIAL", "PYTEST_XDIST_AUTO_NUM_WORKERS", "PYTEST_XDIST_WORKER",
                 "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


def run_marked(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, str]]:
    write_policy(pytester, parallel=PARALLEL + "\n  groups:\n    db: ['tests/db/**']")
    pytester.makepyfile(record=RECORD, **USER_MARKED)
    pytester.syspathinsert()
    out = pytester.mkdir("out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OUT", str(out))
        mp.setenv("PYTHONPATH", str(pytester.path))
        result = pytester.runpytest_subprocess("-v", *args, timeout=OUTER)
    return result, {p.name: p.read_text() for p in out.iterdir()}


def workers_of(recorded: dict[str, str], prefix: str) -> set[str]:
    return {worker for name, worker in recorded.items() if name.startswith(prefix + "-")}


@pytest.mark.slow
def test_each_group_of_markers_and_policy_globs_runs_on_one_worker_and_the_rest_spreads(
        pytester):
    result, recorded = run_marked(pytester)
    result.assert_outcomes(passed=32)
    result.stdout.fnmatch_lines(["*parallel: 2 workers*--dist loadgroup*",
                                "scheduling tests via GroupScheduling"])
    for group in ("fn", "cls", "mod", "par", "db"):
        assert len([n for n in recorded if n.startswith(group + "-")]) == 4
        assert len(workers_of(recorded, group)) == 1, group
    assert workers_of(recorded, "free") == {"gw0", "gw1"}


@pytest.mark.slow
def test_groups_hold_when_the_user_asks_for_loadgroup_on_the_command_line(pytester):
    result, recorded = run_marked(pytester, "-n", "2", "--dist", "loadgroup")
    result.assert_outcomes(passed=32)
    for group in ("fn", "cls", "mod", "par", "db"):
        assert len(workers_of(recorded, group)) == 1, group


def test_worker_group_maps_name_groups_as_pytest_xdist_does(pytester):
    pytester.makepyfile(test_x="""
        import pytest

        @pytest.mark.xdist_group("b")
        class TestC:
            @pytest.mark.xdist_group("a")
            def test_two(self): pass

        @pytest.mark.xdist_group
        def test_unnamed(): pass

        def test_free(): pass
    """)
    items, _ = pytester.inline_genitems("-p", "no:xdist",
                                        "-W", "ignore::pytest.PytestUnknownMarkWarning")
    from test_policy_engine.plugin.scheduling import group_map

    assert group_map(items) == {"test_x.py::TestC::test_two": "a_b",
                                "test_x.py::test_unnamed": "default"}
    json.dumps(group_map(items))


FIVE = """
    def test_a(): pass
    def test_b(): pass
    def test_c(): pass
    def test_d(): pass
    def test_e(): pass
"""


@pytest.mark.slow
def test_a_quick_selection_runs_serially_once_its_time_is_recorded(pytester):
    write_policy(pytester, parallel=PARALLEL)
    pytester.makepyfile(**{"tests/unit/test_five": FIVE})
    startup = pytester.path / ".pytest_cache" / "v" / "test_policy" / "startup"
    first = pytester.runpytest_subprocess("-v", timeout=OUTER)
    measured = json.loads(startup.read_text())
    second = pytester.runpytest_subprocess("-v", timeout=OUTER)
    first.assert_outcomes(passed=5)
    second.assert_outcomes(passed=5)
    first.stdout.fnmatch_lines(["*parallel: 2 workers (from the policy)*"])
    # The first run measured its workers' start-up; the second decides by it.
    assert set(measured) == {"parallel"}
    assert 0 < measured["parallel"] < OUTER
    second.stdout.fnmatch_lines(["*parallel: serial: the last run of this selection took "
                                 "* s in 5 tests; 2 workers would save less than their "
                                 "start-up (~* s, measured in the last parallel run)*"])
    assert "[gw" not in second.stdout.str()  # no worker ran a test (the path may say gw0)
    assert set(json.loads(startup.read_text())) == {"parallel", "serial"}


SKEWED = """
    import os, pathlib, pytest

    @pytest.mark.parametrize("n", range(12))
    def test_t(n):
        path = pathlib.Path(os.environ["OUT"]) / os.environ["PYTEST_XDIST_WORKER"]
        with path.open("a") as log:
            log.write(f"{n}\\n")
"""


def run_skewed(pytester: pytest.Pytester, durations: dict[str, float] | None,
               name: str) -> dict[str, list[int]]:
    """{worker: the tests it ran, in order} of one run of the skewed suite."""
    write_policy(pytester, parallel=PARALLEL)
    pytester.makepyfile(**{"tests/unit/test_skew": SKEWED})
    record = pytester.path / ".test_durations"
    if durations is None:
        record.unlink(missing_ok=True)
    else:
        record.write_text(json.dumps(durations))
    out = pytester.mkdir(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OUT", str(out))
        # Hypothesis's plugin (this venv has it) imports Hypothesis in every process's summary
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                               "-p", "no:hypothesispytest", timeout=OUTER)
    result.assert_outcomes(passed=12)
    return {p.name: [int(n) for n in p.read_text().split()] for p in out.iterdir()}


@pytest.mark.slow
def test_a_skewed_suite_starts_its_long_tests_first_with_durations_and_last_without(pytester):
    # tests 10 and 11 are recorded as long and collected last: without the record they
    # are handed out last, so the run ends at least one long test after the short ones;
    # with it each starts a worker and the short tests fill the other (LPT), and no long
    # test is queued right behind the other
    durations = {f"tests/unit/test_skew.py::test_t[{n}]": 0.01 for n in range(10)}
    durations["tests/unit/test_skew.py::test_t[10]"] = 3.0
    durations["tests/unit/test_skew.py::test_t[11]"] = 2.0
    without = run_skewed(pytester, None, "without")
    with_ = run_skewed(pytester, durations, "with")
    assert sorted(n for ran in with_.values() for n in ran) == list(range(12))
    assert {ran[0] for ran in with_.values()} == {10, 11}
    assert all(ran[1] < 10 for ran in with_.values())
    long_at = [ran.index(n) for ran in without.values() for n in (10, 11) if n in ran]
    assert min(long_at) > 0  # without: every long test ran after short ones
