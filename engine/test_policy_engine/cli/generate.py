"""`test-policy generate`: write the Semgrep rules and their rule tests into rules/.

`--check` writes nothing: it exits 1 with a unified diff when rules/ differs from what
the policy generates (stale or hand-edited), 0 when in sync.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import fcntl
import os
import sys
from collections.abc import Iterator
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


#: The list of the files `generate` wrote, inside the rules directory: only these are
#: ever replaced or removed (a user's `real-sleep.yaml.bak` copy never is).
MANIFEST = ".test-policy-generated"


def rules_dir_for(args: argparse.Namespace) -> Path:
    """`--rules DIR` as given, else `rules/` beside the policy, which must not lead out of
    the policy's directory (a `rules` symlink elsewhere): name such a place with --rules."""
    if args.rules:
        return Path(args.rules)
    home = Path(args.policy).parent
    rules = home / "rules"
    if rules.is_symlink() and not rules.resolve().is_relative_to(home.resolve()):
        raise UserError(f"{rules}: a symlink to {rules.resolve()}, outside the policy's "
                        "directory; hint: pass --rules DIR to write there on purpose")
    return rules


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
    """Files in `rules_dir` that `generate` wrote, as its manifest lists them (plain names
    of files in that directory; anything else in the manifest is ignored)."""
    try:
        text = (rules_dir / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    names = {line for line in text.splitlines()[1:] if line and "/" not in line
             and line not in (".", "..", MANIFEST)}
    return [rules_dir / name for name in sorted(names) if (rules_dir / name).is_file()]


def manifest(names: list[str]) -> str:
    return f"{MARK} (the files it wrote here)\n" + "".join(f"{name}\n" for name in sorted(names))


def stale_temporaries(rules_dir: Path, names: list[str]) -> list[Path]:
    """Temporary files an interrupted `generate` left beside its targets."""
    if not rules_dir.is_dir():
        return []
    prefixes = tuple(f".{name}." for name in names)
    return sorted(p for p in rules_dir.iterdir()
                  if p.name.startswith(prefixes) and p.name.endswith(".tmp") and p.is_file())


@contextlib.contextmanager
def _locked(rules_dir: Path) -> Iterator[None]:
    """Serialise `generate` runs on one directory: two at once with different policies
    would otherwise leave a mix of both (flock on the directory itself: no lock file)."""
    fd = os.open(rules_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


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
    rules_dir.mkdir(parents=True, exist_ok=True)
    with _locked(rules_dir):
        return _write_rules(policy, rules_dir, source)


def _write_rules(policy: Policy, rules_dir: Path, source: str) -> list[Path]:
    files = generated(policy, source)
    stale = [path for path in owned_files(rules_dir) if path.name not in files]
    for leftover in stale_temporaries(rules_dir, [*files, MANIFEST]):
        leftover.unlink(missing_ok=True)
    files_and_manifest = {**files, MANIFEST: manifest(list(files))}
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in files_and_manifest.items():
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
    rendered = generated(policy, source)
    files = {**rendered, MANIFEST: manifest(list(rendered))}
    names = sorted(set(files) | {path.name for path in owned_files(rules_dir)})
    out: list[str] = [f"stale temporary file {path} (left by an interrupted generate; "
                      "`test-policy generate` removes it)\n"
                      for path in stale_temporaries(rules_dir, list(files))]
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
