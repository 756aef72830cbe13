"""`test-policy lint [PATH...]`: run Semgrep with the policy's rules, for use without pre-commit.

The rules are rendered from the policy into a temporary directory, so `lint` never runs
stale rules. The engine selects the files: named files and the files under named directories
that the lint globs select, matched relative to the policy's directory whatever the working
directory; a named path that yields no file is reported on stderr, never dropped silently.
Semgrep is not a runtime dependency (its pins clash with test environments):
it is looked up on PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from test_policy_engine.cli.files import write_atomic
from test_policy_engine.policy.globs import first_match
from test_policy_engine.policy.loader import load_policy
from test_policy_engine.policy.model import Lint
from test_policy_engine.rules.semgrep import combined_rules

HELP = "scan test files with the policy's Semgrep rules (exit 1 on findings)"

INSTALL = "pip install 'test-policy-engine[semgrep]'"
#: The standard command line. `--experimental` (Semgrep's OCaml CLI) is ~10x faster on a
#: commit, but in semgrep 1.180 it ignores a rule's `paths.exclude` and drops files a lone
#: `paths.include: [tests/**]` should select (measured), so lint.exclude and allowed_paths
#: would silently stop working.
SEMGREP_ARGS = ("scan", "--quiet", "--error", "--metrics=off", "--disable-version-check")
MISSING = "(no such file or directory)"
TMP_PREFIX = re.compile(r"[\w.-]*test-policy-rules-\w+\.")
SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules",
                       "__pycache__", "build", "dist", ".tools"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="PATH",
                        help="files or directories to scan, with the policy's lint globs "
                        "(default: every file lint.paths selects)")


def linted_files(root: Path, globs: Iterable[str], exclude: Iterable[str],
               under: Path | None = None) -> list[Path]:
    """Python files under `under` (default `root`) that one of the lint globs selects and none
    excludes, the globs matched against the path relative to `root`; sorted."""
    patterns = tuple(globs)
    excluded = tuple(exclude)
    found = []
    for directory, dirs, names in os.walk(under or root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in names:
            if not name.endswith(".py"):
                continue
            path = Path(directory, name)
            rel = path.relative_to(root).as_posix()
            if first_match(patterns, rel) is not None and first_match(excluded, rel) is None:
                found.append(path)
    return sorted(found)


def why_not_scanned(root: Path, path: Path, lint: Lint) -> str | None:
    """Why the lint globs do not select the named file `path` (absolute), or None."""
    if not path.name.endswith(".py"):
        return "not a Python file"
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return f"outside the policy's directory {root}"
    if first_match(lint.paths, rel) is None:
        return f"lint.paths selects no such file (relative to the policy: {rel})"
    excluded = first_match(lint.exclude, rel)
    if excluded is not None:
        return f"excluded by lint.exclude {excluded!r}"
    return None


def select(root: Path, named: Iterable[str], lint: Lint) -> tuple[list[Path], list[str]]:
    """The files to scan for the PATHs named on the command line (absolute, sorted, each once)
    and one `not scanned: PATH (why)` line per named path that yields none."""
    files: set[Path] = set()
    skipped: list[str] = []
    for name in named:
        path = Path(name).resolve()
        if path.is_dir():
            try:
                path.relative_to(root)
            except ValueError:
                skipped.append(f"not scanned: {name} (outside the policy's directory {root})")
                continue
            found = linted_files(root, lint.paths, lint.exclude, under=path)
            if not found:
                skipped.append(f"not scanned: {name} (lint.paths selects no file in it)")
            files.update(found)
        elif path.is_file():
            why = why_not_scanned(root, path, lint)
            if why is None:
                files.add(path)
            else:
                skipped.append(f"not scanned: {name} ({why})")
        else:
            skipped.append(f"not scanned: {name} {MISSING}")
    return sorted(files), skipped


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    semgrep = shutil.which("semgrep")
    if semgrep is None:
        print(f"test-policy lint: semgrep not found on PATH; install it with: {INSTALL}",
              file=sys.stderr)
        return 2
    root = Path(args.policy).resolve().parent
    if args.files:
        found, skipped = select(root, args.files, policy.lint)
        for line in skipped:
            print(f"test-policy lint: {line}", file=sys.stderr)
        if any(line.endswith(MISSING) for line in skipped):
            return 2
    else:
        found = linted_files(root, policy.lint.paths, policy.lint.exclude)
    # Semgrep matches each rule's `paths` against the path as given: run it from the policy's
    # directory with root-relative paths, so the rules select what the engine selected.
    files = [path.relative_to(root).as_posix() for path in found]
    if not files:
        print("test-policy lint: no test files to scan", file=sys.stderr)
        return 0
    if not policy.banned:
        print("test-policy lint: the policy bans no patterns", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="test-policy-rules-") as tmp:
        config = Path(tmp, "rules.yaml")
        write_atomic(config, combined_rules(policy))
        command = [semgrep, *SEMGREP_ARGS, "--config", str(config), *files]
        done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=root)
    # Semgrep prefixes rule ids with the config's directory (tmp.test-policy-rules-x.):
    # show the ids users write in `# nosemgrep: test-policy.<id>`.
    sys.stdout.write(TMP_PREFIX.sub("", done.stdout))
    sys.stderr.write(TMP_PREFIX.sub("", done.stderr))
    code = done.returncode
    if code in (0, 1):
        return code
    print(f"test-policy lint: semgrep failed (exit {code})", file=sys.stderr)
    return 2
