"""Real runs in a subprocess, where timers fire and workers start. Each has an outer
time limit (`timeout=`), so a hang fails the test instead of stalling the suite."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_policy_engine.cli.main import main

from tests.integration.policy_project import (
    PARALLEL,
    SERIAL,
    case_properties,
    clean_environment,
    junit_cases,
    write_policy,
)

OUTER = 25  # seconds: the outer limit on one inner pytest run
#: An inner run that starts two pytest-xdist workers: three processes, while this suite's
#: own workers share the same two cores; about 2 s when alone, more when they compete.
XDIST_RUN = pytest.mark.slow


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    clean_environment(monkeypatch)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, timeout=OUTER)


POLICY_PROPERTIES = ("test_policy.category", "test_policy.limit", "test_policy.reason")
FIGURES = ("test_policy.wall", "test_policy.cpu", "test_policy.wait", "test_policy.estimate")


def policy_properties(case: ET.Element) -> dict[str, str]:
    return {k: v for k, v in case_properties(case).items() if k in POLICY_PROPERTIES}


SLEEPS = """
    import time

    def test_sleeps_too_long():
        time.sleep({seconds})

    def test_after():
        pass
"""


def test_a_unit_test_twice_over_its_limit_runs_to_the_end_and_fails_with_the_verdict(
        pytester):
    write_policy(pytester, unit_limit=0.3)
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=0.6)})
    result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "over its unit limit: took 0.* s, limit 0.3 s (tests/unit/** -> unit); "
        "mark it @pytest.mark.slow or make it faster",
        "FAILED tests/unit/test_sleep.py::test_sleeps_too_long - over its unit limit*"])
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    slow = cases["test_sleeps_too_long"]
    assert float(slow.get("time", "")) >= 0.55  # not interrupted at 0.3 s
    failure = slow.find("failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith("over its unit limit: took 0.")
    assert message.endswith(", limit 0.3 s (tests/unit/** -> unit); "
                            "mark it @pytest.mark.slow or make it faster")
    for case in cases.values():
        assert policy_properties(case) == {"test_policy.category": "unit",
                                           "test_policy.limit": "0.3",
                                           "test_policy.reason": "path tests/unit/**"}
        figures = case_properties(case)
        assert all(float(figures[name]) >= 0 for name in FIGURES)
    assert float(case_properties(slow)["test_policy.estimate"]) >= 0.55


def test_a_hung_test_is_stopped_at_its_kill_point_and_the_next_test_still_runs(pytester):
    write_policy(pytester, unit_limit=0.1, kill_after=5)
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=30)})
    result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Failed: Timeout (>0.5s) from pytest-timeout*"])
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    # Stopped near the kill point (pytest's clock starts a little after pytest-timeout's
    # timer: 0.499 s was seen), not run to its 30 s.
    assert 0.45 <= float(cases["test_sleeps_too_long"].get("time", "")) < 2


OWN_ALARM = """
    import signal
    import time
    import pytest

    def sleeps_with_its_own_alarm_handler():
        calls = []
        previous = signal.signal(signal.SIGALRM, lambda signum, frame: calls.append(signum))
        try:
            time.sleep(0.6)  # past the unit tests' kill point, 0.3 s
        finally:
            signal.signal(signal.SIGALRM, previous)
        assert calls == []

    def test_quick():
        pass

    @pytest.mark.slow
    def test_slow_with_its_own_alarm():
        sleeps_with_its_own_alarm_handler()

    def test_quick_again():
        pass

    @pytest.mark.timeout(0)
    def test_without_a_limit_with_its_own_alarm():
        sleeps_with_its_own_alarm_handler()

    def test_leaves_the_default_alarm_action_behind():
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # SIGALRM would end the process
"""


def test_the_timer_a_quick_test_left_running_never_fires_into_a_later_test(pytester):
    # Each test's setup re-arms the kill timer (or cancels it, for a test without a kill
    # point) instead of each teardown cancelling it.
    write_policy(pytester, unit_limit=0.1, kill_after=3)
    pytester.makepyfile(**{"tests/unit/test_alarm": OWN_ALARM})
    pytester.makeconftest("""
        import time

        def pytest_runtest_logfinish(nodeid):
            if nodeid.endswith("behind"):
                time.sleep(0.6)  # after its teardown: its timer (0.3 s) would fire here
    """)
    result = run(pytester)
    result.assert_outcomes(passed=5)
    assert result.ret == 0


THREADED_RUNNER = """
    import threading
    import pytest

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(session):
        # A runner that runs every test off the main thread, where no signal can be armed.
        def loop():
            items = session.items
            for index, item in enumerate(items):
                nextitem = items[index + 1] if index + 1 < len(items) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)

        thread = threading.Thread(target=loop)
        thread.start()
        thread.join()
        return True
