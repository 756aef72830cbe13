"""`test-policy lint [PATH...]`: the policy's Semgrep rules on the files the policy selects.

The engine selects the files: named files and the files under named directories that the
lint globs select, matched relative to the policy's directory whatever the working
directory; a named path that yields no file is reported on stderr, never dropped silently.
The rules come from the policy (never a stale rules/ directory), through a cache of the
validated policy (`test_policy_engine.lint.plan`); Semgrep runs through its fastest front end
(`test_policy_engine.lint.frontend`). Semgrep is not a runtime dependency (its pins clash
with test environments): it is looked up on PATH. The pre-commit hook runs this command.

With a baseline (`.test-policy-baseline` beside the policy, or `--baseline FILE`) a finding
it lists passes as known debt; a new one, one whose entry expired, and an entry whose
finding is gone from a file this run scanned (fixed: `test-policy baseline --prune`) fail.

Exit codes: 0 no new finding, 1 findings, 2 a usage or input error or Semgrep failed.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from test_policy_engine.lint.formats import FORMATS, Report, Skipped, render, skipped_lines
from test_policy_engine.policy.globs import first_match

HELP = "scan test files with the policy's Semgrep rules (exit 1 on findings)"

INSTALL = "pip install 'test-policy-engine[semgrep]'"
MISSING = "no such file or directory"
NOT_REGULAR = "not a regular file: a FIFO, socket or device is never read"
#: Semgrep's default `--max-target-bytes`: it skips a larger file, so lint does not read one.
SEMGREP_MAX_BYTES = 1_000_000
SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules",
                       "__pycache__", "build", "dist", ".tools"})


class Globs(Protocol):
    """The lint globs (the policy's `lint:`, or a cached plan of it)."""

    @property
    def paths(self) -> tuple[str, ...]: ...

    @property
    def exclude(self) -> tuple[str, ...]: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="PATH",
                        help="files or directories to scan, with the policy's lint globs "
                        "(default: every file lint.paths selects)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), json, sarif (GitHub code scanning) or github "
                        "(workflow commands: annotations)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--baseline", metavar="FILE",
                        help="known findings (default: .test-policy-baseline beside the "
                        "policy, when it exists); see `test-policy baseline`")


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
            if (first_match(patterns, rel) is not None and first_match(excluded, rel) is None
                    and path.is_file()):  # a FIFO named like a test would hang the scan
                found.append(path)
    return sorted(found)


def why_not_scanned(root: Path, path: Path, lint: Globs) -> str | None:
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


def select(root: Path, named: Iterable[str], lint: Globs) -> tuple[list[Path], list[Skipped]]:
    """The files to scan for the PATHs named on the command line (absolute, sorted, each once)
    and each named path that yields none, with the reason."""
    files: set[Path] = set()
    skipped: list[Skipped] = []
    for name in named:
        path = Path(name).resolve()
        if path.is_dir():
            try:
                path.relative_to(root)
            except ValueError:
                skipped.append(Skipped(name, f"outside the policy's directory {root}"))
                continue
            found = linted_files(root, lint.paths, lint.exclude, under=path)
            if not found:
                skipped.append(Skipped(name, "lint.paths selects no file in it"))
            files.update(found)
        elif path.is_file():
            why = why_not_scanned(root, path, lint)
            if why is None:
                files.add(path)
            else:
                skipped.append(Skipped(name, why))
        elif path.exists():
            skipped.append(Skipped(name, NOT_REGULAR))
        else:
            skipped.append(Skipped(name, MISSING))
    return sorted(files), skipped


def _write(args: argparse.Namespace, text: str) -> None:
    if args.output:
        from test_policy_engine.cli.files import write_atomic

        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)


class CannotScan(Exception):
    """Semgrep is missing or failed, or a named path does not exist: exit 2. `missing`:
    Semgrep is not on PATH (the callers' hints differ); `reported`: already said on stderr."""

    def __init__(self, message: str, missing: bool = False, reported: bool = False) -> None:
        super().__init__(message)
        self.missing = missing
        self.reported = reported


