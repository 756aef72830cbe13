"""An audit's slow tests against the baseline, as a pure function.

A test over its limit is *known* when the baseline lists it, it has not got more than
`SLOWER_FACTOR` times slower than recorded, and its entry has not expired; every other test
over its limit fails as before. An entry whose test ran and is within its limit is *fixed*:
it fails until it is pruned, so the file only shrinks. An entry whose test did not run
(another shard, a deleted test) is left alone: a partial run never prunes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from test_policy_engine.baseline.entries import Entry

#: A baselined test more than this many times slower than its recorded time fails.
SLOWER_FACTOR = 2.0

T = TypeVar("T")


@dataclass(frozen=True)
class Slow(Generic[T]):
    """A test over its limit in this run: its node id, time (None: killed) and the verdict."""

    node_id: str
    time: float | None
    verdict: T


@dataclass
class Ratchet(Generic[T]):
    known: list[tuple[Slow[T], Entry]] = field(default_factory=list)  # warnings
    new: list[Slow[T]] = field(default_factory=list)  # failures, as without a baseline
    slower: list[tuple[Slow[T], Entry]] = field(default_factory=list)  # failures
    expired: list[tuple[Slow[T], Entry]] = field(default_factory=list)  # failures
    fixed: list[Entry] = field(default_factory=list)  # failures until pruned

    @property
    def failed(self) -> bool:
        return bool(self.new or self.slower or self.expired or self.fixed)


def judge(slow: Iterable[Slow[T]], ran: Mapping[str, float] | None, entries: Iterable[Entry],
          today: dt.date) -> Ratchet[T]:
    """`slow`: the run's tests over their limit; `ran`: node id -> seconds of every test that
    ran (None: unknown, so nothing counts as fixed)."""
    listed = {entry.node_id: entry for entry in entries}
    out: Ratchet[T] = Ratchet()
    over = set()
    for test in slow:
        over.add(test.node_id)
        entry = listed.get(test.node_id)
        if entry is None:
            out.new.append(test)
        elif entry.expired(today):
            out.expired.append((test, entry))
        elif test.time is not None and test.time > SLOWER_FACTOR * entry.seconds:
            out.slower.append((test, entry))
        else:
            out.known.append((test, entry))
    if ran is not None:
        out.fixed = [entry for node, entry in sorted(listed.items())
                     if node in ran and node not in over]
    return out
