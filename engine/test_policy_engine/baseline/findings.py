"""The baseline's rule-finding lines: one per known match, never a line number.

    finding <file> <rule id> <fingerprint>:<n> [until=YYYY-MM-DD] [# note]

`<fingerprint>` is the lint finding's (`test_policy_engine.lint.findings.fingerprint`: rule,
file and matched code with white space made one space), so an entry survives lines added
above its match; `:<n>` tells identical matches in one file apart (`:0`, `:1`, ...), and
`<fingerprint>:<n>` is the SARIF report's `partialFingerprints` value. The file is
percent-encoded where it holds white space, `#` or `%` (`tests/a%20b.py`), so every field
is one token. `test-policy baseline` writes the first line of the matched code as the note;
replace it with a reason, it is kept on every rewrite.

Identical matches are counted, not placed: when a file has N matches of one fingerprint and
the baseline lists K lines of it, min(N, K) are known, the rest of the matches are new (the
last ones in the file), the rest of the lines are fixed (the highest `:<n>`). One
`<fingerprint>:<n>` counts once, however many lines hold it. A union merge of two branches
that each added a different finding keeps both lines; when both added another identical
match to one file (the same `:<n>`), it keeps one line, and lint then reports one of the
matches as new: a merge is never more lenient than the two branches were.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from test_policy_engine.baseline.fields import expired, located, suffix, take_until

KIND = "finding"
SHAPE = "finding <file> <rule id> <fingerprint>:<n>"
ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
FINGERPRINT = re.compile(r"^([0-9a-f]{16}):([0-9]{1,6})$")
#: How much of the matched code the note written by `test-policy baseline` keeps.
NOTE_CHARS = 72


@dataclass(frozen=True)
class FindingEntry:
    path: str  # relative to the policy's directory, POSIX (as lint reports it)
    rule: str  # test-policy.real-sleep
    fingerprint: str  # 16 hex digits
    occurrence: int = 0
    until: dt.date | None = None
    reason: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.rule, self.fingerprint)

    def render(self) -> str:
        fields = [KIND, quote(self.path), self.rule, f"{self.fingerprint}:{self.occurrence}"]
        return " ".join(fields + suffix(self.until, self.reason))

    def expired(self, today: dt.date) -> bool:
        return expired(self.until, today)


def quote(path: str) -> str:
    """`path` as one token: white space, `#`, `%` and unprintable characters as %XX."""
    return "".join(c if c.isprintable() and not c.isspace() and c not in "#%"
                   else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogateescape"))
                   for c in path)


def unquote(token: str) -> str:
    """`quote` undone (urllib.parse.unquote costs a hook 7 ms of imports)."""
    return ESCAPES.sub(lambda run: bytes.fromhex(run.group().replace("%", "")).decode(
        "utf-8", "surrogateescape"), token)


def note(code: str) -> str:
    """The note `test-policy baseline` writes: the first line of the matched code."""
    first = next((line.strip() for line in code.splitlines() if line.strip()), "")
    shown = "".join(c if c.isprintable() else " " for c in first)
    return shown if len(shown) <= NOTE_CHARS else shown[: NOTE_CHARS - 3] + "..."


def parse_line(line: str, where: str, number: int) -> FindingEntry:
    """One `finding` line; a malformed one is the user's input error, with its place."""
    bad = located(where, number, SHAPE)

    body, _, reason = line.partition(" # ")
    tokens = body.split()
    if not tokens or tokens[0] != KIND:
        raise bad("an entry starts with `slow`, `finding` or `guard`",
                  tokens[0] if tokens else line)
    until = take_until(tokens, bad)
    if len(tokens) != 4:
        raise bad("a finding entry has a file, a rule id and a fingerprint", body.strip())
    _, path_token, rule, mark = tokens
    matched = FINGERPRINT.match(mark)
    if matched is None:
        raise bad("the fingerprint is 16 hex digits, a colon and the match's number", mark,
                  "e.g. 3f2a9c1b0d4e5f67:0, as `test-policy baseline` writes it")
    path = unquote(path_token)
    if path.startswith("/") or not path:
        raise bad("the file is relative to the policy's directory", path_token)
    return FindingEntry(path, rule, matched.group(1), int(matched.group(2)), until,
                        reason.strip())


def sort_key(entry: FindingEntry) -> tuple[str, str, str, int]:
    return (*entry.key, entry.occurrence)


def unique(entries: Iterable[FindingEntry]) -> list[FindingEntry]:
    """`entries` sorted by file, rule, fingerprint and number, each (fingerprint, number) once:
    a line repeated (two branches that wrote one line differently) counts once, the first."""
    first: dict[tuple[str, str, str, int], FindingEntry] = {}
    for entry in entries:
        first.setdefault(sort_key(entry), entry)
    return [first[key] for key in sorted(first)]
