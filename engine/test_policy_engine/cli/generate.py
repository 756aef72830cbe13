"""`test-policy generate`: write the Semgrep rules and their rule tests into rules/.

`--check` writes nothing: it exits 1 with a unified diff when rules/ differs from what
the policy generates (stale or hand-edited), 0 when in sync.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

from test_policy_engine.cli.files import stage
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import load_policy
from test_policy_engine.policy.model import Policy
from test_policy_engine.rules.semgrep import MARK, render_rules

HELP = "write the Semgrep rules in rules/ from policy.yaml (--check: fail if they are stale)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff when rules/ is not what the policy generates",
    )
    parser.add_argument(
        "--rules",
        metavar="DIR",
        help="the rules directory (default: rules/ beside the policy file)",
    )


def rules_dir_for(args: argparse.Namespace) -> Path:
    if args.rules:
        return Path(args.rules)
    return Path(args.policy).parent / "rules"


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    rules_dir = rules_dir_for(args)
    source = Path(args.policy).name
    if args.check:
        diff = check(policy, rules_dir, source)
        if diff:
            sys.stdout.write(diff)
            print(f"{rules_dir}/ is out of date with {args.policy}: run `test-policy generate`",
                  file=sys.stderr)
            return 1
        print(f"{rules_dir}/ is in sync with {args.policy}", file=sys.stderr)
        return 0
    try:
        written = write_rules(policy, rules_dir, source)
    except OSError as exc:
        where = exc.filename or rules_dir
        raise UserError(f"{where}: cannot write the rules ({exc.strerror or exc})") from None
    print(f"wrote {len(written)} files to {rules_dir}/", file=sys.stderr)
    return 0


def owned_files(rules_dir: Path) -> list[Path]:
    """Files in `rules_dir` that `generate` wrote (they start with its header line)."""
    if not rules_dir.is_dir():
        return []
    found = []
    for path in sorted(rules_dir.iterdir()):
        if path.is_file() and path.suffix in (".py", ".yaml"):
            try:
                with path.open(encoding="utf-8", errors="replace") as handle:
                    first = handle.readline()
            except OSError:
                continue
            if first.startswith(MARK):
                found.append(path)
    return found


def generated(policy: Policy, source: str = "policy.yaml") -> dict[str, str]:
    """File name -> text of what `generate` writes: the rules, and their samples unless the
    policy says `lint.rule_tests: false` (an adopter's repository gets the rules only)."""
    files = render_rules(policy, source)
    if policy.lint.rule_tests:
        return files
    return {name: text for name, text in files.items() if name.endswith(".yaml")}


def write_rules(policy: Policy, rules_dir: Path, source: str = "policy.yaml") -> list[Path]:
    """Write every generated file into `rules_dir` and remove the stale ones generate owns.

    Everything is rendered, then every changed file is staged as a temporary file beside its
    target, and only then are the staged files renamed over their targets: a failure while
    staging leaves `rules_dir` as it was, and no file is ever half-written. Returns the paths
    of all generated files, sorted. Raises OSError when the directory cannot be written.
    """
    files = generated(policy, source)
    stale = [path for path in owned_files(rules_dir) if path.name not in files]
    rules_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in files.items():
            path = rules_dir / name
            try:
                if path.read_text(encoding="utf-8") == text:
                    continue
            except (OSError, UnicodeDecodeError):
                pass
            staged.append((stage(path, text), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
    for path in stale:
        path.unlink(missing_ok=True)
    return [rules_dir / name for name in files]


def check(policy: Policy, rules_dir: Path, source: str = "policy.yaml") -> str:
    """A unified diff from what is on disk to what the policy generates ('' when in sync)."""
    files = generated(policy, source)
    names = sorted(set(files) | {path.name for path in owned_files(rules_dir)})
    out: list[str] = []
    for name in names:
        path = rules_dir / name
        try:
            current = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        wanted = files.get(name)
        if current == wanted:
            continue
        out.extend(difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            (wanted or "").splitlines(keepends=True),
            fromfile=f"{path} (on disk)" if current is not None else "/dev/null",
            tofile=f"{path} (generated from {source})" if wanted is not None else "/dev/null",
        ))
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)
