"""The runtime guard in real pytest runs (a subprocess each, serial inside).

No test here ever reaches another machine: blocked calls name TEST-NET-1 addresses
(192.0.2.0/24, RFC 5737), which the guard stops before any packet is sent, and allowed
ones reach a listener on loopback.
"""

import re
import xml.etree.ElementTree as ET

import pytest
from test_policy_engine.cli.main import main

from tests.integration.policy_project import case_properties, junit_cases

OUTER = 25  # seconds: the outer limit on one inner pytest run

POLICY = """\
version: 1
categories:
  unit:
    limit: 1
    default: true
    paths: ["tests/unit/**"]
    forbid:
      mode: {mode}
      network: true
      subprocess: true
      sleep: true
{network}
  integration:
    limit: 5
    paths: ["tests/integration/**"]
    markers: [integration]
parallel:
  enabled: false
"""

CLIENT = """
import asyncio
import os
import subprocess
import time
import urllib.request


def fetch():
    return urllib.request.urlopen("http://192.0.2.1:8080/", timeout=0.2).read()


def fetch_quietly():
    try:
        return fetch()
    except Exception:
        return None


def run():
    return subprocess.run(["true"]).returncode


def system():
    return os.system("true")


def nap():
    time.sleep(1)


async def async_nap():
    await asyncio.sleep(1)
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("TEST_POLICY_SERIAL", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                 "PYTEST_XDIST_TESTRUNUID", "PYTEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def project(pytester: pytest.Pytester, mode: str = "strict", network: str = "") -> None:
    pytester.path.joinpath("policy.yaml").write_text(POLICY.format(mode=mode, network=network))
    pytester.makepyfile(**{"app/__init__": "", "app/client": CLIENT})
    pytester.makeconftest("import sys, os; sys.path.insert(0, os.path.dirname(__file__))")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:xdist", "--junit-xml=out.xml", *args,
                                         timeout=OUTER)


@pytest.mark.slow  # several real pytest runs: near 5 s under load
def test_a_unit_test_whose_code_reaches_the_network_spawns_or_sleeps_fails_naming_the_call(
        pytester):
    project(pytester)
    pytester.makepyfile(**{"tests/unit/test_calls": """
        import asyncio
        from app import client

        def test_fetch():
            client.fetch()

        def test_fetch_swallowed():
            assert client.fetch_quietly() is None

        def test_run():
            client.run()

        def test_system():
            client.system()

        def test_nap():
            client.nap()

        def test_async_nap():
            asyncio.run(client.async_nap())
    """})
    result = run(pytester)
    result.assert_outcomes(failed=6)
    hint = "mark it integration, mock it"
    result.stdout.fnmatch_lines_random([
        "unit tests may not open network connections: socket.getaddrinfo('192.0.2.1', 8080)"
        f" from app/client.py:9 in fetch() — {hint}, or allow the host in policy.yaml",
        "unit tests may not start processes: subprocess.Popen([[]'true']) from "
        f"app/client.py:20 in run() — {hint}, or allow it with *",
        "unit tests may not start processes: os.system('true') from app/client.py:24 in "
        "system() *",
        "unit tests may not sleep for real: time.sleep(1) from app/client.py:28 in nap() *",
        "unit tests may not sleep for real: asyncio.sleep(1) from app/client.py:32 in "
        "async_nap() *",
        "FAILED tests/unit/test_calls.py::test_fetch_swallowed - unit tests*",
        "unit: tests that did what the category forbids: network 2, subprocess 2, sleep 2",
    ])
    cases = {case.get("name"): case_properties(case) for case in
             junit_cases(pytester.path / "out.xml")}
    assert cases["test_system"]["test_policy.guard.subprocess"].startswith(
        "unit tests may not start processes: os.system('true')")
    assert "test_policy.guard.network" in cases["test_fetch_swallowed"]


@pytest.mark.slow  # several real pytest runs: near 5 s under load
def test_the_same_calls_mocked_pass_and_asyncio_and_integration_tests_are_left_alone(
        pytester):
    project(pytester)
    pytester.makepyfile(**{
        "tests/unit/conftest": """
            import pytest

            @pytest.fixture(autouse=True)
            def no_sleep(monkeypatch):
                monkeypatch.setattr("time.sleep", lambda seconds: None)
        """,
        "tests/unit/test_mocked": """
            import asyncio
            import subprocess
            from unittest import mock
            from app import client

            def test_sleep_mocked_by_the_conftest():
                client.nap()

            def test_process_and_network_mocked_in_the_test(monkeypatch):
                monkeypatch.setattr(subprocess, "run", mock.Mock())
                monkeypatch.setattr("os.system", lambda command: 0)
                with mock.patch("urllib.request.urlopen"):
                    client.fetch()
                client.run()
                client.system()

            def test_asyncio_mocked_sleep_and_self_pipe():
                with mock.patch("asyncio.sleep", new=mock.AsyncMock()):
                    asyncio.run(client.async_nap())

            def test_a_short_sleep_is_fine():
                asyncio.run(asyncio.sleep(0.001))
        """,
        "tests/integration/test_real": """
            from app import client

            def test_an_integration_test_may_spawn_and_sleep():
                assert client.run() == 0
                assert client.system() == 0
        """,
    })
    result = run(pytester)
    result.assert_outcomes(passed=5)


@pytest.mark.slow  # several real pytest runs: near 5 s under load
def test_the_allow_marker_lets_a_test_class_or_module_do_the_named_kind(pytester):
    project(pytester)
    pytester.makepyfile(**{"tests/unit/test_allowed": """
        import pytest
        from app import client

        pytestmark = pytest.mark.allow("subprocess")

        def test_module_allows_processes():
            client.run()

        @pytest.mark.allow("sleep")
        class TestSleepy:
            def test_class_allows_sleep_too(self):
                import time
                time.sleep(0.02)
                client.system()

        def test_network_is_still_forbidden():
            client.fetch()
    """})
    result = run(pytester)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED *::test_network_is_still_forbidden - unit tes*"])


def test_warn_mode_lets_the_test_pass_with_a_warning_naming_the_call(pytester):
    project(pytester, mode="warn")
    pytester.makepyfile(**{"tests/unit/test_warn": """
        from app import client

        def test_spawns():
            assert client.run() == 0
    """})
    result = run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*GuardWarning: unit tests may not start processes: "
                                 "subprocess.Popen([[]'true']) from app/client.py:20 in run()*"])


LOOPBACK_TESTS = """
    import socket
    import pytest

    @pytest.fixture
    def listener():
        server = socket.create_server(("127.0.0.1", 0))
        yield server.getsockname()[1]
        server.close()

    def test_by_literal(listener):
        socket.create_connection(("127.0.0.1", listener), timeout=1).close()

    def test_by_name(listener):
        socket.create_connection(("localhost", listener), timeout=1).close()
