"""`test-policy init` in a repository that already has hooks: real git, pre-commit, Semgrep."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Ten hooks that need no network (meta and local), with comments, odd spacing, a `ci:`
#: section after `repos:` and no newline at the end: init must keep every byte of it.
TEN_HOOKS = """\
# Our hooks: do not reorder (the formatter must run before the linters).
default_stages: [pre-commit]
repos:
-   repo: meta
    hooks:
    -   id: check-hooks-apply     # every hook must match a file
    -   id: check-useless-excludes
    -   id: identity
        files: ^README
# local tools, installed with the dev dependencies
-   repo: local
    hooks:
    -   id: fmt
        name: 'format'
        entry: "true"
        language: system
    -   id: lint-a
        name: lint a
        entry: "true"
        language: system
        types: [python]
    -   id: lint-b
        name: lint b
        entry: 'true'
        language: system
        pass_filenames: false
    -   id: lint-c
        name: lint c
        entry: "true"
        language: system
    -   id: lint-d
        name: lint d
        entry: "true"
        language: system
    -   id: lint-e
        name: lint e
        entry: "true"
        language: system
    -   id: no-fixme
        name: no FIXME
        entry: FIXME
        language: pygrep
        types: [python]

# pre-commit.ci settings
ci:
    autofix_prs: false
    skip: [fmt]"""

REAL_SLEEP = "import time\n\n\ndef test_waits():\n    time.sleep(2)\n"


def environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), str(Path(sys.executable).parent),
                                   env.get("PATH", "")])
    env.update({"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
                "GIT_CONFIG_GLOBAL": os.devnull, "SEMGREP_ENABLE_VERSION_CHECK": "0"})
    return env


def run(repo: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tools)
    return subprocess.run(command, cwd=repo, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)


def without_added_lines(merged: str, added: str) -> str:
    """`merged` with the block of `added` lines taken out (where init inserted it)."""
    start = merged.index(added)
    return merged[:start] + merged[start + len(added):]


@pytest.mark.slow  # git, pre-commit (ten hooks and the engine's) and Semgrep: over 5 s here
def test_init_keeps_every_byte_of_a_ten_hook_config_and_its_hooks_then_pass(tmp_path: Path):
    from test_policy_engine.adopt import scaffold

    env = environment(tmp_path)
    repo = tmp_path / "repo"
    (repo / "tests" / "unit").mkdir(parents=True)
    (repo / "tests" / "unit" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (repo / "README").write_text("a project\n")
    (repo / ".pre-commit-config.yaml").write_text(TEN_HOOKS)
    assert run(repo, env, "git", "init", "-q").returncode == 0

    done = run(repo, env, sys.executable, "-m", "test_policy_engine", "init")
    assert done.returncode == 0, done.stdout
    assert "updated (the engine's hooks appended to `repos:`)" in done.stdout
    merged = (repo / ".pre-commit-config.yaml").read_text()
    entry = scaffold.render_hooks_entry(scaffold.detect_layout(["tests", "tests/unit"]),
                                        "policy.yaml")
    assert without_added_lines(merged, entry) == TEN_HOOKS
    assert merged.endswith(TEN_HOOKS[TEN_HOOKS.index("\n# pre-commit.ci"):])

    valid = run(repo, env, sys.executable, "-m", "pre_commit", "validate-config")
    assert valid.returncode == 0, valid.stdout
    run(repo, env, "git", "add", "-A")
    env_skip = dict(env, SKIP="test-policy-semgrep")  # its environment is pip-installed
    hooks = run(repo, env_skip, sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert hooks.returncode == 0, hooks.stdout
    for name in ("format", "lint e", "no FIXME", "test-policy rules in sync with policy.yaml"):
        assert name in hooks.stdout

    (repo / "tests" / "unit" / "test_slow.py").write_text(REAL_SLEEP)
    scan = run(repo, env, "semgrep", "scan", "--config", "rules/", "--error", "--metrics=off",
               "--disable-version-check", "--quiet", ".")
    assert scan.returncode == 1, scan.stdout  # the test directory is scanned: .semgrepignore
    assert "test-policy.real-sleep" in scan.stdout

    again = run(repo, env, sys.executable, "-m", "test_policy_engine", "init")
    assert "nothing to change" in again.stdout, again.stdout
    assert (repo / ".pre-commit-config.yaml").read_text() == merged


def test_two_branches_that_each_record_a_slow_test_merge_without_a_conflict(tmp_path: Path):
    env = environment(tmp_path)
    env.update({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "policy.yaml").write_text(
        "version: 1\ncategories:\n  unit:\n    limit: 1\n    default: true\n")

    def record(*names: str) -> None:
        cases = "".join(f'<testcase classname="tests.test_app" name="{n}" time="2.0"/>'
                        for n in names)
        (tmp_path / "results.xml").write_text(f"<testsuite>{cases}</testsuite>")
        done = run(repo, env, sys.executable, "-m", "test_policy_engine", "baseline",
                   str(tmp_path / "results.xml"))
        assert done.returncode == 0, done.stdout

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        done = run(repo, env, "git", *args)
        assert done.returncode == 0, done.stdout
        return done

    git("init", "-q", "-b", "main")
    record("test_m")
    git("add", "-A")
    git("commit", "-qm", "baseline")
    git("checkout", "-qb", "a")
    record("test_m", "test_n1")
    git("commit", "-qam", "a")
    git("checkout", "-q", "main")
    record("test_m", "test_n2")
    git("commit", "-qam", "b")
    git("merge", "-q", "--no-edit", "a")
    text = (repo / ".test-policy-baseline").read_text()
    for name in ("test_m", "test_n1", "test_n2"):
        assert f"tests/test_app.py::{name} unit 2.000\n" in text
    assert "<<<<<<<" not in text


#: A suite whose session fixture binds one fixed port, as httpx's test server does: two
#: workers cannot both hold it, and the second one's tests error. Under xdist, a worker
#: that holds the port waits (at most MEET_SECONDS) until every worker has tried to bind it
#: or finished its session, so the sessions really overlap as they do on a busy CI machine;
#: without that meeting, a worker that starts late on a loaded machine can find the other
#: has already run every server test and closed the port, and there is no conflict to find.
#: A worker arrives before it binds, so the one that fails does not keep the holder waiting;
#: the bound on the wait is short because the check runs twice (once with the file in a
#: group, when no other worker comes before its session ends): a wait that reached 30 s,
#: under load, made this test 48 s long against 5 s on an idle machine.
FIXED_PORT_CONFTEST = """\
import os
import socket
import time
from pathlib import Path

