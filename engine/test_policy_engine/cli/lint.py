"""`test-policy lint [FILES]`: run Semgrep with the policy's rules, for use without pre-commit.

The rules are rendered from the policy into a temporary directory, so `lint` never runs
stale rules. Semgrep is not a runtime dependency (its pins clash with test environments):
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
from test_policy_engine.rules.semgrep import combined_rules

HELP = "scan test files with the policy's Semgrep rules (exit 1 on findings)"

INSTALL = "pip install 'test-policy-engine[semgrep]'"
#: The standard command line. `--experimental` (Semgrep's OCaml CLI) is ~10x faster on a
#: commit, but in semgrep 1.180 it ignores a rule's `paths.exclude` and drops files a lone
#: `paths.include: [tests/**]` should select (measured), so lint.exclude and allowed_paths
#: would silently stop working.
SEMGREP_ARGS = ("scan", "--quiet", "--error", "--metrics=off", "--disable-version-check")
TMP_PREFIX = re.compile(r"[\w.-]*test-policy-rules-\w+\.")
SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules",
                       "__pycache__", "build", "dist", ".tools"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="files to scan (default: the files lint.paths selects)")


def test_files(root: Path, globs: Iterable[str], exclude: Iterable[str]) -> list[Path]:
    """Python files under `root` that one of the lint globs selects and none excludes, sorted."""
    patterns = tuple(globs)
    excluded = tuple(exclude)
    found = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in names:
            if not name.endswith(".py"):
                continue
            path = Path(directory, name)
            rel = path.relative_to(root).as_posix()
            if first_match(patterns, rel) is not None and first_match(excluded, rel) is None:
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
        files = [os.path.relpath(path) for path in test_files(root, policy.lint.paths,
                                                              policy.lint.exclude)]
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
        done = subprocess.run(command, check=False, capture_output=True, text=True)
    # Semgrep prefixes rule ids with the config's directory (tmp.test-policy-rules-x.):
    # show the ids users write in `# nosemgrep: test-policy.<id>`.
    sys.stdout.write(TMP_PREFIX.sub("", done.stdout))
    sys.stderr.write(TMP_PREFIX.sub("", done.stderr))
    code = done.returncode
    if code in (0, 1):
        return code
    print(f"test-policy lint: semgrep failed (exit {code})", file=sys.stderr)
    return 2
