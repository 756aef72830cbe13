"""`test-policy init`: a starter policy, pre-commit config and CI workflow for a repository."""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

from test_policy_engine.adopt import precommit, scaffold
from test_policy_engine.cli.files import write_atomic
from test_policy_engine.cli.generate import write_rules
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import load_policy

HELP = "write a starter policy.yaml, pre-commit config and CI workflow for this repository"

#: Directories never searched for test suites.
SKIPPED = frozenset({".git", ".venv", "venv", "node_modules", ".tox", ".nox", "build", "dist"})

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=".", metavar="DIR",
                        help="the repository to set up (default: the current directory)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would be written or changed, as a diff; write nothing")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing policy and workflow with the starter ones "
                        "(a pre-commit config is always merged, never replaced)")


#: Written where no `.semgrepignore` exists: without one, Semgrep skips `tests/` itself.
SEMGREPIGNORE = """\
# Written by `test-policy init`: Semgrep's built-in ignore list skips tests/ when this file
# is missing, and the test-policy rules exist to scan tests.
.git/
.venv/
venv/
.tox/
.nox/
build/
dist/
node_modules/
"""


@dataclass(frozen=True)
class Change:
    """One file `init` writes: `before` is its current text (None when it is new)."""

    path: Path
    before: str | None
    after: str
    verb: str  # what the line printed for it says: wrote, added to, replaced


def plan(root: Path, files: dict[str, str],
         force: bool) -> tuple[list[Change], list[str]]:
    """(the files to write, the notes on the files left as they are). Never drops a line
    of the user's: an existing pre-commit config is merged, the rest is kept unless
    `force` says to replace it (and then the note says so)."""
    changes: list[Change] = []
    notes: list[str] = []
    for name, text in {**files, SEMGREPIGNORE_NAME: SEMGREPIGNORE}.items():
        path = root / name
        before = _read(path)
        if before is None:
            changes.append(Change(path, None, text, "wrote"))
        elif before == text:
            notes.append(f"{path}: unchanged")
        elif name == scaffold.PRE_COMMIT_CONFIG:
            merged = precommit.merge(before, text)
            if merged.text is None:
                notes.append(f"{path}: left as it is: {merged.note}"
                             + ("" if "already" in merged.note else
                                "; add these lines under its `repos:`:\n"
                                + precommit.our_entry(text)))
            else:
                changes.append(Change(path, before, merged.text, "added the hooks to"))
        elif force and name != SEMGREPIGNORE_NAME:
            changes.append(Change(path, before, text, "replaced"))
        else:
            hint = ("; compare with `test-policy init --dry-run --force`"
                    if name != SEMGREPIGNORE_NAME else
                    "; make sure it does not ignore your test directories")
            notes.append(f"{path}: exists, kept{hint}")
    return changes, notes


SEMGREPIGNORE_NAME = ".semgrepignore"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def diff(change: Change) -> str:
    lines = difflib.unified_diff(
        (change.before or "").splitlines(keepends=True), change.after.splitlines(keepends=True),
        fromfile=str(change.path) if change.before is not None else "/dev/null",
        tofile=str(change.path))
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def directories(root: Path) -> list[str]:
    """Directories up to two levels below `root`, as POSIX paths relative to it."""
    found = []
    for first in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in SKIPPED):
        found.append(first.name)
        found.extend(f"{first.name}/{second.name}" for second in sorted(first.iterdir())
                     if second.is_dir())
    return found


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        raise UserError(f"{args.dir}: --dir: no such directory")
    layout = scaffold.detect_layout(directories(root))
    files = scaffold.render_all(layout, args.policy)
    policy_path = root / args.policy
    rules_dir = policy_path.parent / "rules"  # where `test-policy generate` looks
    changes, notes = plan(root, files, args.force)
    if args.dry_run:
        for change in changes:
            sys.stdout.write(diff(change))
        for note in notes:
            print(note)
        print(f"(dry run: nothing written; the rules would be generated into {rules_dir}/)")
        return 0
    for change in changes:
        write_atomic(change.path, change.after)
        print(f"{change.verb} {change.path}")
    for note in notes:
        print(note)
    policy = load_policy(policy_path)  # the user's own, or what was just written
    try:
        written = write_rules(policy, rules_dir, source=policy_path.name)
    except OSError as exc:
        raise UserError(f"{rules_dir}: cannot write ({exc.strerror or exc})") from None
    for path in written:
        print(f"wrote {path}")
    print(f"\nlayout: {layout.describe()}")
    print("next: `test-policy check` to see what the policy enforces, "
          "`pre-commit install` to run the hooks on every commit, "
          "and commit these files to run the workflow in CI.")
    return 0
