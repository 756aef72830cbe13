"""The baseline of rule findings, end to end: real Semgrep, real git merges, real pre-commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_policy_engine.cli.main import main

from tests.integration.test_pre_commit import commit, commit_test, git, make_repo, run

ROOT = Path(__file__).resolve().parents[2]
TWO_SLEEPS = ("import time\n\n\ndef test_retry():\n    time.sleep(2)\n\n\n"
              "def test_backoff():\n    time.sleep(3)\n")
THIRD = "\n\ndef test_poll():\n    time.sleep(4)\n"
SLOW_LINE = "slow tests/test_app.py::test_export unit 2.000 # the export, #7\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped policy and a test file with two real sleeps; Semgrep on PATH."""
    shutil.copy(ROOT / "policy.yaml", tmp_path / "policy.yaml")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_retry.py").write_text(TWO_SLEEPS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", os.pathsep.join([str(ROOT / ".tools" / "bin"),
                                                os.environ.get("PATH", "")]))
    monkeypatch.setenv("SEMGREP_ENABLE_VERSION_CHECK", "0")
    return tmp_path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["lint", *args])
    return code, capsys.readouterr().out


def entries(project: Path, kind: str = "finding") -> list[str]:
    return [line for line in (project / ".test-policy-baseline").read_text().splitlines()
            if line.startswith(kind + " ")]


@pytest.mark.slow  # four real Semgrep scans
def test_two_findings_are_green_after_baseline_and_a_third_fails_by_name(project, capsys):
    assert lint(capsys)[0] == 1
    assert main(["baseline"]) == 0
    assert len(entries(project)) == 2
    assert "# time.sleep(2)" in entries(project)[1] + entries(project)[0]
    code, out = lint(capsys)
    assert code == 0, out
    assert out.endswith("no new findings in 1 file scanned; 2 known findings in the baseline\n")
    with (project / "tests" / "test_retry.py").open("a") as handle:
        handle.write(THIRD)
    code, out = lint(capsys)
    assert code == 1
    assert "tests/test_retry.py:13:5: test-policy.real-sleep: A real time.sleep()" in out
    assert "    | time.sleep(4)" in out
    assert "1 finding (test-policy.real-sleep) in 1 file of 1 file scanned; 2 known" in out


@pytest.mark.slow  # two real Semgrep scans
def test_a_baselined_finding_moved_down_by_added_lines_stays_known(project, capsys):
    main(["baseline"])
    test = project / "tests" / "test_retry.py"
    test.write_text('"""Retries."""\nimport os\n\n\ndef test_env():\n    assert os.sep\n\n\n'
                    + test.read_text().replace("import time\n", "import time  # moved\n"))
    code, out = lint(capsys)
    assert code == 0, out
    assert "tests/test_retry.py:13:5: test-policy.real-sleep: known finding" in out


@pytest.mark.slow  # four real Semgrep scans
def test_a_fixed_finding_fails_until_pruned_and_prune_drops_only_its_entry(project, capsys):
    (project / ".test-policy-baseline").write_text(SLOW_LINE)
    main(["baseline"])
    kept = [line for line in entries(project) if "time.sleep(2)" in line]
    test = project / "tests" / "test_retry.py"
    test.write_text(test.read_text().replace("time.sleep(3)", "pass"))
    code, out = lint(capsys)
    assert code == 1
    assert ("tests/test_retry.py: test-policy.real-sleep: fixed: the baseline entry "
            in out)
    assert "(time.sleep(3)) matches nothing in this file now; hint: drop it with " in out
    test.write_text(test.read_text() + THIRD)  # a new finding: prune must not record it
    assert main(["baseline", "--prune"]) == 0
    assert entries(project) == kept
    assert entries(project, "slow") == [SLOW_LINE.rstrip("\n")]
    code, out = lint(capsys)
    assert (code, out.count("known finding, in")) == (1, 1)
    assert "time.sleep(4)" in out


