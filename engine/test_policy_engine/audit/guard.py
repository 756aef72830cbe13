"""The audit's runtime guard section: the tests that did what their category forbids.

The plugin records each forbidden call as a JUnit property `test_policy.guard.<kind>`
(value: the one-line report) and the category's mode as `test_policy.guard_mode`
(`strict` or `warn`). A violation in `strict` mode is a failure of the audit, one in
`warn` mode a warning. Results written before the mode was recorded are judged by the
mode the policy gives the test's category now (`strict` when it says none).

The time audit calls `GuardCollector.see` only for a `<testcase>` with more properties
than the plugin's three (`test_policy.category`, `.limit`, `.reason`): a test without a
violation costs one `len`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from test_policy_engine.audit.junit import CaseRecord, Properties
from test_policy_engine.guard.rules import KINDS, KNOWN_MODE, MODE_PROPERTY, PROPERTY_PREFIX
from test_policy_engine.policy.model import Policy
from test_policy_engine.policy.timeouts import CATEGORY_PROPERTY, PROPERTY_NAMES

#: A `<testcase>` with more properties than these may carry guard properties.
PLAIN_PROPERTIES = len(PROPERTY_NAMES)
#: Tests listed with their calls; past this many only counted (a file of a million
#: violations must not cost the audit a million messages).
MAX_LISTED = 1_000
#: The JUnit reader keeps this many characters of a guard property's value.
VALUE_CHARS = 1000


@dataclass(frozen=True)
class GuardFinding:
    """One test's forbidden calls: (kind, the one-line report) each, in report order."""

    record: CaseRecord
    category: str
    strict: bool
    calls: tuple[tuple[str, str], ...]
    known: bool = False  # every call listed in the baseline: known debt (`guard` lines)


@dataclass(frozen=True)
class GuardSection:
    failures: list[GuardFinding] = field(default_factory=list)  # strict, in reading order
    warnings: list[GuardFinding] = field(default_factory=list)  # warn
    known: list[GuardFinding] = field(default_factory=list)  # listed in the baseline
    unlisted_failures: int = 0  # past MAX_LISTED
    unlisted_warnings: int = 0

    @property
    def failed(self) -> int:
        return len(self.failures) + self.unlisted_failures

    @property
    def warned(self) -> int:
        return len(self.warnings) + self.unlisted_warnings


class GuardCollector:
    """The guard properties of the records the audit reads."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.found: dict[tuple[str, str], GuardFinding] = {}  # (classname, name) -> finding
        self.unlisted = [0, 0]  # warnings, failures

    def see(self, classname: str, name: str, props: Properties,
            current: Callable[[], CaseRecord]) -> Properties:
        """Take the guard properties of one `<testcase>`; returns the others (what the
        time audit judges and caches by)."""
        calls: list[tuple[str, str]] = []
        mode = None
        rest = []
        for key, value in props:
            if key.startswith(PROPERTY_PREFIX):
                calls.append((key[len(PROPERTY_PREFIX):], _whole(value)))
            elif key == MODE_PROPERTY:
                mode = value
            else:
                rest.append((key, value))
        if not calls:
            return props
        category = next((v for k, v in rest if k == CATEGORY_PROPERTY), "")
        listed = mode == KNOWN_MODE
        strict = not listed and self._strict(mode, category)
        test = (classname, name)
        known = self.found.get(test)
        if known is not None:  # the same test again (a teardown error, a rerun)
            merged = dict(known.calls)
            for kind, message in calls:
                merged.setdefault(kind, message)
            calls = list(merged.items())
            strict = strict or known.strict
            listed = listed and known.known
        elif len(self.found) >= MAX_LISTED:
            self.unlisted[strict] += 1
            return tuple(rest)
        order = {kind: index for index, kind in enumerate(KINDS)}
        calls.sort(key=lambda call: (order.get(call[0], len(KINDS)), call[0]))
        record = known.record if known is not None else current()
        self.found[test] = GuardFinding(record, category, strict, tuple(calls), listed)
        return tuple(rest)

    def _strict(self, mode: str | None, category: str) -> bool:
        if mode in ("strict", "warn"):
            return mode == "strict"
        found = self.policy.categories.get(category)
        forbid = found.forbid if found is not None else None
        return forbid is None or forbid.mode != "warn"

    def result(self) -> GuardSection:
        findings = list(self.found.values())
        return GuardSection([f for f in findings if f.strict],
                            [f for f in findings if not f.strict and not f.known],
                            [f for f in findings if f.known and not f.strict],
                            self.unlisted[True], self.unlisted[False])


def _whole(value: str) -> str:
    """The report as read; marked when the reader cut it."""
    return value + "…" if len(value) >= VALUE_CHARS else value


# -- what the reports show (the escaping is the report's own) ---------------------

def summary(section: GuardSection | None) -> str:
    """What the summary line adds: `; runtime guard: 2 failures, 1 warning`."""
    if section is None or not (section.failed or section.warned or section.known):
        return ""
    from test_policy_engine.audit.report import plural

    known = f", {len(section.known):,} known" if section.known else ""
    return (f"; runtime guard: {plural(section.failed, 'failure')}, "
            f"{plural(section.warned, 'warning')}{known}")


def text_lines(section: GuardSection | None) -> list[str]:
    """The text report's guard sections, each followed by an empty line."""
    if section is None:
        return []
    from test_policy_engine.audit.report import line_value, plural
    from test_policy_engine.policy.errors import printable

    lines: list[str] = []
    for title, findings, unlisted in _parts(section):
        head, _, tail = title.partition(" (")
        lines.append(f"{head.upper()} ({tail}:")
        for finding in findings:
            name = line_value(_name(finding))
            for _, message in finding.calls:
                lines.append(f"  {name}: {printable(message)} [{printable(finding.category)}]")
        if unlisted:
            lines.append(f"  …and {plural(unlisted, 'more test')}.")
        lines.append("")
    return lines


