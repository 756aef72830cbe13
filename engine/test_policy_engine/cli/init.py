"""`test-policy init`: a starter policy, pre-commit config and CI workflow for a repository."""

from __future__ import annotations

import argparse
from pathlib import Path

from test_policy_engine.adopt import scaffold
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
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")


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
    existing = [name for name in files if (root / name).exists()]
    if rules_dir.is_dir() and any(rules_dir.iterdir()):
        existing.append(f"{rules_dir.relative_to(root).as_posix()}/ (not empty)")
    if existing and not args.force:
        raise UserError("\n".join(
            [f"{root / name}: exists; not overwritten (use --force to replace it)"
             for name in existing]
        ))
    for name, text in files.items():
        write_atomic(root / name, text)
        print(f"wrote {root / name}")
    policy = load_policy(policy_path)  # what was just written must load
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