"""


@pytest.mark.parametrize(("network", "outcomes"), [
    ("", {"passed": 2}),
    ("      loopback: false", {"failed": 2}),
    ("      loopback: false\n      allow_hosts: [127.0.0.0/8, localhost]", {"passed": 2}),
    ("      loopback: false\n      allow_hosts: [127.0.0.1]", {"passed": 1, "failed": 1}),
], ids=["loopback-by-default", "loopback-off", "allowed-network-and-name", "literal-only"])
def test_loopback_and_allowed_hosts_decide_which_connections_a_unit_test_may_open(
        pytester, network, outcomes):
    project(pytester, network=network)
    pytester.makepyfile(**{"tests/unit/test_loopback": LOOPBACK_TESTS})
    run(pytester).assert_outcomes(**outcomes)


def test_a_function_fixture_is_guarded_and_a_session_fixture_is_not(pytester):
    project(pytester)
    pytester.makepyfile(**{"tests/unit/test_fixtures": """
        import subprocess
        import pytest

        @pytest.fixture(scope="session")
        def server():
            return subprocess.run(["true"]).returncode

        @pytest.fixture
        def helper():
            return subprocess.run(["true"]).returncode

        def test_uses_a_session_server(server):
            assert server == 0

        def test_uses_a_spawning_helper(helper):
            pass
    """})
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unit tests may not start processes: subprocess.Popen("
                                 "[[]'true']) from tests/unit/test_fixtures.py:10 in helper()*"])


def test_an_unknown_kind_in_the_allow_marker_fails_the_test_saying_so(pytester):
    project(pytester)
    pytester.makepyfile(**{"tests/unit/test_typo": """
        import pytest

        @pytest.mark.allow("netwrok")
        def test_typo():
            pass
    """})
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["@pytest.mark.allow: unknown kind (got 'netwrok'); "
                                 "hint: use one of network, subprocess, sleep"])


@pytest.mark.slow  # starts two pytest-xdist workers
def test_a_violation_on_an_xdist_worker_reaches_the_report_and_the_junit_file(pytester):
    project(pytester)
    pytester.makepyfile(**{"tests/unit/test_workers": """
        from app import client

        def test_spawns():
            client.run()

        def test_swallows():
            client.fetch_quietly()
    """})
    result = pytester.runpytest_subprocess("-n", "2", "--junit-xml=out.xml", timeout=OUTER)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "unit tests may not start processes: subprocess.Popen([[]'true']) from "
        "app/client.py:20 in run() *",
        "unit tests may not open network connections: socket.getaddrinfo('192.0.2.1', 8080) "
        "from app/client.py:9 in fetch() *",
        "unit: tests that did what the category forbids: network 1, subprocess 1",
    ])
    cases = {case.get("name"): case_properties(case) for case in
             junit_cases(pytester.path / "out.xml")}
    assert "test_policy.guard.network" in cases["test_swallows"]


WAITING = """
import asyncio
import time
from asyncio import sleep as async_sleep
from time import sleep


