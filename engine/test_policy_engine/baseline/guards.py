"""The baseline's `guard` lines: a test that does what its category's `forbid:` forbids,
recorded as known debt.

    guard <node id> <kind> [until=YYYY-MM-DD] [# reason]

`kind` is one of the guard's kinds (`network`, `subprocess`, `sleep`). The plugin lets a
listed test do what its line names without failing (the call is still recorded, as
`known`); the audit counts it as a known violation, and fails on a listed test that ran
without doing it any more (fixed: prune it) and on an entry past its `until=` date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from test_policy_engine.baseline.fields import expired, located, suffix, take_until
from test_policy_engine.guard.rules import KINDS

KIND = "guard"


@dataclass(frozen=True, order=True)
class GuardEntry:
    node_id: str
    kind: str
    until: dt.date | None = None
    reason: str = ""

    def render(self) -> str:
        return " ".join([KIND, self.node_id, self.kind, *suffix(self.until, self.reason)])

    def expired(self, today: dt.date) -> bool:
        return expired(self.until, today)


def parse_line(line: str, where: str, number: int) -> GuardEntry:
    """One `guard` line; a malformed one is the user's input error, with its place."""
    bad = located(where, number)

    body, _, reason = line.partition(" # ")
    tokens = body.split()
    until = take_until(tokens, bad)
    if len(tokens) < 3:
        raise bad("a guard entry has a node id and a kind", body,
                  f"guard <node id> <{'|'.join(KINDS)}>")
    if tokens[-1] not in KINDS:
        raise bad("a guard entry's kind is one of the guard's", tokens[-1],
                  f"one of {', '.join(KINDS)}")
    return GuardEntry(" ".join(tokens[1:-1]), tokens[-1], until, reason.strip())


def known(entries: Iterable[GuardEntry], today: dt.date) -> dict[str, frozenset[str]]:
    """node id -> the kinds its entries (those not expired) let it do."""
    kinds: dict[str, set[str]] = {}
    for entry in entries:
        if not entry.expired(today):
            kinds.setdefault(entry.node_id, set()).add(entry.kind)
    return {node: frozenset(found) for node, found in kinds.items()}


def unique(entries: Iterable[GuardEntry]) -> list[GuardEntry]:
    """One entry per (node id, kind), the first kept, sorted."""
    kept: dict[tuple[str, str], GuardEntry] = {}
    for entry in entries:
        kept.setdefault((entry.node_id, entry.kind), entry)
    return [kept[key] for key in sorted(kept)]


def render_all(entries: Iterable[GuardEntry]) -> str:
    return "".join(f"{entry.render()}\n" for entry in unique(entries))
