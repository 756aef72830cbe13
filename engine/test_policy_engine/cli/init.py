"""`test-policy init`: a starter policy, pre-commit hooks, CI workflow and `.semgrepignore`.

It never destroys what a repository has: an existing `.pre-commit-config.yaml` gains the
engine's `repos:` entry as text (every other byte kept), an existing `policy.yaml`, workflow
or `.semgrepignore` is left as it is (`--force` replaces the policy and the workflow, and says
so), and a second run changes nothing. `--dry-run` prints the changes as unified diffs.
"""

from __future__ import annotations

import argparse
import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from test_policy_engine.adopt import merge, parallel_check, pytest_config, scaffold
from test_policy_engine.cli.files import write_atomic
from test_policy_engine.cli.generate import MANIFEST, check, generated, owned_files, write_rules
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.globs import glob_problem
from test_policy_engine.policy.loader import load_policy, parse_policy
from test_policy_engine.policy.model import Policy

HELP = ("set up this repository: policy.yaml, pre-commit hooks, CI workflow, .semgrepignore "
        "(merges into existing files, never overwrites them)")

#: Directories never searched for test suites.
SKIPPED = frozenset({".git", ".venv", "venv", "node_modules", ".tox", ".nox", "build", "dist"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=".", metavar="DIR",
                        help="the repository to set up (default: the current directory)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing policy file and .github/workflows/"
                             "test-policy.yml (the pre-commit config is still only added to)")
    parser.add_argument("--dry-run", action="store_true",
                        help="write nothing; print what would change as unified diffs")
    check = parser.add_argument_group(
        "parallel check", "run the suite serially and in parallel once; where tests fail only "
        "in parallel, show the policy change that keeps them apart")
    check.add_argument("--check-parallel", action="store_true",
                       help="run the check instead of setting up files (needs the policy)")
    check.add_argument("--write", action="store_true",
                       help="with --check-parallel: write the policy change it shows")
    check.add_argument("--workers", type=int, default=parallel_check.WORKERS, metavar="N",
                       help=f"with --check-parallel: workers of the parallel run "
                            f"(default: {parallel_check.WORKERS})")
    check.add_argument("--run-timeout", type=float, default=parallel_check.RUN_TIMEOUT,
                       metavar="SECONDS",
                       help=f"with --check-parallel: stop a run after this long "
                            f"(default: {parallel_check.RUN_TIMEOUT:g})")


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and p.name not in SKIPPED)
    except OSError:
        return []


def directories(root: Path) -> list[str]:
    """Directories up to two levels below `root`, and four below `src/` (`src/<pkg>/tests/unit`),
    as POSIX paths relative to `root`."""
    found = []

    def walk(path: Path, depth: int) -> None:
        for child in _subdirs(path):
            found.append(child.relative_to(root).as_posix())
            if depth > 1:
                walk(child, depth - 1)

    walk(root, 2)
    if (root / "src").is_dir():
        for package in _subdirs(root / "src"):
            for tests in _subdirs(package):
                found.extend(p.relative_to(root).as_posix() for p in [tests, *_subdirs(tests)])
    return sorted(set(found))


#: How many test files are read to see whether they use Hypothesis.
MAX_FILES_READ = 2000
HYPOTHESIS_IMPORT = re.compile(r"^\s*(from|import)\s+hypothesis\b", re.M)
DOCTEST_GLOB = re.compile(r"--doctest-glob(?:=|\s+)[\"']?([^\s\"',\]]+)")
#: Files whose text says how the project runs pytest (doctest options are often in tox/nox).
RUNNER_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg",
                "noxfile.py", "Makefile")


