"""`test-policy baseline RESULTS...`: record the tests over their limit as known debt.

It writes `.test-policy-baseline` (beside the policy; `--baseline FILE` elsewhere): every test
the audit of RESULTS fails for time, one sorted line each, keeping the `until=` and reason of
entries already there; entries of tests that are within their limit now are dropped. With
`--prune` it only drops those, and adds nothing. It also adds `merge=union` for the file to
`.gitattributes`, so two branches that each add entries merge without a conflict.

`test-policy audit` reads the same file (`apply` and `report` below).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

from test_policy_engine.audit.verdicts import AuditResult, Verdict, audit_files, node_id
from test_policy_engine.audit.verdicts import overrides_from_env as _overrides
from test_policy_engine.baseline import entries as baseline_file
from test_policy_engine.baseline.entries import Entry
from test_policy_engine.baseline.ratchet import SLOWER_FACTOR, Ratchet, Slow, judge
from test_policy_engine.cli.files import write_atomic
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import load_policy

HELP = "record the tests over their limit in RESULTS (JUnit XML) as known debt: the ratchet"

#: The verdicts a baseline can list (an unreadable time is not debt, it is a broken file).
TIME_KINDS = ("over", "timed out", "crashed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="RESULTS",
                        help="JUnit XML files, or directories searched for *.xml (as audit)")
    parser.add_argument("--baseline", metavar="FILE",
                        help=f"the baseline file (default: {baseline_file.DEFAULT_NAME} "
                             "beside the policy)")
    parser.add_argument("--prune", action="store_true",
                        help="only drop the entries of tests within their limit; add nothing")


def default_path(args: argparse.Namespace) -> Path:
    if getattr(args, "baseline", None):
        return Path(args.baseline)
    return Path(args.policy).parent / baseline_file.DEFAULT_NAME


def read(path: Path) -> list[Entry] | None:
    """The entries of the baseline at `path`; None when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read ({exc})") from None
    return baseline_file.parse(text, str(path))


def slow_tests(result: AuditResult, is_file: Callable[[str], bool]) -> list[Slow[Verdict]]:
    return [Slow(node_id(v.record, is_file), v.time, v) for v in result.failures
            if v.kind in TIME_KINDS]


def well_within(result: AuditResult, is_file: Callable[[str], bool]) -> dict[str, float] | None:
    """The tests that ran and took at most `warn_ratio` of their limit: the only ones a
    baseline entry counts as fixed for. One between that and its limit (the audit's
    warnings) is neither fixed nor known, so a test that hovers at its limit does not flip
    between the two from one run to the next."""
    if result.durations is None:
        return None
    near = {node_id(v.record, is_file) for v in result.warnings}
    return {node: seconds for node, seconds in result.durations.items() if node not in near}


def apply(result: AuditResult, entries: list[Entry], is_file: Callable[[str], bool],
          today: dt.date) -> tuple[AuditResult, Ratchet[Verdict]]:
    """The audit result with the known debt taken out of its failures, and the judgement."""
    ratchet = judge(slow_tests(result, is_file), well_within(result, is_file), entries, today)
    known = {id(slow.verdict) for slow, _ in ratchet.known}
    failures = [v for v in result.failures if id(v) not in known]
    return dataclasses.replace(result, failures=failures), ratchet


def _seconds(time: float | None) -> str:
    return "killed" if time is None else f"{time:.2f} s"


def report(ratchet: Ratchet[Verdict], path: Path) -> str:
    """What the baseline did to the audit, one line per entry that matters."""
    lines = [f"baseline {path}: {len(ratchet.known)} known slow tests (warnings), "
             f"{len(ratchet.new)} new, {len(ratchet.slower)} much slower, "
             f"{len(ratchet.expired)} expired, {len(ratchet.fixed)} fixed"]
    for slow, entry in ratchet.known:
        lines.append(f"warning: {slow.node_id}: known slow test, {_seconds(slow.time)} "
                     f"(recorded {entry.seconds:.2f} s, {slow.verdict.category} limit "
                     f"{slow.verdict.limit:g} s)")
    for slow in ratchet.new:
        lines.append(f"error: {slow.node_id}: over its limit and not in the baseline; "
                     "hint: make it faster, or record it with `test-policy baseline`")
    for slow, entry in ratchet.slower:
        lines.append(f"error: {slow.node_id}: {_seconds(slow.time)}, more than "
                     f"{SLOWER_FACTOR:g}x its recorded {entry.seconds:.2f} s")
    for slow, entry in ratchet.expired:
        lines.append(f"error: {slow.node_id}: its baseline entry expired on {entry.until}")
    for entry in ratchet.fixed:
        lines.append(f"error: {entry.node_id}: within its limit now: fixed; "
                     "hint: drop it with `test-policy baseline --prune RESULTS...`")
    return "\n".join(lines) + "\n"


def _gitattributes(directory: Path) -> str | None:
    """Add the `merge=union` line to `.gitattributes`; the path written, or None."""
    target = directory / ".gitattributes"
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{target}: cannot read ({exc})") from None
    if baseline_file.GITATTRIBUTES_LINE in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomic(target, text + baseline_file.GITATTRIBUTES_LINE + "\n")
    return str(target)


def run(args: argparse.Namespace) -> int:
    from test_policy_engine.cli.audit import _is_file, result_files  # one reading of RESULTS

    policy = load_policy(args.policy)
    path = default_path(args)
    old = read(path) or []
    result, problems = audit_files(result_files(args.paths), policy,
                                   _overrides(os.environ, policy), durations=True,
                                   is_file=_is_file)
    if problems:
        raise UserError(problems)
    ratchet = judge(slow_tests(result, _is_file), well_within(result, _is_file), old,
                    dt.date.today())
    fixed = {entry.node_id for entry in ratchet.fixed}
    kept = [entry for entry in old if entry.node_id not in fixed]
    listed = {entry.node_id for entry in kept}
    added = [] if args.prune else [
        Entry(slow.node_id, slow.verdict.category,
              slow.time if slow.time is not None else slow.verdict.limit)
        for slow in ratchet.new if slow.node_id not in listed]
    text = baseline_file.render(kept + added)
    try:
        unchanged = path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if not unchanged:
        write_atomic(path, text)
    attributes = _gitattributes(path.parent)
    print(f"{path}: {len(kept) + len(added)} entries ({len(added)} added, "
          f"{len(fixed)} pruned){'' if not unchanged else ', unchanged'}", file=sys.stderr)
    if attributes:
        print(f"{attributes}: {baseline_file.GITATTRIBUTES_LINE} (branches' entries merge)",
              file=sys.stderr)
    return 0
