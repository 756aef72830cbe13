"""What a test stopped at its kill point leaves running (real runs in a subprocess: the
kill point is a real SIGALRM, the processes real children of the inner pytest)."""

import os
import time
from pathlib import Path

import pytest

from tests.integration.policy_project import ONE_CATEGORY, clean_environment, write_policy

OUTER = 25  # seconds: the outer limit on one inner pytest run

STARTS_AND_HANGS = """
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pytest

    def start(name):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        Path(name).write_text(str(child.pid))
        return child

    @pytest.fixture
    def server():
        start("fixture.pid")
        time.sleep(30)  # hangs while starting: its finalizer never runs
        yield

    @pytest.fixture(scope="session")
    def shared():
        child = start("session.pid")
        yield child
        child.terminate()
        child.wait()

    def test_hangs_in_its_fixture(server):
        pass

    def test_hangs_after_starting_one(shared):
        start("call.pid")
        time.sleep(30)

    def test_the_session_server_is_still_up(shared):
        assert shared.poll() is None

    @pytest.fixture(scope="session")
    def lazy():
        child = start("lazy.pid")
        yield child
        child.terminate()
        child.wait()

    def test_asks_for_a_session_server_in_its_call_then_hangs(request):
        request.getfixturevalue("lazy")
        time.sleep(30)

    def test_the_lazy_session_server_is_still_up(lazy):
        assert lazy.poll() is None
"""

SESSION_SETUP_HANGS = """
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pytest

    @pytest.fixture(scope="session")
    def server():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        Path("broken.pid").write_text(str(child.pid))
        time.sleep(30)  # stopped at the largest kill point, half-way through its setup
        yield child

    def test_needs_it(server):
        pass
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def gone_soon(pid: int, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # nosemgrep: test-policy.real-sleep (polls a real process)
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_processes_a_stopped_test_started_are_terminated_and_a_session_server_is_kept(
        pytester, monkeypatch):
    clean_environment(monkeypatch)
    write_policy(pytester, unit_limit=0.1, kill_after=4)  # stopped at 0.4 s
    pytester.makepyfile(**{"tests/unit/test_servers": STARTS_AND_HANGS})
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=OUTER)
    try:
        result.assert_outcomes(passed=2, errors=1, failed=2)
        pids = {name: int((pytester.path / f"{name}.pid").read_text())
                for name in ("fixture", "call", "session", "lazy")}
        result.stdout.fnmatch_lines([
            "processes left running by tests stopped at their kill point (terminated):",
            f"  tests/unit/test_servers.py::test_hangs_in_its_fixture: pid {pids['fixture']} "
            "(*python -c import time; time.sleep(60))",
            f"  tests/unit/test_servers.py::test_hangs_after_starting_one: pid {pids['call']} "
            "(*python -c import time; time.sleep(60))",
        ])
        # The session fixtures' processes, started in a stopped test's setup or call, were
        # kept for the tests after it (which passed) and ended by their finalizers.
        assert f"pid {pids['session']} (" not in result.stdout.str()
        assert f"pid {pids['lazy']} (" not in result.stdout.str()
    finally:
        for pid_file in pytester.path.glob("*.pid"):  # never leave them, pass or fail
            pid = int(pid_file.read_text())
            if alive(pid):
                os.kill(pid, 9)
    assert all(gone_soon(pid) for pid in pids.values())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_broad_fixture_stopped_half_way_through_its_own_setup_leaves_no_process(
        pytester, monkeypatch):
    clean_environment(monkeypatch)
    (pytester.path / "policy.yaml").write_text(ONE_CATEGORY)
    pytester.makepyfile(**{"tests/unit/test_broken": SESSION_SETUP_HANGS})
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=OUTER)
    pid = int((pytester.path / "broken.pid").read_text())
    try:
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines([
            f"  tests/unit/test_broken.py::test_needs_it: pid {pid} (*time.sleep(60))"])
    finally:
        if alive(pid):
            os.kill(pid, 9)
    assert gone_soon(pid)