def scan(policy: str, named: Iterable[str] = (), command: str = "lint") -> Report:
    """The policy's rules on the files it selects (every one, or those of the PATHs
    `named`): a report of every finding, none of them judged against the baseline yet.
    Messages about what is not scanned go to stderr, prefixed `test-policy COMMAND:`."""
    from test_policy_engine.lint import frontend, plan
    from test_policy_engine.lint.findings import from_semgrep

    named = list(named)
    loaded = plan.load(policy)
    rules = loaded.plan
    semgrep = frontend.find()
    if semgrep is None:  # said even when there is nothing to scan: never a silent pass
        raise CannotScan("semgrep not found on PATH", missing=True)
    root = Path(policy).resolve().parent
    skipped: list[Skipped] = []
    if named:
        found, skipped = select(root, named, rules)
        for line in skipped_lines(skipped):
            print(line.replace("test-policy lint:", f"test-policy {command}:", 1),
                  file=sys.stderr)
        if any(s.why == MISSING for s in skipped):
            raise CannotScan("a named path does not exist", reported=True)
    else:
        found = linted_files(root, rules.paths, rules.exclude)
    # Semgrep runs from the policy's directory on root-relative paths: its findings show
    # paths relative to the policy, as the globs are written.
    files = [path.relative_to(root).as_posix() for path in found]
    report = Report(rules, files, skipped=skipped)
    if not files:
        print(f"test-policy {command}: no test files to scan", file=sys.stderr)
    elif not rules.rules:
        print(f"test-policy {command}: the policy bans no patterns", file=sys.stderr)
    else:
        met = rules.met(read_bytes(root / name) for name in files)
        if rules.chosen(met):  # else no file names a banned call: nothing Semgrep could flag
            with plan.config_file(rules.config(met)) as config:
                try:
                    data = frontend.run(semgrep, config, files, root)
                except frontend.SemgrepFailed as exc:
                    raise CannotScan(f"semgrep failed: {exc}") from None
            report.findings, report.errors = from_semgrep(data, rules, root)
        for error in report.errors:
            print(f"test-policy {command}: warning: semgrep: {error.path or '-'}: "
                  f"{error.message}", file=sys.stderr)
    return report


def read_bytes(path: Path) -> bytes | None:
    """A file's bytes, for the rules and forms it needs (`Plan.met`): nothing for a file
    larger than Semgrep scans by default (it skips it: nothing there can be flagged); None
    when it cannot be read, or is no longer a regular file (it then keeps every rule, and
    Semgrep says what is wrong)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > SEMGREP_MAX_BYTES:
            return b""
        return path.read_bytes()
    except OSError:
        return None


def scanned(report: Report, whole: bool) -> Callable[[str], bool]:
    """Whether the scan of `report` looked at a file, for the baseline: a scan of every
    file (`whole`) answers for every file the policy could select, so the entries of a
    file deleted or excluded since are fixed too; a scan of named PATHs (the pre-commit
    hook's staged files) answers only for those. A file Semgrep could not read answers
    for nothing (its entries are not taken for fixed)."""
    unread = {error.path for error in report.errors if error.path}
    files = set(report.files)
    if whole:
        return lambda path: path not in unread
    return lambda path: path in files and path not in unread


def judge(report: Report, whole: bool, path: Path) -> None:
    """Take the known findings in the baseline at `path` (when it exists) out of the
    report's failures: known, expired, fixed (`test_policy_engine.baseline.ratchet`)."""
    if not os.path.lexists(path):  # read_findings would say None: spare the imports
        return
    import datetime as dt

    from test_policy_engine.baseline.ratchet import judge_findings
    from test_policy_engine.cli.baseline_file import read_findings

    entries = read_findings(path)
    if entries is None:
        return
    ratchet = judge_findings(report.findings, entries, scanned(report, whole),
                             dt.date.today())
    report.findings = ratchet.new
    report.known = [finding for finding, _ in ratchet.known]
    report.expired = ratchet.expired
    report.fixed = ratchet.fixed
    report.baseline = str(path)


def baseline_path(args: argparse.Namespace) -> Path:
    """`--baseline FILE`, else the baseline's name beside the policy (as
    `cli.baseline_file.default_path`, without importing the baseline's modules: a hook
    without a baseline starts 30 ms sooner)."""
    from test_policy_engine.baseline import DEFAULT_NAME

    if getattr(args, "baseline", None):
        return Path(args.baseline)
    return Path(args.policy).parent / DEFAULT_NAME


def run(args: argparse.Namespace) -> int:
    try:
        report = scan(args.policy, args.files)
    except CannotScan as exc:
        hint = f"; install it with: {INSTALL}" if exc.missing else ""
        if not exc.reported:
            print(f"test-policy lint: {exc}{hint}", file=sys.stderr)
        return 2
    judge(report, not args.files, baseline_path(args))
    _write(args, render(report, args.format))
    return 1 if report.failed else 0
