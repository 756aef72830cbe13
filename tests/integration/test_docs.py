"""Every command the docs show is run, and the output they show is what it prints.

A ```console block in README.md or docs/*.md holds `$ command` lines, each followed by
the output the reader should see (lines with `...` are elisions and are not checked).
The commands run in a fresh copy of the repository's tracked files, so commands that
write files (generate, init, schema -o) do not touch the checkout. A block preceded by
`<!-- docs-test: new-repo DIR... -->` runs in a new git repository holding just those
directories instead (for `init`, which is meant for another repository); each of its commands
gets a repository of its own. A block preceded by `<!-- docs-test: walkthrough DIR... -->`
is one story: its commands run in order in one new repository, each on what the ones before
it left. `make demo` and
`make test` are the exceptions: `make test` is what CI runs, and the demo has its own
test (tests/integration/test_demo.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

RUN_ELSEWHERE = {
    "make test": "CI runs it (.ci/run)",
    "make demo": "tests/integration/test_demo.py runs the demo",
}


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


Command = tuple[str, int, str, list[str], tuple[str, ...]]
NEW_REPO = "<!-- docs-test: new-repo"
WALKTHROUGH = "<!-- docs-test: walkthrough"


def console_commands(walkthroughs: bool = False) -> list[Command]:
    """(doc, line, command, expected output, new-repo dirs) for every `$ ` line of the docs;
    with `walkthroughs`, those of walkthrough blocks only (dirs: the block's)."""
    found = []
    for doc in doc_files():
        lines = doc.read_text().splitlines()
        inside = False
        new_repo: tuple[str, ...] = ()
        walk = False
        current: Command | None = None
        for number, line in enumerate(lines, 1):
            for marker in (NEW_REPO, WALKTHROUGH):
                if line.startswith(marker):
                    new_repo = tuple(line[len(marker):].replace("-->", "").split()) or (".",)
                    walk = marker == WALKTHROUGH
            if line.startswith("<!-- docs-test:"):
                continue
            if line.startswith("```"):
                if inside and current and walk == walkthroughs:
                    found.append(current)
                if inside:
                    current = None
                    new_repo = ()
                    walk = False
                inside = line.strip() == "```console"
                continue
            if not inside:
                continue
            if line.startswith("$ "):
                if current and walk == walkthroughs:
                    found.append(current)
                current = (doc.relative_to(ROOT).as_posix(), number, line[2:], [], new_repo)
            elif current and line.strip() and "..." not in line:
                current[3].append(line)
    return found


def bare(command: str) -> str:
    return re.sub(r"\s+#.*$", "", command).strip()


COMMANDS = [c for c in console_commands() if bare(c[2]) not in RUN_ELSEWHERE]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("repo")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def walkthroughs() -> dict[tuple[str, tuple[str, ...]], list[Command]]:
    """The commands of each walkthrough block, in order, by (`doc:line` of the block, dirs)."""
    found: dict[tuple[str, tuple[str, ...]], list[Command]] = {}
    for command in console_commands(walkthroughs=True):
        doc, _, _, _, dirs = command
        same = [k for k in found if k[0].startswith(f"{doc}:") and k[1] == dirs]
        last = found[same[-1]][-1] if same else None
        # a block's commands are consecutive `$` lines of one doc: a gap of plain text
        # (another block) starts a new key
        if last is not None and _same_block(doc, last[1], command[1]):
            found[same[-1]].append(command)
        else:
            found[(f"{doc}:{command[1]}", dirs)] = [command]
    return found


def _same_block(doc: str, first: int, second: int) -> bool:
    """Whether lines `first` and `second` of `doc` are inside one ``` block."""
    lines = (ROOT / doc).read_text().splitlines()[first:second - 1]
    return not any(line.startswith("```") for line in lines)


def _run_shown(cwd: Path, command: Command) -> None:
    doc, line, shown, expected, _ = command
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(["bash", "-c", shown], cwd=cwd, capture_output=True, text=True,
                          env=env, check=False, timeout=60)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode in (0, 1, 2), output
    for wanted in expected:
        assert wanted in output, f"{doc}:{line}: `{shown}` did not print:\n{wanted}\n---\n{output}"


WALKTHROUGHS = walkthroughs()


# A story of several commands, two of them real pytest runs: about 12 s idle, 30 s beside
# two CPU hogs; its own limit, above the slow category's 30 s.
@pytest.mark.timeout(90)
@pytest.mark.parametrize("key", list(WALKTHROUGHS), ids=[k[0] for k in WALKTHROUGHS])
def test_each_walkthrough_runs_in_order_in_one_new_repository(tmp_path, key):
    repo = tmp_path / "repo"
    for directory in key[1]:
        (repo / directory).mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for command in WALKTHROUGHS[key]:
        _run_shown(repo, command)


def test_the_readme_shows_the_two_commands_and_others_to_run():
    shown = {bare(c[2]) for c in console_commands() if c[0] == "README.md"}
    assert {"make demo", "make test"} <= shown
    assert len(COMMANDS) >= 1


@pytest.mark.parametrize(("doc", "line", "command", "expected", "new_repo"), COMMANDS,
                         ids=[f"{c[0]}:{c[1]}" for c in COMMANDS])
def test_each_documented_command_prints_what_the_docs_show(sandbox, tmp_path, doc, line,
                                                           command, expected, new_repo):
    cwd = sandbox
    if new_repo:
        cwd = tmp_path / "repo"
        for directory in new_repo:
            (cwd / directory).mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q"], cwd=cwd, check=True)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True,
                          env=env, check=False, timeout=60)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode in (0, 1, 2), output
    for wanted in expected:
        missing = f"{doc}:{line}: `{command}` did not print:\n{wanted}\n---\n{output}"
        assert wanted in output, missing


