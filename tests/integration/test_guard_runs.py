"""The runtime guard in real pytest runs (a subprocess each, serial inside).

No test here ever reaches another machine: blocked calls name TEST-NET-1 addresses
(192.0.2.0/24, RFC 5737), which the guard stops before any packet is sent, and allowed
ones reach a listener on loopback.
"""

import pytest

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