def markdown_lines(section: GuardSection | None) -> list[str]:
    """The Markdown report's guard sections (also the job summary)."""
    if section is None:
        return []
    from test_policy_engine.audit.report import (
        MAX_MARKDOWN_ROWS,
        _cell,
        _code,
        _table,
        plural,
    )

    lines: list[str] = []
    for title, findings, unlisted in _parts(section):
        rows = [[_code(_name(f)), _cell(kind), *map(_cell, _call_and_site(message)),
                 _cell(f.category)]
                for f in findings for kind, message in f.calls]
        more = max(0, len(rows) - MAX_MARKDOWN_ROWS)
        lines += ["", f"### {title}", ""]
        lines += _table(["Test", "Kind", "Call", "Called from", "Category"],
                        rows[:MAX_MARKDOWN_ROWS])
        if more or unlisted:
            lines += ["", f"…and {plural(more, 'more call')}"
                      + (f", {plural(unlisted, 'more test')}" if unlisted else "") + "."]
    return lines


def _call_and_site(message: str) -> tuple[str, str]:
    """(`socket.connect(('192.0.2.1', 80))`, `app/client.py:9 in fetch()`) from a report
    `unit tests may not ...: CALL from SITE — HINT`; the whole report and "" when it is not
    one (the hint, the same for every test of a kind, is left to the text report)."""
    head, dash, _ = message.rpartition(" \N{EM DASH} ")
    _, colon, rest = head.partition(": ")
    call, where, site = rest.rpartition(" from ")
    if not (dash and colon and where and call):
        return message, ""
    return call, site


def _parts(section: GuardSection) -> list[tuple[str, list[GuardFinding], int]]:
    parts = []
    if section.failed:
        parts.append(("Runtime guard failures (forbidden calls, mode strict)",
                      section.failures, section.unlisted_failures))
    if section.warned:
        parts.append(("Runtime guard warnings (forbidden calls, mode warn)",
                      section.warnings, section.unlisted_warnings))
    if section.known:
        parts.append(("Runtime guard known debt (forbidden calls the baseline lists)",
                      section.known, 0))
    return parts


def _name(finding: GuardFinding) -> str:
    """The test's node id where pytest wrote it (the guard is pytest's), else its name."""
    from test_policy_engine.audit.verdicts import qualified_name

    return qualified_name(finding.record)
