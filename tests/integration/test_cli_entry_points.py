import subprocess
import sys

from test_policy_engine import __version__


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
