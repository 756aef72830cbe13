"""What every baseline line ends with: `[until=YYYY-MM-DD] [# reason]`, written and read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from test_policy_engine.policy.errors import Problem, UserError


def suffix(until: dt.date | None, reason: str) -> list[str]:
    """The tokens after an entry's own fields."""
    parts = [] if until is None else [f"until={until.isoformat()}"]
    return parts + ([f"# {reason}"] if reason else [])


def take_until(tokens: list[str], bad: Callable[[str, str, str], UserError]) -> dt.date | None:
    """Pop a trailing `until=` token off `tokens` (the line without its `# reason`)."""
    if not tokens or not tokens[-1].startswith("until="):
        return None
    text = tokens.pop()[len("until="):]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise bad("until= must be a date YYYY-MM-DD", text, "e.g. until=2027-01-31") from None


def expired(until: dt.date | None, today: dt.date) -> bool:
    return until is not None and until < today


def located(where: str, number: int, default_hint: str = ""
            ) -> Callable[..., UserError]:
    """`bad(what, got, hint)`: the located input error of line `number` of `where`."""
    def bad(what: str, got: str, hint: str = default_hint) -> UserError:
        return UserError([Problem(where, number, 1, "baseline", f"{what} (got {got!r})", hint)])

    return bad
