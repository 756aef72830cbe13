"""End to end: real git, real pre-commit, the generated rules and this repository's hooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_policy_engine.cli.generate import write_rules
from test_policy_engine.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
REAL_SLEEP = "import time\n\n\ndef test_retry_logic():\n    time.sleep(2)\n"
MOCKED_TWIN = ("import time\n\n\ndef test_retry_logic(mocker):\n"
               "    mocker.patch('time.sleep')\n    time.sleep(2)\n")


def hooks(language: str) -> str:
    """This repository's .pre-commit-config.yaml, with the Semgrep hook in `language`."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    for hook in config["repos"][0]["hooks"]:
        if hook["id"] == "test-policy-semgrep" and language == "system":
            hook["language"] = "system"  # the installed Semgrep: no environment to build
            del hook["additional_dependencies"]
    return yaml.safe_dump(config, sort_keys=False)


def make_repo(where: Path, language: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), str(Path(sys.executable).parent),
                                   env.get("PATH", "")])
    env.update({"PRE_COMMIT_HOME": str(where / ".pre-commit-home"), "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                "SEMGREP_ENABLE_VERSION_CHECK": "0"})
    if language == "system":  # tests share one pre-commit store: nothing is built in it
        env["PRE_COMMIT_HOME"] = str(where.parent / "pre-commit-home")
    repo = where / "repo"
    (repo / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "policy.yaml", repo / "policy.yaml")
    shutil.copy(ROOT / ".semgrepignore", repo / ".semgrepignore")
    write_rules(load_policy(repo / "policy.yaml"), repo / "rules")
    (repo / ".pre-commit-config.yaml").write_text(hooks(language))
    git(repo, env, "init", "-q", "-b", "main")
    run(repo, env, sys.executable, "-m", "pre_commit", "install")
    git(repo, env, "add", "-A")
    first = commit(repo, env, "policy and rules")
    assert first.returncode == 0, first.stdout
    return env


def run(repo: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    """Run `command`; its stdout holds both streams with runs of white space made one space
    (Semgrep wraps its messages to the terminal's width)."""
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    done = subprocess.run(command, cwd=repo, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    done.stdout = " ".join(done.stdout.split())
    return done


def git(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = run(repo, env, "git", *args)
    assert done.returncode == 0, done.stdout
    return done


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return run(repo, env, "git", "commit", "-q", "-m", message)


def commit_test(repo: Path, env: dict[str, str], text: str) -> subprocess.CompletedProcess[str]:
    (repo / "tests" / "test_retry.py").write_text(text)
    git(repo, env, "add", "tests/test_retry.py")
    return commit(repo, env, "a test")


@pytest.mark.slow  # several real Semgrep or git+pre-commit runs: over 5 s under load
def test_a_real_sleep_is_rejected_with_the_rule_message_and_the_mocked_twin_commits(
    tmp_path: Path,
):
    env = make_repo(tmp_path, "system")
    repo = tmp_path / "repo"
    rejected = commit_test(repo, env, REAL_SLEEP)
    assert rejected.returncode == 1
    assert "test-policy.real-sleep" in rejected.stdout
    assert "a real sleep makes the test wait for wall-clock time" in rejected.stdout
    assert "# nosemgrep: test-policy.real-sleep" in rejected.stdout
    accepted = commit_test(repo, env, MOCKED_TWIN)
    assert accepted.returncode == 0, accepted.stdout
    assert "tests/test_retry.py" in git(repo, env, "ls-files").stdout.split()


HELPER_SLEEP = "import time\n\n\ndef wait_for_server():\n    time.sleep(2)\n"


@pytest.mark.slow  # several real git+pre-commit runs: over 5 s under load
def test_the_hook_selects_files_as_lint_does_a_helper_is_scanned_an_excluded_example_is_not(
    tmp_path: Path,
):
    env = make_repo(tmp_path, "system")
    repo = tmp_path / "repo"
    (repo / "tests" / "lib").mkdir()
    (repo / "tests" / "lib" / "server.py").write_text(HELPER_SLEEP)
    git(repo, env, "add", "tests/lib/server.py")
    rejected = commit(repo, env, "a helper")
    assert rejected.returncode == 1, rejected.stdout
    assert "tests/lib/server.py:5:5: test-policy.real-sleep" in rejected.stdout
    git(repo, env, "rm", "-q", "--cached", "tests/lib/server.py")
    (repo / "examples" / "shop" / "tests").mkdir(parents=True)
    (repo / "examples" / "shop" / "tests" / "test_slow.py").write_text(REAL_SLEEP)
    git(repo, env, "add", "examples")
    accepted = commit(repo, env, "the deliberately slow example (lint.exclude: examples/**)")
    assert accepted.returncode == 0, accepted.stdout


@pytest.mark.slow  # several real Semgrep or git+pre-commit runs: over 5 s under load
def test_editing_the_policy_without_regenerating_the_rules_is_rejected(tmp_path: Path):
    env = make_repo(tmp_path, "system")
    repo = tmp_path / "repo"
    policy = repo / "policy.yaml"
    policy.write_text(policy.read_text().replace("min_seconds: 0.01", "min_seconds: 0.1", 1))
    git(repo, env, "add", "policy.yaml")
    rejected = commit(repo, env, "loosen the sleep rule")
    assert rejected.returncode == 1
    assert "rules/real-sleep.yaml (generated from policy.yaml)" in rejected.stdout
    assert "run `test-policy generate`" in rejected.stdout
    regenerated = run(repo, env, sys.executable, "-m", "test_policy_engine", "generate")
    assert regenerated.returncode == 0, regenerated.stdout
    git(repo, env, "add", "-A")
    accepted = commit(repo, env, "loosen the sleep rule, with its rules")
    assert accepted.returncode == 0, accepted.stdout


@pytest.mark.timeout(120)  # pre-commit pip-installs semgrep into its isolated env: 10-25 s
def test_the_isolated_semgrep_hook_rejects_a_real_sleep_as_users_run_it(tmp_path: Path):
    env = make_repo(tmp_path, "python")
    repo = tmp_path / "repo"
    rejected = commit_test(repo, env, REAL_SLEEP)
    assert rejected.returncode == 1, rejected.stdout
    assert "a real sleep makes the test wait for wall-clock time" in rejected.stdout
    accepted = commit_test(repo, env, MOCKED_TWIN)
    assert accepted.returncode == 0, accepted.stdout


def test_pre_commit_accepts_the_config_and_the_hooks_manifest():
    for command, name in (("validate-config", ".pre-commit-config.yaml"),
                          ("validate-manifest", ".pre-commit-hooks.yaml")):
        # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
        done = subprocess.run([sys.executable, "-m", "pre_commit", command, name], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(180)  # pre-commit installs this package and Semgrep twice: 25 s here
def test_another_repository_uses_the_hooks_with_repo_and_rev(tmp_path: Path):
    env = make_repo(tmp_path, "system")
    repo = tmp_path / "repo"
    head = git(ROOT, env, "rev-parse", "HEAD").stdout.strip()
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{
        "repo": str(ROOT), "rev": head,
        "hooks": [{"id": "test-policy-rules-in-sync"}, {"id": "test-policy-semgrep"}],
    }]}))
    env["PRE_COMMIT_HOME"] = str(tmp_path / "isolated-pre-commit-home")
    git(repo, env, "add", ".pre-commit-config.yaml")
    rejected = commit_test(repo, env, REAL_SLEEP)
    assert rejected.returncode == 1, rejected.stdout
    assert "rules/ in sync with policy.yaml" in rejected.stdout
    assert "a real sleep makes the test wait for wall-clock time" in rejected.stdout
    accepted = commit_test(repo, env, MOCKED_TWIN)
    assert accepted.returncode == 0, accepted.stdout


TEN_HOOKS = ("# A team's own hooks, with comments that must survive `test-policy init`.\n"
             "repos:\n") + "".join(
    f"  # hook {n}: keep me\n  - repo: local\n    hooks:\n      - id: own-{n}\n"
    f"        name: own hook {n}\n        entry: 'true'\n        language: system\n"
    f"        pass_filenames: false\n" for n in range(10)) + "# trailing comment\n"


def test_init_in_a_repository_with_ten_hooks_keeps_every_byte_and_pre_commit_accepts_it(
        tmp_path):
    env = make_repo(tmp_path, "system")
    repo = tmp_path / "repo"
    for name in ("policy.yaml", ".semgrepignore"):
        (repo / name).unlink()
    (repo / ".pre-commit-config.yaml").write_text(TEN_HOOKS)
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", "init"], cwd=repo,
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    merged = (repo / ".pre-commit-config.yaml").read_text()
    assert merged.startswith(TEN_HOOKS.removesuffix("# trailing comment\n"))
    assert merged.endswith("# trailing comment\n")
    valid = run(repo, env, sys.executable, "-m", "pre_commit", "validate-config",
                ".pre-commit-config.yaml")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    ids = [h["id"] for r in yaml.safe_load(merged)["repos"] for h in r["hooks"]]
    assert ids == [f"own-{n}" for n in range(10)] + ["test-policy-rules-in-sync",
                                                      "test-policy-semgrep"]