"""


def test_a_hung_test_run_off_the_main_thread_is_stopped_by_pytest_timeouts_thread_method(
        pytester):
    write_policy(pytester, unit_limit=0.1, kill_after=5)
    pytester.makeconftest(THREADED_RUNNER)
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=30)})
    result = run(pytester)
    # pytest-timeout's thread method: the threads' stacks, then the whole run ends.
    result.stdout.fnmatch_lines(["*Timeout*", "*test_sleeps_too_long*"])
    assert "time.sleep(30)" in result.stdout.str()
    assert result.ret != 0


SLOW_REPORTER = """
    import time

    def pytest_runtest_logreport(report):
        if report.nodeid.endswith("test_first") and report.when == "{when}":
            time.sleep(0.6)  # the kill point passes while pytest reports this phase
"""
TWO_QUICK = """
    import time

    def test_first():
        time.sleep(0.05)

    def test_second():
        pass
"""


@pytest.mark.parametrize("parallel", [
    pytest.param(False, id="serial"), pytest.param(True, id="xdist", marks=XDIST_RUN)])
def test_a_kill_point_reached_while_pytest_reports_fails_the_test_not_the_session(
        pytester, parallel):
    write_policy(pytester, unit_limit=0.3, kill_after=1, parallel=PARALLEL if parallel
                 else SERIAL)
    pytester.makeconftest(SLOW_REPORTER.format(when="call"))
    pytester.makepyfile(**{"tests/unit/test_quick": TWO_QUICK})
    result = run(pytester, "--junit-xml=out.xml")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    # Held while reporting the call, the timer acts once the teardown ran: a teardown error.
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_first*",
                                 "E   Failed: Timeout (>0.3s) from pytest-timeout.",
                                 "ERROR tests/unit/test_quick.py::test_first - Failed: Timeout*"])
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    assert sorted(cases) == ["test_first", "test_second"]  # every test recorded
    error = cases["test_first"].find("error")
    assert error is not None
    assert "Timeout" in error.get("message", "")


def test_a_kill_point_reached_while_the_teardown_is_reported_is_not_charged_to_anyone(
        pytester):
    write_policy(pytester, unit_limit=0.3, kill_after=1)
    pytester.makeconftest(SLOW_REPORTER.format(when="teardown"))
    pytester.makepyfile(**{"tests/unit/test_quick": TWO_QUICK})
    result = run(pytester)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=2)


BROAD_FIXTURE = """
    import time
    import pytest

    @pytest.fixture(scope="session")
    def venv():
        time.sleep(0.6)  # set up once, for every test that needs it
        return "env"
