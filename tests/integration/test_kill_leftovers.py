"""What a test stopped at its kill point leaves running (real runs in a subprocess: the
kill point is a real SIGALRM, the processes real children of the inner pytest)."""

import os
import time
from pathlib import Path

import pytest

from tests.integration.policy_project import write_policy

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
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_processes_a_stopped_test_started_are_terminated_and_a_session_server_is_kept(
        pytester, monkeypatch):
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    write_policy(pytester, unit_limit=0.1, kill_after=4)  # stopped at 0.4 s
    pytester.makepyfile(**{"tests/unit/test_servers": STARTS_AND_HANGS})
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=OUTER)
    try:
        result.assert_outcomes(passed=1, errors=1, failed=1)
        pids = {name: int((pytester.path / f"{name}.pid").read_text())
                for name in ("fixture", "call", "session")}
        result.stdout.fnmatch_lines([
            "processes left running by tests stopped at their kill point (terminated):",
            f"  tests/unit/test_servers.py::test_hangs_in_its_fixture: pid {pids['fixture']} "
            "(*python -c import time; time.sleep(60))",
            f"  tests/unit/test_servers.py::test_hangs_after_starting_one: pid {pids['call']} "
            "(*python -c import time; time.sleep(60))",
        ])
        # The session fixture's process, started in the second test's setup, was kept
        # for the third test (which passed) and ended by its own finalizer.
        assert f"pid {pids['session']} (" not in result.stdout.str()
    finally:
        for pid_file in pytester.path.glob("*.pid"):  # never leave them, pass or fail
            pid = int(pid_file.read_text())
            if alive(pid):
                os.kill(pid, 9)
    assert all(gone_soon(pid) for pid in pids.values())
