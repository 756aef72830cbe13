"""`test-policy baseline [RESULTS...]`: record today's debt, slow tests and rule findings.

It writes `.test-policy-baseline` (beside the policy; `--baseline FILE` elsewhere):
- with RESULTS (JUnit XML), every test the audit of RESULTS fails for time;
- unless `--no-scan`, every rule finding of a scan of every file the lint globs select
  (the scan `test-policy lint` runs without PATHs; Semgrep must be on PATH);
one sorted line each, keeping the `until=` and reason of entries already there; entries
that are fixed now (a test within its limit, a finding gone) are dropped. With `--prune`
it only drops those, and adds nothing. The kind it does not refresh (the slow tests
without RESULTS, the findings with `--no-scan`) is kept as it is. It also adds
`merge=union` for the file to `.gitattributes`, so two branches that each add entries
merge without a conflict.

`test-policy audit` reads the slow entries (`apply` and `report` below), `test-policy lint`
the finding entries.
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
from test_policy_engine.baseline.findings import FindingEntry, note, sort_key, unique
from test_policy_engine.baseline.guards import GuardEntry
from test_policy_engine.baseline.guards import unique as unique_guards
from test_policy_engine.baseline.ratchet import (
    SLOWER_FACTOR,
    Ratchet,
    Slow,
    judge,
    judge_findings,
)
from test_policy_engine.cli.baseline_file import default_path, read, read_guards, read_text
from test_policy_engine.cli.files import write_atomic
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import load_policy

__all__ = ["apply", "default_path", "guard_fixed", "guard_report", "read", "read_guards",
           "report", "run"]

HELP = ("record today's debt as known: the rule findings of a scan and, with RESULTS "
        "(JUnit XML), the tests over their limit: the ratchet")
INSTALL = "pip install 'test-policy-engine[semgrep]'"

#: The verdicts a baseline can list (an unreadable time is not debt, it is a broken file).
TIME_KINDS = ("over", "timed out", "crashed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="RESULTS",
                        help="JUnit XML files, or directories searched for *.xml (as audit); "
                        "without them only the rule findings are recorded")
    parser.add_argument("--baseline", metavar="FILE",
                        help=f"the baseline file (default: {baseline_file.DEFAULT_NAME} "
                             "beside the policy)")
    parser.add_argument("--prune", action="store_true",
                        help="only drop the entries of fixed tests and findings; add nothing")
    parser.add_argument("--no-scan", action="store_true",
                        help="record only the slow tests of RESULTS (no Semgrep scan); keep "
                        "the finding entries as they are")


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


def guard_violations(result: AuditResult, is_file: Callable[[str], bool]
                     ) -> dict[str, set[str]]:
    """node id -> the kinds of forbidden call the runtime guard recorded for it."""
    found: dict[str, set[str]] = {}
    section = result.guard
    if section is not None:
        for finding in section.failures + section.warnings + section.known:
            kinds = found.setdefault(node_id(finding.record, is_file), set())
            kinds.update(kind for kind, _ in finding.calls)
    return found


def guard_fixed(result: AuditResult, entries: list[GuardEntry],
                is_file: Callable[[str], bool]) -> list[GuardEntry]:
    """The `guard` entries of tests that ran without doing what their entry names."""
    if result.durations is None:
        return []
    seen = guard_violations(result, is_file)
    return [entry for entry in unique_guards(entries) if entry.node_id in result.durations
            and entry.kind not in seen.get(entry.node_id, set())]


def guard_report(fixed: list[GuardEntry]) -> str:
    return "".join(f"error: {entry.node_id}: no longer does what its guard entry lists "
                   f"({entry.kind}): fixed; hint: drop it with "
                   "`test-policy baseline --prune RESULTS...`\n" for entry in fixed)


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


def _slow(args: argparse.Namespace, old: list[Entry]
          ) -> tuple[list[Entry], str, AuditResult]:
    """The slow entries after an audit of RESULTS, what changed, and the audit."""
    from test_policy_engine.cli.audit import _is_file, result_files  # one reading of RESULTS

    policy = load_policy(args.policy)
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
    total = len({entry.node_id for entry in kept + added})
    return kept + added, (f"{_count(total, 'slow test')} ({len(added)} added, "
                          f"{len(fixed)} pruned)"), result


def _guards(args: argparse.Namespace, result: AuditResult, old: list[GuardEntry]
            ) -> tuple[list[GuardEntry], str]:
    """The guard entries after the audit of RESULTS: each forbidden call the runtime guard
    recorded (kept with its `until=` and reason when listed), the fixed ones dropped."""
    from test_policy_engine.cli.audit import _is_file

    fixed = {(e.node_id, e.kind) for e in guard_fixed(result, old, _is_file)}
    kept = [e for e in unique_guards(old) if (e.node_id, e.kind) not in fixed]
    listed = {(e.node_id, e.kind) for e in kept}
    added = [] if args.prune else [
        GuardEntry(node, kind) for node, kinds in sorted(guard_violations(result, _is_file).items())
        for kind in sorted(kinds) if (node, kind) not in listed]
    return kept + added, (f"{_count(len(kept) + len(added), 'guard violation')} "
                          f"({len(added)} added, {len(fixed)} pruned)")


def _findings(args: argparse.Namespace,
              old: list[FindingEntry]) -> tuple[list[FindingEntry], str]:
    """The finding entries after a scan of every file the lint globs select."""
    from test_policy_engine.cli.lint import CannotScan, scan, scanned

    try:
        found = scan(args.policy, (), command="baseline")
    except CannotScan as exc:
        if exc.missing:
            raise UserError(
                "test-policy baseline: semgrep not found on PATH, so the rule findings "
                f"cannot be recorded; hint: install it ({INSTALL}), or record only the slow "
                "tests: `test-policy baseline --no-scan RESULTS...`") from None
        raise UserError(f"test-policy baseline: {exc}") from None
    ratchet = judge_findings(found.findings, old, scanned(found, whole=True), dt.date.today())
    fixed = {sort_key(entry) for entry in ratchet.fixed}
    kept = [entry for entry in unique(old) if sort_key(entry) not in fixed]
    taken: dict[tuple[str, str, str], set[int]] = {}
    for entry in kept:
        taken.setdefault(entry.key, set()).add(entry.occurrence)
    added = []
    for finding in [] if args.prune else ratchet.new:
        used = taken.setdefault((finding.path, finding.rule, finding.fingerprint), set())
        free = next(n for n in range(len(used) + 1) if n not in used)
        used.add(free)
        added.append(FindingEntry(finding.path, finding.rule, finding.fingerprint, free,
                                  reason=note(finding.code)))
    expired = (f", {len(ratchet.expired)} past their until= date (they fail)"
               if ratchet.expired else "")
    return kept + added, (f"{_count(len(kept) + len(added), 'finding')} ({len(added)} added, "
                          f"{len(fixed)} pruned{expired}; "
                          f"{_count(len(found.files), 'file')} scanned)")


def _count(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def run(args: argparse.Namespace) -> int:
    if args.no_scan and not args.paths:
        raise UserError("test-policy baseline: --no-scan without RESULTS records nothing; "
                        "hint: name the JUnit XML files, or drop --no-scan to record the "
                        "rule findings")
    path = default_path(args)
    text = read_text(path)
    old_slow = baseline_file.parse(text or "", str(path))
    old_found = baseline_file.parse_findings(text or "", str(path))
    old_guards = baseline_file.parse_guards(text or "", str(path))
    said = []
    found = old_found
    if not args.no_scan:  # first: a missing Semgrep stops it before the suite's results
        found, what = _findings(args, old_found)
        said.append(what)
    slow = old_slow
    guarded = old_guards
    if args.paths:
        slow, what, result = _slow(args, old_slow)
        guarded, guard_what = _guards(args, result, old_guards)
        said.insert(0, what)
        if guarded or old_guards:  # said once there is something to say
            said.insert(1, guard_what)
    if not args.paths:
        said.append(f"{_count(len({e.node_id for e in slow}), 'slow test')} kept")
    if args.no_scan:
        said.append(f"{_count(len(unique(found)), 'finding')} kept")
    new_text = baseline_file.render(slow, found, guarded)
    unchanged = text == new_text
    if not unchanged:
        write_atomic(path, new_text)
    attributes = _gitattributes(path.parent)
    print(f"{path}: {'; '.join(said)}{', unchanged' if unchanged else ''}", file=sys.stderr)
    if attributes:
        print(f"{attributes}: {baseline_file.GITATTRIBUTES_LINE} (branches' entries merge)",
              file=sys.stderr)
    return 0