import pytest

PORT = {port}
MEETING = Path({meeting!r})
MEET_SECONDS = 5


def arrive():
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return None
    here = MEETING / os.environ["PYTEST_XDIST_TESTRUNUID"]
    here.mkdir(parents=True, exist_ok=True)
    (here / os.environ["PYTEST_XDIST_WORKER"]).touch()
    return here


def meet(here):
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    deadline = time.monotonic() + MEET_SECONDS
    while here is not None and len(list(here.iterdir())) < workers:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)


def pytest_sessionfinish(session):
    arrive()  # a worker that ran no server test does not keep the others waiting


@pytest.fixture(scope="session")
def server():
    here = arrive()
    sock = socket.socket()
    sock.bind(("127.0.0.1", PORT))
    sock.listen()
    meet(here)
    yield PORT
    sock.close()
"""
USES_SERVER = ("import pytest\n\n\n@pytest.mark.parametrize('n', range(8))\n"
               "def test_gets(server, n):\n    assert server\n")
ALONE = ("import pytest\n\n\n@pytest.mark.parametrize('n', range(8))\n"
         "def test_adds(n):\n    assert n + 1 > n\n")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.slow  # a serial and two parallel runs of a real suite (xdist workers)
def test_check_parallel_groups_the_files_whose_tests_cannot_bind_a_fixed_port_in_parallel(
        tmp_path: Path):
    env = environment(tmp_path)
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "conftest.py").write_text(FIXED_PORT_CONFTEST.format(
        port=free_port(), meeting=str(tmp_path / "meeting")))
    (repo / "tests" / "test_server.py").write_text(USES_SERVER)
    (repo / "tests" / "test_alone.py").write_text(ALONE)
    assert run(repo, env, sys.executable, "-m", "test_policy_engine", "init").returncode == 0
    policy = repo / "policy.yaml"
    policy.write_text(policy.read_text().replace("  workers: auto\n",
                                                 "  workers: auto  # ours: keep it\n"))
    before = policy.read_text()

    done = run(repo, env, sys.executable, "-m", "test_policy_engine", "init",
               "--check-parallel", "--write")
    assert done.returncode == 0, done.stdout
    assert "serial run: 16 tests, 16 passed" in done.stdout
    assert "tests/test_server.py::test_gets[" in done.stdout
    assert "Address already in use" in done.stdout
    assert "tests/test_alone.py" not in done.stdout
    assert '+    not_parallel_safe: ["tests/test_server.py"]' in done.stdout  # the diff
    # the second parallel run, with the group, is the proof: no test fails in it
    assert "with 1 file in group not_parallel_safe): 0 tests failed only in parallel" in (
        done.stdout)
    after = policy.read_text()
    assert [line for line in before.splitlines() if line not in after.splitlines()] == []
    from test_policy_engine.policy.loader import load_policy

    assert dict(load_policy(policy).parallel.groups) == {
        "not_parallel_safe": ("tests/test_server.py",)}