def wait():
    sleep(1)


async def async_wait():
    await async_sleep(1)


class Poller:
    pause = time.sleep

    def poll(self):
        self.pause(1)


def retry(pause=time.sleep):
    pause(1)
"""


def test_a_sleep_bound_by_a_from_import_in_a_helper_is_seen_and_a_mocked_one_passes(pytester):
    project(pytester)
    pytester.makepyfile(**{
        "app/waiting": WAITING,
        "tests/unit/conftest": """
            import pytest
            from app import waiting

            @pytest.fixture
            def no_async_sleep(monkeypatch):
                async def instant(delay):
                    return None
                monkeypatch.setattr(waiting, "async_sleep", instant)
        """,
        "tests/unit/test_waiting": """
            import asyncio
            from unittest import mock
            from app import waiting

            def test_from_import():
                waiting.wait()

            def test_from_import_of_asyncio_sleep():
                asyncio.run(waiting.async_wait())

            def test_class_attribute():
                waiting.Poller().poll()

            def test_default_argument():
                waiting.retry()

            def test_monkeypatched(monkeypatch):
                monkeypatch.setattr(waiting, "sleep", lambda seconds: None)
                waiting.wait()

            def test_mock_patched():
                with mock.patch("app.waiting.sleep") as fake:
                    waiting.wait()
                fake.assert_called_once_with(1)

            def test_mocked_by_a_fixture(no_async_sleep):
                asyncio.run(waiting.async_wait())
        """,
        "tests/unit/test_waiting_restored": """
            import asyncio
            import time
            import pytest
            from app import waiting

            @pytest.mark.allow("sleep")  # nothing patched around this one: it runs after
            def test_the_helper_holds_the_real_functions_again():
                assert waiting.sleep is time.sleep
                assert waiting.async_sleep is asyncio.sleep
                assert waiting.Poller.__dict__["pause"] is time.sleep
                assert waiting.retry.__defaults__ == (time.sleep,)
        """,
    })
    result = run(pytester)
    result.assert_outcomes(failed=4, passed=4)
    result.stdout.fnmatch_lines_random([
        "unit tests may not sleep for real: time.sleep(1) from app/waiting.py:8 in wait() — "
        "mark it integration, mock it, or wait on an event instead",
        "unit tests may not sleep for real: asyncio.sleep(1) from app/waiting.py:12 in "
        "async_wait() *",
        "unit tests may not sleep for real: time.sleep(1) from app/waiting.py:19 in poll() *",
        "unit tests may not sleep for real: time.sleep(1) from app/waiting.py:23 in retry() *",
        "FAILED *::test_from_import - *",
        "FAILED *::test_from_import_of_asyncio_sleep - *",
        "FAILED *::test_class_attribute - *",
        "FAILED *::test_default_argument - *",
    ])


AUDITED_POLICY = """\
version: 1
categories:
  unit:
    limit: 1
    default: true
    paths: ["tests/unit/**"]
    forbid: {mode: strict, network: true, subprocess: true, sleep: true}
  component:
    limit: 2
    paths: ["tests/component/**"]
    forbid: {mode: warn, subprocess: true}
  integration:
    limit: 5
    paths: ["tests/integration/**"]
    markers: [integration]
parallel:
  enabled: false
