"""`test-policy audit PATH...`: judge the durations in JUnit XML files against the policy."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import stat
import sys
from functools import lru_cache
from pathlib import Path

from test_policy_engine.audit.report import FORMATS, github, markdown, render
from test_policy_engine.audit.verdicts import AuditResult, audit_files, overrides_from_env
from test_policy_engine.cli import baseline
from test_policy_engine.cli.files import write_atomic
from test_policy_engine.policy import enforcement
from test_policy_engine.policy.errors import Problem, UserError
from test_policy_engine.policy.loader import load_policy
from test_policy_engine.policy.reading import NotRegular

HELP = "audit test durations in JUnit XML files (or directories of them) against the policy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="JUnit XML files, or directories searched for *.xml")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="output format (default: text)")
    parser.add_argument("--top", type=_count, default=0, metavar="N",
                        help="also list the N slowest tests")
    parser.add_argument("--fail-on-warning", action="store_true",
                        help="exit 1 on warnings and unreadable times too")
    parser.add_argument("--baseline", metavar="FILE",
                        help="known slow tests (default: .test-policy-baseline beside the "
                        "policy, when it exists); see `test-policy baseline`")
    parser.add_argument("--durations-out", metavar="FILE",
                        help="write every pytest test's duration as pytest-split's "
                        ".test_durations JSON")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {value})")
    return value


def result_files(paths: list[str]) -> list[tuple[Path, str]]:
    """Each result file with the name messages use; directories are searched for *.xml."""
    found: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(_xml_below(path, given, problems))
            if not files:
                problems.append(Problem(given, None, None, "", "no *.xml result files found",
                                        "check the artifact download step's path"))
            found += [(p, p.as_posix()) for p in files]
        elif path.is_file():
            found.append((path, given))
        elif path.exists():
            problems.append(Problem(given, None, None, "", "not a file or a directory",
                                    "name JUnit XML files or directories of them"))
        else:
            problems.append(Problem(given, None, None, "", "no such file or directory"))
    if problems:
        raise UserError(problems)
    return found


def _xml_below(root: Path, given: str, problems: list[Problem]) -> list[Path]:
    """The regular *.xml files below `root`; an unreadable directory is a problem, never
    skipped without a word (its results would not be audited)."""
    def unreadable(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else given
        problems.append(Problem(where, None, None, "",
                                f"cannot read this directory ({exc.strerror})",
                                "its result files would not be audited"))

    found = []
    for folder, _dirs, names in os.walk(root, onerror=unreadable):
        for name in names:
            if name.endswith(".xml"):
                candidate = Path(folder, name)
                if candidate.is_file():
                    found.append(candidate)
    return found


@lru_cache(maxsize=4096)
def _is_file(relpath: str) -> bool:
    try:
        return Path(relpath).is_file()
    except (OSError, ValueError):  # a part longer than NAME_MAX, a NUL byte
        return False


def exit_code(result: AuditResult, fail_on_warning: bool) -> int:
    guard = result.guard
    if result.failures or result.incomplete or (guard is not None and guard.failed):
        return 1
    if fail_on_warning and (result.warnings or result.unreadable
                            or (guard is not None and guard.warned)):
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    _is_file.cache_clear()  # relative to this run's working directory
    policy = load_policy(args.policy)
    overrides = overrides_from_env(os.environ, policy)
    files = result_files(args.paths)
    baseline_path = baseline.default_path(args)
    entries = baseline.read(baseline_path)
    guard_entries = baseline.read_guards(baseline_path)
    result, problems = audit_files(files, policy, overrides, top=max(args.top, 10),
                                   durations=args.durations_out is not None or bool(entries)
                                   or bool(guard_entries),
                                   is_file=_is_file)
    if problems:
        raise UserError(problems)
    ratchet = None
    if entries:
        result, ratchet = baseline.apply(result, entries, _is_file, dt.date.today())
    output = render(result, args.format, args.top, _is_file)
    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    if in_actions and args.format in ("text", "markdown"):
        output = github(result, _is_file) + output
    sys.stdout.write(output)
    if ratchet is not None:
        sys.stdout.write(baseline.report(ratchet, baseline_path))
    guards_fixed = baseline.guard_fixed(result, guard_entries, _is_file)
    sys.stdout.write(baseline.guard_report(guards_fixed))
    if in_actions:
        _write_step_summary(result)
    if args.durations_out is not None and result.durations is not None:
        write_atomic(args.durations_out,
                     json.dumps(result.durations, indent=2, sort_keys=True) + "\n")
        print(f"wrote {len(result.durations):,} durations to {args.durations_out}",
              file=sys.stderr)
    if (ratchet is not None and ratchet.failed) or guards_fixed:
        return enforcement.exit_code(policy.enforce, 1)
    return enforcement.exit_code(policy.enforce, exit_code(result, args.fail_on_warning))


def _write_step_summary(result: AuditResult) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        # Non-blocking, and only a regular file: a FIFO without a reader must not hang
        # the audit, and a device is not a summary.
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o666)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise NotRegular(0, "not a regular file")
            os.set_blocking(fd, True)
            handle.write(markdown(result, 10))
    except OSError as exc:
        print(f"{target}: warning: cannot write the job summary ({exc.strerror})",
              file=sys.stderr)