"""


def test_a_slow_session_fixture_is_not_billed_to_the_first_test_and_is_reported_on_its_own(
        pytester):
    write_policy(pytester, unit_limit=0.3, kill_after=1)  # kill at 0.3 s: paused meanwhile
    pytester.makeconftest(BROAD_FIXTURE)
    pytester.makepyfile(**{"tests/unit/test_env": """
        def test_first(venv):
            assert venv == "env"

        def test_second(venv):
            assert venv == "env"
    """})
    result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "slow broad fixtures (their setup is left out of the tests' verdicts):",
        "  session fixture venv (conftest.py:4): 0.6* s"])
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    first = case_properties(cases["test_first"])
    assert float(cases["test_first"].get("time", "")) >= 0.55  # JUnit's time: as pytest bills
    assert float(first["test_policy.estimate"]) < 0.3  # the verdict's: the test's own
    assert first["test_policy.fixture"].startswith("session fixture venv (conftest.py:4): 0.6")


def test_a_slow_function_fixture_is_the_tests_own_time(pytester):
    write_policy(pytester, unit_limit=0.3)
    pytester.makeconftest(BROAD_FIXTURE.replace('scope="session"', 'scope="function"'))
    pytester.makepyfile(**{"tests/unit/test_env": "def test_first(venv): pass"})
    run(pytester).assert_outcomes(failed=1)


def test_a_hypothesis_test_over_its_limit_fails_as_over_its_limit_not_as_flaky(pytester):
    write_policy(pytester, unit_limit=0.3)
    pytester.makepyfile(**{"tests/unit/test_prop": """
        import time
        from hypothesis import given, settings, strategies as st

        @settings(max_examples=20, deadline=None, database=None)
        @given(st.integers())
        def test_property(n):
            time.sleep(0.03)  # each example is quick; the whole test is not
    """})
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED tests/unit/test_prop.py::test_property - over its "
                                 "unit limit*"])
    assert "Flaky" not in result.stdout.str()


def test_a_unittest_test_with_subtests_is_judged_as_one_test(pytester):
    write_policy(pytester, unit_limit=0.3)
    pytester.makepyfile(**{"tests/unit/test_loop": """
        import time
        import unittest

        class TestLoop(unittest.TestCase):
            def test_cases(self):
                for i in range(10):
                    with self.subTest(i=i):
                        time.sleep(0.05)  # the limit passes during the 7th
    """})
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED tests/unit/test_loop.py::TestLoop::test_cases - over "
                                 "its unit limit*"])
    assert "SUBFAIL" not in result.stdout.str()


def test_a_test_under_a_frozen_clock_is_judged_by_the_real_clock(pytester):
    write_policy(pytester, unit_limit=0.3)
    pytester.makepyfile(**{"tests/unit/test_frozen": """
        import datetime
        import pytest
        from freezegun import freeze_time

        @pytest.fixture
        def frozen():
            # Frozen from setup to teardown (pytest-freezegun's `freezer` does this): pytest
            # times the call with the frozen clock it binds as well.
            with freeze_time("2012-01-14"):
                yield

        def test_frozen(frozen):
            assert datetime.date.today() == datetime.date(2012, 1, 14)

        def test_after():
            with freeze_time("1990-05-01"):
                pass
    """})
    result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(passed=2)
    for case in junit_cases(pytester.path / "out.xml"):
        assert float(case_properties(case)["test_policy.wall"]) < 0.3


def test_with_enforce_warn_a_test_over_its_limit_passes_and_the_line_is_recorded(
        pytester, capsys, monkeypatch):
    path = write_policy(pytester, unit_limit=0.3)
    path.write_text("enforce: warn\n" + path.read_text())
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=0.6)})
    run(pytester, "--junit-xml=out.xml").assert_outcomes(passed=2)
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    line = case_properties(cases["test_sleeps_too_long"])["test_policy.over_limit"]
    assert line.startswith("over its unit limit: took 0.")
    assert line.endswith("(reported only: enforce: warn in the policy)")
    monkeypatch.chdir(pytester.path)
    from test_policy_engine.cli.main import main

    capsys.readouterr()
    assert main(["audit", "out.xml"]) == 0  # listed, not failed
    assert "test_sleeps_too_long" in capsys.readouterr().out


def test_a_unit_test_past_its_limit_is_stopped_near_one_second_and_the_run_goes_on(pytester):
    """With `kill_after: 1`, the seed's strict choice: interrupted at the limit."""
    write_policy(pytester, kill_after=1)
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=3)})
    result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Failed: Timeout (>1.0s) from pytest-timeout*"])
    assert "over its unit limit" not in result.stdout.str()  # one failure, said once
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    assert 0.95 <= float(cases["test_sleeps_too_long"].get("time", "")) < 1.8


@pytest.mark.parametrize("flag", ["--timeout=0", "--pdb"])
def test_timeout_zero_and_pdb_switch_the_verdict_off(pytester, flag):
    write_policy(pytester, unit_limit=0.3)
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=0.4)})
    run(pytester, flag).assert_outcomes(passed=2)


