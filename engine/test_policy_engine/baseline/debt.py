"""The baseline's slow tests as the pytest plugin reads them: one test at a time.

`Debt.standing(node_id, seconds)` is the judgement of one test that is over its limit,
the same one the audit makes for a whole run (`baseline.ratchet`): `known` (listed, not
expired, not more than `SLOWER_FACTOR` times slower than recorded: it passes, counted as
debt), `expired` or `slower` (it fails, with the entry named), None (not listed: it fails
as without a baseline). A listed test within `warn_ratio` of its limit is *fixed*; the
plugin records it, and the audit fails on it until the entry is pruned. Between that and the
limit it is neither: a test that hovers at its limit must not flip between known and fixed
from one run to the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from test_policy_engine.baseline import entries as baseline_file
from test_policy_engine.baseline import guards
from test_policy_engine.baseline.entries import Entry
from test_policy_engine.baseline.ratchet import SLOWER_FACTOR
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.reading import read_regular

#: The largest baseline read (a line per slow test: a million tests' worth).
BASELINE_MAX_BYTES = 64 * 1024 * 1024

Standing = Literal["known", "slower", "expired"]


@dataclass(frozen=True)
class Debt:
    """The slow entries of one baseline file, by node id, judged as of `today`."""

    shown_as: str  # the file, as messages name it
    entries: Mapping[str, Entry]
    today: dt.date
    fixed_below: float = 0.8  # the policy's warn_ratio: fixed at or below this much of the limit
    #: node id -> what the runtime guard lets it do as known debt (`guard` lines, not
    #: expired)
    guards: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def fixed(self, node_id: str, seconds: float, limit: float) -> bool:
        """Whether a listed test that took `seconds` is comfortably within its limit."""
        return node_id in self.entries and seconds <= self.fixed_below * limit

    def standing(self, node_id: str, seconds: float) -> tuple[Standing, Entry] | None:
        entry = self.entries.get(node_id)
        if entry is None:
            return None
        if entry.expired(self.today):
            return "expired", entry
        if seconds > SLOWER_FACTOR * entry.seconds:
            return "slower", entry
        return "known", entry

    def known_line(self, seconds: float, limit: float, entry: Entry) -> str:
        return (f"known slow test ({self.shown_as}): took {seconds:.2f} s, limit {limit:g} s, "
                f"recorded {entry.seconds:.2f} s")

    def failing_note(self, standing: Standing, entry: Entry) -> str:
        """What a failing verdict line of a listed test ends with."""
        if standing == "expired":
            return f"; its entry in {self.shown_as} expired on {entry.until}"
        return (f"; more than {SLOWER_FACTOR:g}x the {entry.seconds:.2f} s recorded in "
                f"{self.shown_as}")


def load_debt(path: Path, shown_as: str, today: dt.date, fixed_below: float = 0.8
              ) -> Debt | None:
    """The baseline at `path`; None when there is none or it lists no slow test and no guard
    violation. A file
    that cannot be read or holds a malformed line is the user's error (UserError)."""
    try:
        data = read_regular(path, BASELINE_MAX_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError(f"{shown_as}: cannot read the baseline ({exc.strerror or exc})"
                        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{shown_as}: the baseline is not UTF-8 text (byte {exc.start}); "
                        "hint: write it again with `test-policy baseline`") from None
    listed = {entry.node_id: entry for entry in baseline_file.parse(text, shown_as)}
    guarded = guards.known(baseline_file.parse_guards(text, shown_as), today)
    return Debt(shown_as, listed, today, fixed_below, guarded) if listed or guarded else None
