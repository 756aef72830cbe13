"""Every command the docs show is run, and the output they show is what it prints.

A ```console block in README.md or docs/*.md holds `$ command` lines, each followed by
the output the reader should see (lines with `...` are elisions and are not checked).
The commands run in a fresh copy of the repository's tracked files, so commands that
write files (generate, init, schema -o) do not touch the checkout. `make demo` and
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


def console_commands() -> list[tuple[str, int, str, list[str]]]:
    """(doc, line, command, expected output lines) for every `$ ` line of every console block."""
    found = []
    for doc in doc_files():
        lines = doc.read_text().splitlines()
        inside = False
        current: tuple[str, int, str, list[str]] | None = None
        for number, line in enumerate(lines, 1):
            if line.startswith("```"):
                if inside and current:
                    found.append(current)
                    current = None
                inside = line.strip() == "```console"
                continue
            if not inside:
                continue
            if line.startswith("$ "):
                if current:
                    found.append(current)
                current = (doc.relative_to(ROOT).as_posix(), number, line[2:], [])
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


def test_the_readme_shows_the_two_commands_and_others_to_run():
    shown = {bare(c[2]) for c in console_commands() if c[0] == "README.md"}
    assert {"make demo", "make test"} <= shown
    assert len(COMMANDS) >= 1


@pytest.mark.parametrize(("doc", "line", "command", "expected"), COMMANDS,
                         ids=[f"{c[0]}:{c[1]}" for c in COMMANDS])
def test_each_documented_command_prints_what_the_docs_show(sandbox, doc, line, command,
                                                           expected):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(["bash", "-c", command], cwd=sandbox, capture_output=True, text=True,
                          env=env, check=False, timeout=60)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode in (0, 1, 2), output
    for wanted in expected:
        missing = f"{doc}:{line}: `{command}` did not print:\n{wanted}\n---\n{output}"
        assert wanted in output, missing