#: Commands shown in ```sh blocks (syntax summaries, not sessions) -> the test that runs
#: each one for real. A new command in such a block fails until it is listed here.
SH_COMMANDS = {
    "pytest --timeout=0": "tests/integration/test_plugin_runs.py::"
                          "test_timeout_zero_on_the_command_line_lets_a_long_unit_test_finish",
    "pytest -n 0": "tests/integration/test_plugin_runs.py::"
                   "test_the_serial_escape_hatches_run_in_one_process",
    "TEST_POLICY_SERIAL=1 pytest": "tests/integration/test_plugin_runs.py::"
                                   "test_the_serial_escape_hatches_run_in_one_process",
    "pytest -p no:test_policy": "tests/integration/test_plugin_collection.py::"
                                "test_without_a_policy_the_plugin_leaves_every_test_as_it_was",
    "test-policy explain tests/integration/test_db.py":
        "tests/integration/test_plugin_collection.py::"
        "test_explain_collects_the_target_and_gives_each_tests_reason",
    "test-policy generate": "tests/unit/rules/test_semgrep_rules.py::"
                            "test_generate_writes_the_files_and_check_then_passes",
    "test-policy generate --check": "tests/unit/rules/test_semgrep_rules.py::"
                                    "test_check_shows_a_diff_of_a_hand_edit_and_writes_nothing",
    "test-policy lint [PATH ...]": "tests/integration/test_semgrep_rules.py::"
                                   "test_lint_from_a_subdirectory_on_a_helper_directory_scans_"
                                   "what_the_policy_selects",
    "semgrep --test rules/": "tests/integration/test_semgrep_rules.py::"
                             "test_the_generated_rule_tests_pass_under_semgrep_test",
}


def sh_commands() -> list[str]:
    found = []
    for doc in doc_files():
        inside = False
        for line in doc.read_text().splitlines():
            if line.startswith("```"):
                inside = line.strip() in ("```sh", "```bash", "```shell")
                continue
            if inside and line.strip() and not line.lstrip().startswith("#"):
                found.append(bare(line))
    return found


def test_every_command_in_a_sh_block_is_run_by_a_named_test():
    shown = sh_commands()
    assert shown, "no ```sh blocks found: the parser is broken"
    assert set(shown) == set(SH_COMMANDS), "list each shown command in SH_COMMANDS"
    for node in set(SH_COMMANDS.values()):
        path, name = node.split("::")
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, flags=re.M), f"{node} is gone"