@XDIST_RUN
def test_under_xdist_a_test_over_its_limit_fails_with_the_verdict(pytester):
    write_policy(pytester, unit_limit=0.3, parallel=PARALLEL)
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=0.6)})
    result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_sleeps_too_long - over its unit limit*"])
    cases = {case.get("name"): case for case in junit_cases(pytester.path / "out.xml")}
    failure = cases["test_sleeps_too_long"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("over its unit limit: took 0.")


@XDIST_RUN
def test_workers_judge_by_the_controllers_policy_even_when_the_file_is_deleted_after_start(
        pytester):
    write_policy(pytester, unit_limit=0.3, parallel=PARALLEL)
    pytester.makeconftest("""
        from pathlib import Path

        def pytest_configure(config):
            if not hasattr(config, "workerinput"):  # the controller, before workers start
                Path(config.rootpath, "policy.yaml").unlink()
    """)
    pytester.makepyfile(**{"tests/unit/test_sleep": SLEEPS.format(seconds=0.6)})
    result = run(pytester, "--junit-xml=out.xml")
    assert not (pytester.path / "policy.yaml").exists()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_sleeps_too_long - over its unit limit*"])
    for case in junit_cases(pytester.path / "out.xml"):
        assert policy_properties(case)["test_policy.category"] == "unit"


@XDIST_RUN
def test_with_thread_timeouts_under_xdist_the_run_survives_and_reports_the_test(pytester):
    write_policy(pytester, method="thread", parallel=PARALLEL, kill_after=1)
    pytester.makepyfile(**{"tests/unit/test_sleep": """
        import time

        def test_sleeps_too_long():
            time.sleep(4)

        def test_a(): pass
        def test_b(): pass
        def test_c(): pass
    """})
    result = run(pytester, "-v", "--junit-xml=out.xml")
    result.stdout.fnmatch_lines([
        "test-policy: *parallel: 2 workers (from the policy), --dist load; "
        "--dist load instead of the policy's loadgroup*#1371*",
        "*worker 'gw*' crashed while running*test_sleeps_too_long*",
    ])
    result.assert_outcomes(passed=3, failed=1)
    names = {case.get("name") for case in junit_cases(pytester.path / "out.xml")}
    assert names == {"test_sleeps_too_long", "test_a", "test_b", "test_c"}


@pytest.mark.slow
def test_an_integration_test_sleeping_two_seconds_passes(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/integration/test_wait": """
        import time

        def test_waits():
            time.sleep(2)
    """})
    run(pytester).assert_outcomes(passed=1)


def test_timeout_zero_on_the_command_line_lets_a_long_unit_test_finish(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_wait": """
        import time

        def test_waits():
            time.sleep(1.3)
    """})
    run(pytester, "--timeout=0").assert_outcomes(passed=1)


WHERE = """
    import os

    def test_where():
        print("RAN-ON", os.environ.get("PYTEST_XDIST_WORKER", "main"))
"""


@pytest.mark.parametrize(
    ("args", "env", "note"),
    [
        (("-n", "0"), {}, "as given on the command line (-n)"),
        (("-p", "no:xdist"), {}, "serial: pytest-xdist is not installed or blocked*"),
        ((), {"TEST_POLICY_SERIAL": "1"}, "serial: TEST_POLICY_SERIAL=1"),
    ],
    ids=["n0", "no-xdist", "env"],
)
def test_the_serial_escape_hatches_run_in_one_process(pytester, monkeypatch, args, env, note):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write_policy(pytester, parallel=PARALLEL)
    pytester.makepyfile(**{"tests/unit/test_where": WHERE})
    result = run(pytester, "-v", "-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"test-policy: *parallel: {note}", "*RAN-ON main*"])


@XDIST_RUN
def test_by_default_the_policy_runs_tests_in_parallel(pytester):
    write_policy(pytester, parallel=PARALLEL)
    pytester.makepyfile(**{"tests/unit/test_where": WHERE})
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "test-policy: *parallel: 2 workers (from the policy), --dist loadgroup*",
        "created: 2/2 workers",
        "*[[]gw?[]]*PASSED*test_where*",
    ])


GROUPED = """
    import os, pathlib, pytest

    @pytest.mark.parametrize("n", range(4))
    def test_{name}(n):
        out = pathlib.Path(os.environ["OUT"]) / f"{name}-{{n}}"
        out.write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def run_grouped(pytester: pytest.Pytester) -> tuple[pytest.RunResult, Path]:
    write_policy(pytester, parallel=PARALLEL + "\n  groups:\n    db: ['tests/db/**']")
    pytester.makepyfile(**{"tests/db/test_db": GROUPED.format(name="db"),
                           "tests/unit/test_u": GROUPED.format(name="u")})
    out = pytester.mkdir("out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OUT", str(out))
        result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(passed=8)
    return result, out


@XDIST_RUN
def test_under_xdist_every_testcase_has_its_properties_and_a_clean_name(pytester):
    run_grouped(pytester)
    cases = junit_cases(pytester.path / "out.xml")
    assert len(cases) == 8
    for case in cases:
        assert "@" not in case.get("name", "") + case.get("classname", "")
        reason = "default" if "test_db" in case.get("classname", "") else "path tests/unit/**"
        assert policy_properties(case) == {"test_policy.category": "unit",
                                           "test_policy.limit": "1",
                                           "test_policy.reason": reason}
        assert set(FIGURES) <= set(case_properties(case))


@XDIST_RUN
def test_tests_of_a_policy_group_share_one_worker(pytester):
    _, out = run_grouped(pytester)
    assert len({(out / f"db-{n}").read_text() for n in range(4)}) == 1


def test_the_summary_shows_each_category_and_the_tests_near_their_limit(pytester):
    write_policy(pytester, warn_ratio=0.2)
    pytester.makepyfile(**{"tests/unit/test_t": """
        import time

        def test_near_the_limit():
            time.sleep(0.3)

        def test_quick():
            pass
    """, "tests/integration/test_i": "def test_i(): pass"})
    result = run(pytester)
    result.stdout.fnmatch_lines([
        "*= test policy: time per category =*",
        "unit * 2 tests * s total  slowest 0.3? s tests/unit/test_t.py::test_near_the_limit"
        "  1 over 20 % of the limit",
        "integration * 1 test *0 over 20 % of the limit",
        "tests over 20 % of their limit:",
        "  0.3? s of 1 s (3? %) [[]unit[]] tests/unit/test_t.py::test_near_the_limit",
    ])



def test_the_summary_is_quiet_with_q(pytester):
    write_policy(pytester)
    pytester.makepyfile(**{"tests/unit/test_t": "def test_quick(): pass"})
    # in process, with --timeout=0 so that no timer is armed in this process
    loud = pytester.runpytest("--timeout=0")
    quiet = pytester.runpytest("-q", "--timeout=0")
    loud.stdout.fnmatch_lines(["*= test policy: time per category =*"])
    assert "test policy: time per category" not in quiet.stdout.str()


def test_without_a_policy_the_plugin_does_not_even_load_the_policy_machinery(pytester):
    pytester.makepyfile(test_a="def test_it(): pass")
    pytester.makeconftest("""
        import sys

        def pytest_sessionfinish():
            loaded = sorted(m for m in ("pydantic", "yaml", "test_policy_engine.plugin.run")
                            if m in sys.modules)
            print("LOADED", loaded)
    """)
    result = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    assert "LOADED []" in result.stdout.str()


@XDIST_RUN
def test_test_fast_runs_the_target_under_the_policy_with_durations(pytester, root):
    write_policy(pytester, parallel=PARALLEL)
    pytester.makepyfile(**{"tests/unit/test_where": WHERE})
    script = str(root / "scripts" / "test-fast.sh")
    env = {**os.environ, "PYTHON": sys.executable}
    default = subprocess.run([script], cwd=pytester.path, env=env, capture_output=True,
                             text=True, timeout=OUTER, check=False)
    assert default.returncode == 0, default.stdout + default.stderr
    assert "created: 2/2 workers" in default.stdout  # the policy's parallel default
    assert "slowest 10 durations" in default.stdout
    serial = subprocess.run([script, "tests/unit", "0", "-s"], cwd=pytester.path, env=env,
                            capture_output=True, text=True, timeout=OUTER, check=False)
    assert serial.returncode == 0, serial.stdout + serial.stderr
    assert "RAN-ON main" in serial.stdout
    assert "slowest 10 durations" in serial.stdout


LOADED = """
    import os, shlex, signal, subprocess, sys, time

    import pytest

    HOG = "import time\\nend = time.time() + 3\\nwhile time.time() < end: pass"


    @pytest.fixture
    def hogs():
        # Twice as many CPU-bound processes as CPUs, bounded (3 s) and killed in teardown.
        # Started through `sh ... &`, so they are not children this test waits for (their
        # CPU time would count as the test's own).
        command = f"{shlex.quote(sys.executable)} -c {shlex.quote(HOG)} >/dev/null 2>&1 & echo $!"
        pids = [int(subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                                   check=True).stdout) for _ in range(4)]
        time.sleep(0.05)
        yield
        for pid in pids:
            os.kill(pid, signal.SIGKILL)


    def test_computes_beside_the_hogs(hogs):
        start = time.thread_time()
        while time.thread_time() - start < 0.3:
            pass


    SPIN = "import time\\nstart = time.thread_time()\\nwhile time.thread_time() - start < {}: pass"


    def test_computes_in_a_child_beside_the_hogs(hogs):
        subprocess.run([sys.executable, "-c", SPIN.format(0.3)], check=True)
"""


@pytest.mark.slow
def test_a_cpu_bound_test_at_0_6_of_its_limit_passes_beside_twice_as_many_hogs_as_cpus(
        pytester):
    write_policy(pytester, unit_limit=0.5)
    pytester.makepyfile(**{"tests/unit/test_loaded": LOADED})
    result = run(pytester, "--junit-xml=out.xml", "-k", "not child")
    result.assert_outcomes(passed=1)
    (case,) = junit_cases(pytester.path / "out.xml")
    figures = case_properties(case)
    assert float(figures["test_policy.wait"]) > 0  # the hogs did take CPU from it
    assert float(figures["test_policy.estimate"]) < 0.5
    # The audit judges the run's first test (its figures are not its last property) by
    # the same estimate.
    assert main(["audit", str(pytester.path / "out.xml")]) == 0


@pytest.mark.slow
def test_a_test_whose_work_at_0_6_of_its_limit_is_in_a_child_passes_beside_the_hogs(pytester):
    write_policy(pytester, unit_limit=0.5)
    pytester.makepyfile(**{"tests/unit/test_loaded": LOADED})
    result = run(pytester, "--junit-xml=out.xml", "-k", "child")
    result.assert_outcomes(passed=1)
    (case,) = junit_cases(pytester.path / "out.xml")
    figures = case_properties(case)
    # The test's thread only waited in waitpid; its child queued behind the hogs, which
    # the machine's measured contention accounts for.
    assert float(figures["test_policy.wall"]) > 0.5
    assert float(figures["test_policy.queued"]) > 0
    assert 0.3 <= float(figures["test_policy.estimate"]) < 0.5
    assert main(["audit", str(pytester.path / "out.xml")]) == 0


CHILD_TWICE_OVER = """
    import subprocess, sys

    SPIN = "import time\\nstart = time.thread_time()\\nwhile time.thread_time() - start < 0.6: pass"


    def test_computes_in_a_child():
        subprocess.run([sys.executable, "-c", SPIN], check=True)
"""


def test_a_test_whose_child_needs_twice_its_limit_in_cpu_fails_whatever_the_load(pytester):
    write_policy(pytester, unit_limit=0.3)
    pytester.makepyfile(**{"tests/unit/test_child": CHILD_TWICE_OVER})
    result = run(pytester, "--junit-xml=out.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*over its unit limit: took * s*, limit 0.3 s*"])
    (case,) = junit_cases(pytester.path / "out.xml")
    assert float(case_properties(case)["test_policy.estimate"]) >= 0.6  # its child's CPU
