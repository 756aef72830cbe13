"""The baseline file: one entry per line, sorted, readable, and stable under line moves.

    slow <node id> <category> <seconds> [until=YYYY-MM-DD] [# reason]
    finding <file> <rule id> <fingerprint>:<n> [until=YYYY-MM-DD] [# note]
    guard <node id> <kind> [until=YYYY-MM-DD] [# reason]

This module reads and writes the `slow` lines (`parse` skips the `finding` and `guard`
lines, which `baseline.findings` and `baseline.guards` read); `render` writes the whole
file, every kind.

A node id may hold spaces (`test_x[a b]`), so the fields after it are read from the right.
No line numbers and no file hashes: an entry changes only when its test does. Lines starting
with `#` are comments; `test-policy baseline` writes the header and keeps each entry's
`until=` and reason when it rewrites the file.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from test_policy_engine.baseline import DEFAULT_NAME as DEFAULT_NAME  # re-exported: its old home
from test_policy_engine.baseline import findings, guards
from test_policy_engine.baseline.fields import expired, located, suffix, take_until
from test_policy_engine.baseline.findings import FindingEntry
from test_policy_engine.baseline.guards import GuardEntry

#: The file's default name, in the repository root (beside the policy), is DEFAULT_NAME.
#: The `.gitattributes` line that makes `git merge` keep both branches' new entries.
GITATTRIBUTES_LINE = f"{DEFAULT_NAME} merge=union"

HEADER = (
    "# test-policy baseline: known debt, written by `test-policy baseline [RESULTS...]`.\n"
    "# slow <node id> <category> <seconds recorded> [until=YYYY-MM-DD] [# reason]\n"
    "# finding <file> <rule id> <fingerprint>:<n> [until=YYYY-MM-DD] [# note]\n"
    "# guard <node id> <network|subprocess|sleep> [until=YYYY-MM-DD] [# reason]\n"
    "# A listed test over its limit, a listed finding, or a listed test doing what its\n"
    "# category forbids passes as known debt; a new one,\n"
    "# one past its `until=` date, a test more than 2x its recorded time, and an entry whose\n"
    "# test or finding is fixed (prune it: `test-policy baseline --prune`) fail.\n"
)


@dataclass(frozen=True, order=True)
class Entry:
    node_id: str
    category: str
    seconds: float
    until: dt.date | None = None
    reason: str = ""

    def render(self) -> str:
        fields = ["slow", self.node_id, self.category, f"{self.seconds:.3f}"]
        return " ".join(fields + suffix(self.until, self.reason))

    def expired(self, today: dt.date) -> bool:
        return expired(self.until, today)


def parse_line(line: str, where: str, number: int) -> Entry:
    """One entry line; a malformed one is the user's input error, with its place."""
    bad = located(where, number)

    body, _, reason = line.partition(" # ")
    tokens = body.split()
    if not tokens or tokens[0] != "slow":
        raise bad("an entry starts with `slow`, `finding` or `guard`",
                  tokens[0] if tokens else line,
                  "slow <node id> <category> <seconds>")
    until = take_until(tokens, bad)
    if len(tokens) < 4:
        raise bad("a slow entry has a node id, a category and seconds", body,
                  "slow <node id> <category> <seconds>")
    try:
        seconds = float(tokens[-1])
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise bad("seconds must be a number of 0 or more", tokens[-1], "e.g. 2.104")
    return Entry(" ".join(tokens[1:-2]), tokens[-2], seconds, until, reason.strip())


def _kind(line: str) -> str | None:
    """`slow`, `finding`, another word, or None for a blank or comment line."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    return stripped.split(maxsplit=1)[0]


def parse(text: str, where: str) -> list[Entry]:
    """The `slow` entries of a baseline file; the other kinds are skipped."""
    return [parse_line(line, where, number)
            for number, line in enumerate(text.splitlines(), 1)
            if _kind(line) not in (None, findings.KIND, guards.KIND)]


def parse_findings(text: str, where: str) -> list[FindingEntry]:
    """The `finding` entries of a baseline file (a line of no known kind is reported
    here); `slow` and `guard` lines are skipped."""
    return [findings.parse_line(line, where, number)
            for number, line in enumerate(text.splitlines(), 1)
            if _kind(line) not in (None, "slow", guards.KIND)]


def parse_guards(text: str, where: str) -> list[GuardEntry]:
    """The `guard` entries of a baseline file."""
    return [guards.parse_line(line, where, number)
            for number, line in enumerate(text.splitlines(), 1)
            if _kind(line) == guards.KIND]


def render(entries: Iterable[Entry], found: Iterable[FindingEntry] = (),
           guarded: Iterable[GuardEntry] = ()) -> str:
    """The whole file: the header, one line per test sorted by node id, then one line per
    known finding sorted by file, rule, fingerprint and number, then one per known guard
    violation sorted by node id and kind."""
    unique = {entry.node_id: entry for entry in sorted(entries)}
    return (HEADER + "".join(f"{unique[key].render()}\n" for key in sorted(unique))
            + "".join(f"{entry.render()}\n" for entry in findings.unique(found))
            + guards.render_all(guarded))
