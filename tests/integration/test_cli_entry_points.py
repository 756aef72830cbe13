import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_policy_engine import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_the_cli_runs_as_python_dash_m_test_policy_engine():
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", "--version"],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, f"test-policy {__version__}\n")


def test_a_broken_policy_exits_2_without_a_traceback(tmp_path):
    (tmp_path / "policy.yaml").write_text("version: 2\ncategories: {}\n")
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", "check"],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("policy.yaml:1:10: version: must be one of 1 (got 2); "
                                  "hint: this engine reads policy version 1\n")


def test_a_command_started_with_stdout_closed_says_so_and_exits_2(tmp_path):
    done = subprocess.run(f"{sys.executable} -m test_policy_engine schema >&-", shell=True,
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == ("test-policy: standard output is closed; hint: redirect it to a "
                           "file or /dev/null\n")



def _loaded(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("library", ["_yaml", "pydantic_core", "_pydantic_core"])
def test_ctrl_c_while_the_command_is_still_importing_ends_quietly_without_a_traceback(
        tmp_path, library):
    (tmp_path / "policy.yaml").write_text((ROOT / "policy.yaml").read_text())
    proc = subprocess.Popen([sys.executable, "-m", "test_policy_engine", "check"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        # Interrupt as soon as the import of this library has begun (its shared object
        # is mapped): inside the command's own start-up, after Python's.
        while proc.poll() is None and not _loaded(proc.pid, library):
            time.sleep(0.001)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "Traceback" not in err
    assert proc.returncode in (130, 0), (proc.returncode, err)  # 0: it had finished
