"""`test-policy lint [FILES]`: run Semgrep with the policy's rules, for use without pre-commit.

The rules are rendered from the policy into a temporary directory, so `lint` never runs
stale rules. Semgrep is not a runtime dependency (its pins clash with test environments):
it is looked up on PATH.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from engine.files import write_atomic
from engine.globs import first_match
from engine.loader import load_policy
from engine.semgrep_rules import render_rules

HELP = "scan test files with the policy's Semgrep rules (exit 1 on findings)"

INSTALL = "pip install 'test-policy-engine[semgrep]'"
#: Semgrep's OCaml CLI (`--experimental`): the same findings on every rule test, about
#: 6x faster on a typical commit (benchmarks/bench_semgrep_hook.py).
SEMGREP_ARGS = ("scan", "--experimental", "--quiet", "--error", "--metrics=off",
                "--disable-version-check")
SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules",
                       "__pycache__", "build", "dist", ".tools"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="files to scan (default: the files lint.paths selects)")


def test_files(root: Path, globs: Iterable[str]) -> list[Path]:
    """Python files under `root` that one of the lint globs selects, sorted."""
    patterns = tuple(globs)
    found = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in names:
            if not name.endswith(".py"):
                continue
            path = Path(directory, name)
            rel = path.relative_to(root).as_posix()
            if first_match(patterns, rel) is not None:
                found.append(path)
    return sorted(found)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    semgrep = shutil.which("semgrep")
    if semgrep is None:
        print(f"test-policy lint: semgrep not found on PATH; install it with: {INSTALL}",
              file=sys.stderr)
        return 2
    if args.files:
        files = list(args.files)
    else:
        root = Path(args.policy).parent
        files = [os.path.relpath(path) for path in test_files(root, policy.lint.paths)]
    if not files:
        print("test-policy lint: no test files to scan", file=sys.stderr)
        return 0
    rules = {name: text for name, text in render_rules(policy).items() if name.endswith(".yaml")}
    if not rules:
        print("test-policy lint: the policy bans no patterns", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="test-policy-rules-") as tmp:
        for name, text in rules.items():
            write_atomic(Path(tmp, name), text)
        command = [semgrep, *SEMGREP_ARGS, "--config", tmp, *files]
        code = subprocess.run(command, check=False).returncode
    if code in (0, 1):
        return code
    print(f"test-policy lint: semgrep failed (exit {code})", file=sys.stderr)
    return 2