def _test_files(root: Path, roots: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for test_root in roots:
        for path in sorted((root / test_root).rglob("*")):
            if len(found) >= MAX_FILES_READ:
                return found
            if path.is_file() and not SKIPPED.intersection(path.relative_to(root).parts):
                found.append(path)
    return found


def _source_globs(root: Path, roots: tuple[str, ...]) -> tuple[str, ...]:
    """Where `--doctest-modules` finds modules: `src/**`, else the top-level packages."""
    if (root / "src").is_dir():
        return ("src/**",)
    return tuple(f"{p.name}/**" for p in _subdirs(root)
                 if (p / "__init__.py").is_file() and p.name not in roots)


def contents(root: Path, layout: scaffold.Layout) -> scaffold.Contents:
    """The non-Python test items, doctests and Hypothesis tests of the repository."""
    files = _test_files(root, layout.roots)
    mypy_yml = any(scaffold.mypy_yml_file(p.name) for p in files)
    hypothesis = False
    for path in files:
        if path.suffix == ".py":
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if HYPOTHESIS_IMPORT.search(text):
                hypothesis = True
                break
    runner = "\n".join(_uncommented(config) for name in RUNNER_FILES
                       if (config := _read_quietly(root / name)) is not None)
    doctest: tuple[str, ...] = ()
    if "--doctest-modules" in runner:
        doctest += _source_globs(root, layout.roots)
    if "--doctest-glob" in runner:
        given = [g for g in DOCTEST_GLOB.findall(runner) if glob_problem(g) is None]
        doctest += tuple(dict.fromkeys(given)) or scaffold.DOCTEST_FILE_GLOBS
    extras, groups = _declared(root)
    requirements = [name for name in scaffold.TEST_REQUIREMENTS if (root / name).is_file()]
    return scaffold.Contents(mypy_yml=mypy_yml, doctest_paths=doctest, hypothesis=hypothesis,
                             install=scaffold.install_arguments(extras, requirements, groups))


def _declared(root: Path) -> tuple[list[str], list[str]]:
    """The extras and the dependency groups `pyproject.toml` declares (none without one,
    or when it does not parse)."""
    text = _read_quietly(root / "pyproject.toml")
    try:
        data = tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError:
        return [], []
    project = data.get("project")
    extras = project.get("optional-dependencies") if isinstance(project, dict) else None
    groups = data.get("dependency-groups")
    return ([str(name) for name in extras] if isinstance(extras, dict) else [],
            [str(name) for name in groups] if isinstance(groups, dict) else [])


#: A whole-line comment in an ini, TOML, Python or Makefile: pluggy's tox.ini keeps a
#: disabled `#--pyargs --doctest-modules` line, which runs no doctest.
COMMENT_LINE = re.compile(r"^[ \t]*[#;].*$", re.M)


def _uncommented(text: str) -> str:
    return COMMENT_LINE.sub("", text)


def _read_quietly(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def layout_roots(root: Path) -> tuple[str, ...]:
    """The test roots init finds in `root` (what the workflow passes to pytest)."""
    return scaffold.detect_layout(directories(root)).roots


@dataclass(frozen=True)
class Change:
    """One file `init` looked at: its text before (None: absent) and after, and what it says."""

    name: str
    before: str | None
    after: str | None
    message: str

    @property
    def changes(self) -> bool:
        return self.after is not None and self.after != self.before


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # absent: writing it says what is wrong
        return None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: cannot read (not UTF-8 text)") from None


def _lines(text: str) -> str:
    count = len(text.splitlines())
    return f"{count} line{'s' * (count != 1)}"


def plan(root: Path, layout: scaffold.Layout, policy_name: str, force: bool,
         found: scaffold.Contents = scaffold.NOTHING_ELSE) -> list[Change]:
    """What `init` does to each file it writes (rules/ apart)."""
    wanted = scaffold.render_all(layout, policy_name, found)
    changes = []
    for name, text in wanted.items():
        before = _read(root / name)
        if before is None:
            changes.append(Change(name, None, text, "wrote"))
        elif before == text:
            changes.append(Change(name, before, None, "unchanged"))
        elif name == scaffold.PRE_COMMIT_CONFIG:
            merged = merge.add_entry(before, scaffold.render_hooks_entry(layout, policy_name))
            if merged.text is not None:
                changes.append(Change(name, before, merged.text, f"updated ({merged.reason})"))
            elif merged.reason.startswith("already"):
                changes.append(Change(name, before, None, f"kept: {merged.reason}"))
            else:
                raise UserError(
                    f"{root / name}: cannot add the engine's hooks ({merged.reason}); "
                    "hint: add this entry to its `repos:` list by hand, then run init again:\n"
                    + scaffold.render_hooks_entry(layout, policy_name))
        elif name == scaffold.SEMGREPIGNORE:
            skipped = scaffold.ignores_tests(before, layout)
            if skipped:
                changes.append(Change(name, before, None, "kept, but it lists "
                                      f"{', '.join(skipped)}: Semgrep skips those test files; "
                                      "remove the line to lint them"))
            else:
                changes.append(Change(name, before, None, "kept: Semgrep scans the test files"))
        elif force:
            changes.append(Change(name, before, text,
                                  f"replaced (--force: your {_lines(before)} are gone, "
                                  "unless committed)"))
        elif name == scaffold.WORKFLOW:
            changes.append(Change(name, before, None,
                                  "kept: it differs from what init writes; see the difference "
                                  "with `test-policy init --dry-run --force` and merge by hand"))
        else:
            changes.append(Change(name, before, None,
                                  "kept: never overwritten (--force replaces it)"))
    return changes


def diff(name: str, before: str | None, after: str) -> str:
    lines = difflib.unified_diff(
        (before or "").splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{name}" if before is not None else "/dev/null", tofile=f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _policy(changes: list[Change], policy_name: str, path: Path) -> Policy:
    """The policy the rules are generated from: the one written, or the one kept."""
    change = next(c for c in changes if c.name == policy_name)
    if change.after is not None:
        return parse_policy(change.after.encode(), str(path))
    return load_policy(path)


def _contents_lines(found: scaffold.Contents) -> list[str]:
    out = []
    if found.doctest_paths:
        out.append(f"doctests ({', '.join(found.doctest_paths)}): category doctest, 1 s, "
                   "without the runtime guard")
    if found.hypothesis:
        out.append("Hypothesis tests (marker hypothesis): category property, 10 s")
    if found.mypy_yml:
        out.append("pytest-mypy-plugins cases (test_*.yml): category typecheck, 30 s")
    return out


def _check_writable(root: Path, changes: list[Change]) -> None:
    """Refuse before writing anything when a file's directory cannot be one (a file is
    in its way): nothing is written half-way."""
    for change in changes:
        if not (change.changes and change.after is not None):
            continue
        for parent in (root / change.name).parents:
            if parent.exists():
                if not parent.is_dir():
                    raise UserError(f"{root / change.name}: cannot write ({parent} is a file, "
                                    "not a directory)")
                break


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        raise UserError(f"{args.dir}: --dir: no such directory")
    if args.check_parallel:
        from test_policy_engine.cli.init_parallel import check_parallel

        return check_parallel(args, root, layout_roots(root))
    if args.write:
        raise UserError("--write: only with --check-parallel; hint: init writes its files "
                        "without it, --dry-run shows them first")
    layout = scaffold.detect_layout(directories(root))
    found_contents = contents(root, layout)
    changes = plan(root, layout, args.policy, args.force, found_contents)
    policy_path = root / args.policy
    rules_dir = policy_path.parent / "rules"  # where `test-policy generate` looks
    policy = _policy(changes, args.policy, policy_path)
    source = policy_path.name
    rules_diff = check(policy, rules_dir, source)
    ours = {*owned_files(rules_dir), rules_dir / MANIFEST}  # the manifest lists the others
    theirs = [p for p in sorted(rules_dir.iterdir()) if p.is_file()
              and p not in ours] if rules_dir.is_dir() else []
    if not args.dry_run:
        _check_writable(root, changes)
    if args.dry_run:
        for change in changes:
            if change.changes and change.after is not None:
                print(diff(change.name, change.before, change.after), end="")
        print(rules_diff, end="")
    for change in changes:
        if args.dry_run:
            verb = change.message.replace("wrote", "would write", 1)
        else:
            if change.changes and change.after is not None:
                write_atomic(root / change.name, change.after)
            verb = change.message
        if verb in ("wrote", "would write"):
            print(f"{verb} {root / change.name}")
        else:
            print(f"{root / change.name}: {verb}")
    if rules_diff and not args.dry_run:
        try:
            written = write_rules(policy, rules_dir, source=source)
        except OSError as exc:
            raise UserError(f"{rules_dir}: cannot write ({exc.strerror or exc})") from None
        for path in written:
            print(f"wrote {path}")
    elif rules_diff:
        print(f"would write {len(generated(policy, source))} files to {rules_dir}/")
    for path in theirs:
        print(f"{path}: kept (not generated by test-policy)")
    if not rules_diff and not any(c.changes for c in changes):
        print("nothing to change: this repository is set up")
    print(f"\nlayout: {layout.describe()}")
    for line in _contents_lines(found_contents):
        print(line)
    found = pytest_config.find(lambda name: _read(root / name))
    notes = pytest_config.notes(found) if found else []
    if found and notes:
        print(f"pytest config ({found.where}), with the policy in force:")
        for note in notes:
            print(f"  {note}")
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    print("next: `test-policy check` to see what the policy enforces, "
          "`pre-commit install` to run the hooks on every commit, "
          "`pre-commit run --all-files` to see today's findings, "
          "`test-policy baseline` to record today's rule findings as known debt (with "
          "RESULTS, a JUnit XML run: pytest --junit-xml=FILE, today's slow tests too), "
          "and commit these files to run the workflow in CI.")
    return 0