@pytest.mark.slow  # two real Semgrep scans
def test_an_expired_entry_fails_and_a_reason_and_date_survive_a_rewrite(project, capsys):
    main(["baseline"])
    path = project / ".test-policy-baseline"
    text = path.read_text()
    first, second = entries(project)
    path.write_text(text.replace(first, first.split(" # ")[0] + " until=2001-01-31 # ours")
                    .replace(second, second.split(" # ")[0] + " until=2999-01-31 # theirs"))
    code, out = lint(capsys)
    assert code == 1
    assert "test-policy.real-sleep: its baseline entry expired on 2001-01-31: A real" in out
    assert "1 baseline entry expired" in out
    capsys.readouterr()
    assert main(["baseline"]) == 0
    assert "2 findings (0 added, 0 pruned, 1 past their until= date (they fail); 1 file " in (
        capsys.readouterr().err)
    assert [line.split(" ", 4)[4] for line in entries(project)] == [
        "until=2001-01-31 # ours", "until=2999-01-31 # theirs"]


@pytest.mark.slow  # three real Semgrep scans
def test_a_scan_of_other_files_leaves_an_entry_alone_and_nosemgrep_still_works(project,
                                                                               capsys):
    main(["baseline"])
    test = project / "tests" / "test_retry.py"
    test.write_text(test.read_text().replace("time.sleep(3)", "pass"))
    (project / "tests" / "test_other.py").write_text(
        "import time\n\n\ndef test_wait():\n"
        "    time.sleep(1)  # nosemgrep: test-policy.real-sleep\n")
    code, out = lint(capsys, "tests/test_other.py")
    assert code == 0, out
    assert out == "no new findings in 1 file scanned\n"
    code, out = lint(capsys, "tests/test_retry.py")
    assert code == 1
    assert "fixed" in out


def git_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com"})
    return env


@pytest.mark.slow  # three real Semgrep scans and a dozen git commands
def test_two_branches_that_each_record_findings_merge_without_a_conflict(project, capsys):
    env = git_env(project)

    def git_ok(*args: str) -> str:
        done = run(project, env, "git", *args)
        assert done.returncode == 0, done.stdout
        return done.stdout

    def record(message: str, name: str = "", sleeps: str = "") -> None:
        if name:
            (project / "tests" / name).write_text(f"import time\n\n\ndef test_x():\n{sleeps}")
        assert main(["baseline"]) == 0
        git_ok("add", "-A")
        git_ok("commit", "-qm", message)

    git_ok("init", "-q", "-b", "main")
    record("two known findings")
    git_ok("checkout", "-qb", "a")
    record("a: one more", "test_a.py", "    time.sleep(5)\n")
    git_ok("checkout", "-q", "main")
    record("b: two more, identical", "test_b.py", "    time.sleep(6)\n" * 2)
    git_ok("merge", "-q", "--no-edit", "a")
    text = (project / ".test-policy-baseline").read_text()
    assert "<<<<<<<" not in text
    assert len(entries(project)) == 5
    code, out = lint(capsys)
    assert code == 0, out
    assert "5 known findings in the baseline" in out


@pytest.mark.slow  # real git + pre-commit, three commits through the Semgrep hook
def test_the_pre_commit_hook_passes_a_baselined_finding_and_rejects_a_new_one(tmp_path: Path):
    env = make_repo(tmp_path, "system")
    repo = tmp_path / "repo"
    (repo / "tests" / "test_known.py").write_text(TWO_SLEEPS)
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", "baseline"], cwd=repo,
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "2 findings (2 added, 0 pruned; 1 file scanned)" in done.stderr
    git(repo, env, "add", "-A")
    accepted = commit(repo, env, "a suite with known debt")
    assert accepted.returncode == 0, accepted.stdout
    rejected = commit_test(repo, env, "import time\n\n\ndef test_retry_logic():\n"
                                      "    time.sleep(2)\n")
    assert rejected.returncode == 1, rejected.stdout
    assert "tests/test_retry.py:5:5: test-policy.real-sleep" in rejected.stdout
    assert "test_known.py" not in rejected.stdout  # not staged: neither scanned nor judged
