"""An audit's slow tests, and a lint scan's rule findings, against the baseline: pure
functions (`judge`, `judge_findings`).

A test over its limit is *known* when the baseline lists it, it has not got more than
`SLOWER_FACTOR` times slower than recorded, and its entry has not expired; every other test
over its limit fails as before. An entry whose test ran and is within its limit is *fixed*:
it fails until it is pruned, so the file only shrinks. An entry whose test did not run
(another shard, a deleted test) is left alone: a partial run never prunes. Findings alike:
an entry whose match is gone from a file the scan looked at is fixed; an entry of a file it
did not look at (the pre-commit hook scans only the staged files) is left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from test_policy_engine.baseline.entries import Entry
from test_policy_engine.baseline.findings import FindingEntry, unique

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


class Match(Protocol):
    """A rule finding as lint reports it (`test_policy_engine.lint.findings.Finding`)."""

    @property
    def path(self) -> str: ...

    @property
    def rule(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...


M = TypeVar("M", bound=Match)


@dataclass
class FindingRatchet(Generic[M]):
    known: list[tuple[M, FindingEntry]] = field(default_factory=list)  # they pass
    new: list[M] = field(default_factory=list)  # failures, as without a baseline
    expired: list[tuple[M, FindingEntry]] = field(default_factory=list)  # failures
    fixed: list[FindingEntry] = field(default_factory=list)  # failures until pruned

    @property
    def failed(self) -> bool:
        return bool(self.new or self.expired or self.fixed)


def judge_findings(found: Iterable[M], entries: Iterable[FindingEntry],
                   scanned: Callable[[str], bool], today: dt.date) -> FindingRatchet[M]:
    """`found`: a scan's findings in file order; `scanned(path)`: whether the scan looked at
    that file (an entry of a file it did not scan is neither known nor fixed: left alone).

    Identical matches are counted (`test_policy_engine.baseline.findings`): of N matches of
    one fingerprint and K entries, the first min(N, K) are known (or expired, by their
    entry), the other matches new, the other entries (highest numbers) fixed."""
    listed: dict[tuple[str, str, str], list[FindingEntry]] = {}
    for entry in unique(entries):
        listed.setdefault(entry.key, []).append(entry)
    out: FindingRatchet[M] = FindingRatchet()
    seen: dict[tuple[str, str, str], int] = {}
    for match in found:
        key = (match.path, match.rule, match.fingerprint)
        index = seen.get(key, 0)
        seen[key] = index + 1
        candidates = listed.get(key, [])
        if index >= len(candidates):
            out.new.append(match)
        elif candidates[index].expired(today):
            out.expired.append((match, candidates[index]))
        else:
            out.known.append((match, candidates[index]))
    for key, candidates in sorted(listed.items()):
        if scanned(key[0]):
            out.fixed += candidates[seen.get(key, 0):]
    return out