"""

AUDITED_TESTS = {
    "tests/unit/test_calls": """
        import subprocess
        import pytest
        from app import client

        def test_spawns():
            client.run()

        def test_swallows_and_spawns():
            client.fetch_quietly()
            client.system()

        @pytest.mark.parametrize("arg", ["a|b*c*<i>`x`"], ids=["<b>|`md`"])
        def test_odd(arg):
            subprocess.run(["true", arg])

        def test_clean():
            pass
    """,
    "tests/component/test_warned": """
        from app import client

        def test_spawns_with_a_warning():
            assert client.run() == 0
    """,
}


def audit_of(pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], *args: str
             ) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


@pytest.fixture
def audited(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The JUnit file of a real run: strict violations in unit, a warned one in component."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "UNIT_TEST_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    project(pytester)
    pytester.path.joinpath("policy.yaml").write_text(AUDITED_POLICY)
    pytester.makepyfile(**AUDITED_TESTS)
    result = run(pytester, "--junit-xml=results/run.xml")
    result.assert_outcomes(failed=3, passed=2, warnings=1)
    return pytester


@pytest.mark.slow  # a real run then the audit: near 10 s under load
def test_the_audit_lists_guard_violations_in_their_own_section_and_fails_on_strict_ones(
        audited, capsys):
    code, out = audit_of(audited, capsys, "results")
    assert code == 1
    assert "All 5 tests within 80% of their thresholds." in out  # their times are fine
    section = out[out.index("RUNTIME GUARD FAILURES"):out.index("Summary:")]
    assert section.splitlines() == [
        "RUNTIME GUARD FAILURES (forbidden calls, mode strict):",
        "  tests/unit/test_calls.py::test_spawns: unit tests may not start processes: "
        "subprocess.Popen(['true']) from app/client.py:20 in run() — mark it integration, "
        'mock it, or allow it with @pytest.mark.allow("subprocess") [unit]',
        "  tests/unit/test_calls.py::test_swallows_and_spawns: unit tests may not open network "
        "connections: socket.getaddrinfo('192.0.2.1', 8080) from app/client.py:9 in fetch() "
        "— mark it integration, mock it, or allow the host in policy.yaml [unit]",
        "  tests/unit/test_calls.py::test_swallows_and_spawns: unit tests may not start "
        "processes: os.system('true') from app/client.py:24 in system() — mark it "
        'integration, mock it, or allow it with @pytest.mark.allow("subprocess") [unit]',
        "  tests/unit/test_calls.py::test_odd[<b>|`md`]: unit tests may not start processes: "
        "subprocess.Popen(['true', 'a|b*c*<i>`x`']) from tests/unit/test_calls.py:14 in "
        'test_odd() — mark it integration, mock it, or allow it with @pytest.mark.allow("'
        'subprocess") [unit]',
        "",
        "RUNTIME GUARD WARNINGS (forbidden calls, mode warn):",
        "  tests/component/test_warned.py::test_spawns_with_a_warning: component tests may "
        "not start processes: subprocess.Popen(['true']) from app/client.py:20 in run() — "
        "mark it integration, mock it, or allow it with @pytest.mark.allow(\"subprocess\") "
        "[component]",
        "",
    ]
    assert out.rstrip().endswith("Summary: 0 failures, 0 warnings; runtime guard: 3 failures, "
                                 "1 warning")
    # The Markdown job summary: the same, with every user string escaped.
    code, out = audit_of(audited, capsys, "results", "--format", "markdown")
    assert code == 1
    assert "**0 failures, 0 warnings; runtime guard: 3 failures, 1 warning** in 5 tests" in out
    section = out[out.index("### Runtime guard failures"):out.index("### By category")]
    assert "| Test | Kind | Call | Called from | Category |" in section
    odd = next(line for line in section.splitlines() if "test_odd" in line)
    # The test id in a code span whose fence is longer than its backtick runs; the call
    # with pipes, emphasis, code and HTML escaped: nothing of the user's is rendered.
    assert odd == ("| `` tests/unit/test_calls.py::test_odd[<b>\\|`md`] `` | subprocess | "
                   "subprocess.Popen(\\['true', 'a\\|b\\*c\\*&lt;i&gt;\\`x\\`'\\]) | "
                   "tests/unit/test\\_calls.py:14 in test\\_odd() | unit |")
    assert "### Runtime guard warnings (forbidden calls, mode warn)" in out


@pytest.mark.slow  # a real run then the audit: near 10 s under load
def test_results_without_the_recorded_mode_are_judged_by_the_policy_and_warnings_pass(
        audited, capsys):
    results = audited.path / "results" / "run.xml"
    text = results.read_text()
    assert text.count('name="test_policy.guard_mode" value="strict"') == 3
    assert text.count('name="test_policy.guard_mode" value="warn"') == 1
    results.write_text(re.sub(r'<property name="test_policy.guard_mode" value="\w+" ?/>', "",
                              text))
    code, out = audit_of(audited, capsys, "results")
    assert code == 1
    assert out.rstrip().endswith("runtime guard: 3 failures, 1 warning")
    # The warned test alone: the audit passes, unless warnings fail it.
    tree = ET.parse(results)
    for suite in tree.getroot().iter("testsuite"):  # keep the component test's case only
        for case in [c for c in suite if c.tag == "testcase"]:
            if "component" not in case.get("classname", ""):
                suite.remove(case)
    for props in tree.getroot().iter("properties"):  # else the audit says: cut short
        for prop in [p for p in props if p.get("name") == "test_policy.collected"]:
            props.remove(prop)
    tree.write(results)
    code, out = audit_of(audited, capsys, "results")
    assert code == 0
    assert "RUNTIME GUARD FAILURES" not in out
    assert out.rstrip().endswith("runtime guard: 0 failures, 1 warning")
    assert audit_of(audited, capsys, "results", "--fail-on-warning")[0] == 1
