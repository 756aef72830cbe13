"""The one exception type for the user's mistakes, and how it is printed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a user's input, located as precisely as we can."""

    file: str
    line: int | None
    col: int | None
    where: str
    message: str
    hint: str = ""

    def render(self) -> str:
        location = self.file
        if self.line is not None:
            location += f":{self.line}"
            if self.col is not None:
                location += f":{self.col}"
        text = f"{location}: "
        if self.where:
            text += f"{self.where}: "
        text += self.message
        if self.hint:
            text += f"; hint: {self.hint}"
        return printable(text)


class UserError(Exception):
    """A mistake in the user's input or invocation: printed cleanly, exit code 2."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            self.problems: tuple[Problem, ...] = ()
            self.text = problems
        else:
            self.problems = tuple(problems)
            self.text = "\n".join(p.render() for p in self.problems)
        super().__init__(self.text)

    def __str__(self) -> str:
        return self.text


def printable(text: str) -> str:
    """`text` on one line: every character that is not printable (newlines, carriage
    returns, other control and separator characters) shown as its escape, `\\n`. The one
    way user-controlled text reaches a line-oriented output, so it cannot start a line
    of its own (a GitHub workflow command, a forged report line)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def show(value: object, limit: int = 60) -> str:
    """Render a user's value for a '(got X)' suffix, shortened if long."""
    text = repr(value) if isinstance(value, str) else _plain(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _plain(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return str(value)
