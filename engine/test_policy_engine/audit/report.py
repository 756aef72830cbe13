"""Reporters for the audit's verdicts: text (the seed's format), markdown, json, github."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from test_policy_engine.audit import guard
from test_policy_engine.audit.verdicts import AuditResult, Verdict, candidate_paths, qualified_name
from test_policy_engine.policy.errors import printable

FORMATS = ("text", "markdown", "json", "github")

#: GitHub shows at most 10 annotations of each type per step (FIELD-NOTES).
MAX_ANNOTATIONS = 10
#: $GITHUB_STEP_SUMMARY takes 1 MiB per step; stay well under it.
SUMMARY_BUDGET = 900_000
MAX_MARKDOWN_ROWS = 50
MAX_CELL_CHARS = 200

IsFile = Callable[[str], bool]


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def _decimals(value: float) -> int:
    """The fewest decimals (at least 1) that print `value` exactly, up to 6."""
    for places in range(1, 7):
        if float(f"{value:.{places}f}") == value:
            return places
    return 6


def time_and_limit(time: float, limit: float) -> tuple[str, str]:
    """Both figures with enough decimals that they differ whenever the numbers do."""
    places = _decimals(limit)
    while places < 12 and time != limit and f"{time:.{places}f}" == f"{limit:.{places}f}":
        places += 1
    return f"{time:.{places}f}s", f"{limit:.{places}f}s"


def _limit_text(limit: float) -> str:
    return f"{limit:.{_decimals(limit)}f}s" if limit > 0 else "none"


def percent(ratio: float) -> str:
    return f"{ratio * 100:.4g}%"


class Names:
    """Test names as shown: bare, unless two listed tests share one."""

    def __init__(self, verdicts: Iterable[Verdict]) -> None:
        seen: dict[str, set[str]] = {}
        for verdict in verdicts:
            seen.setdefault(verdict.record.name, set()).add(qualified_name(verdict.record))
        self.ambiguous = {name for name, where in seen.items() if len(where) > 1}

    def __call__(self, verdict: Verdict) -> str:
        name = verdict.record.name
        return qualified_name(verdict.record) if name in self.ambiguous else name


def line_value(value: str) -> str:
    """A user-controlled value (test name, category, file name) as a line-oriented report
    shows it: on one line (`printable`), and quoted when it would otherwise begin a line
    with `::` (the GitHub runner reads such a line, leading spaces stripped, as a workflow
    command: `::add-mask::`, `::stop-commands::`)."""
    shown = printable(value)
    if shown.lstrip().startswith("::"):
        return json.dumps(shown)
    return shown


def _all_listed(result: AuditResult) -> list[Verdict]:
    return [*result.failures, *result.warnings, *result.unreadable, *result.slowest]


def describe_time(verdict: Verdict) -> str:
    """`0.190s (limit: 1.0s)`: a duration to the millisecond, for the slowest tests."""
    if verdict.time is None or verdict.kind in ("timed out", "crashed"):
        return describe(verdict)
    return f"{verdict.time:.3f}s (limit: {_limit_text(verdict.limit)})"


def describe(verdict: Verdict) -> str:
    """`2.3s (limit: 1.0s)`, `timed out after 5.0s (limit: 5.0s)`, `crashed (...)`."""
    limit = verdict.limit
    time = verdict.time
    if verdict.kind == "crashed":
        when = f"crashed after {time:.3f}s" if time else "crashed (its worker died; no time)"
        return f"{when} (limit: {_limit_text(limit)})"
    if time is None:
        return f"no readable time (limit: {_limit_text(limit)})"
    if limit <= 0:
        return f"{time:.3f}s (limit: none)"
    shown, limit_shown = time_and_limit(time, limit)
    if verdict.kind == "timed out":
        return f"timed out after {shown} (limit: {limit_shown})"
    return f"{shown} (limit: {limit_shown})"


def _unreadable_text(verdict: Verdict) -> str:
    if verdict.raw_time is None:
        what = "no time attribute"
    else:
        what = f"unreadable time {json.dumps(verdict.raw_time[:60])}"
    return f"{what} in {printable(verdict.raw_source)}"


def summary_line(result: AuditResult) -> str:
    text = "Summary: "
    if result.incomplete:
        text += f"{plural(len(result.incomplete), 'run')} cut short, "
    text += (f"{plural(len(result.failures), 'failure')}, "
            f"{plural(len(result.warnings), 'warning')}")
    if result.unreadable:
        text += f", {plural(len(result.unreadable), 'unreadable time')}"
    return text + guard.summary(result.guard)


def _line(names: Names, verdict: Verdict, what: str) -> str:
    return f"  {line_value(names(verdict))}: {what} [{printable(verdict.category)}]"


def text(result: AuditResult, top: int = 0) -> str:
    names = Names(_all_listed(result))
    lines = ["=== TEST PERFORMANCE AUDIT ===", ""]
    if result.incomplete:
        lines.append("INCOMPLETE RUNS (tests missing from the results):")
        lines += [f"  {line_value(run.source)}: {run.describe()}" for run in result.incomplete]
        lines.append("")
    if result.failures:
        lines.append("FAILURES (exceeded threshold):")
        lines += [_line(names, v, describe(v)) for v in result.failures]
        lines.append("")
    if result.warnings:
        lines.append(f"WARNINGS (>{percent(result.warn_ratio)} of threshold):")
        lines += [_line(names, v, describe(v)) for v in result.warnings]
        lines.append("")
    if result.unreadable:
        lines.append("UNREADABLE TIMES (not audited):")
        lines += [_line(names, v, _unreadable_text(v)) for v in result.unreadable]
        lines.append("")
    if not (result.failures or result.warnings or result.unreadable or result.incomplete):
        lines.append(f"All {plural(result.tests, 'test')} within "
                     f"{percent(result.warn_ratio)} of their thresholds.")
        lines.append("")
    lines += guard.text_lines(result.guard)
    lines.append(summary_line(result))
    if top > 0 and result.slowest:
        shown = result.slowest[:top]
        lines += ["", f"SLOWEST {plural(len(shown), 'TEST').upper()}:"]
        lines += [_line(names, v, describe_time(v)) for v in shown]
    return "\n".join(lines) + "\n"


# -- markdown -------------------------------------------------------------------

def _table_text(value: str) -> str:
    """One line, cut to the cell budget, pipes escaped (GitHub reads `\\|` as a pipe
    inside table cells, code spans included)."""
    value = printable(value)
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - 1] + "…"
    return value.replace("\\", "\\\\").replace("|", "\\|")


def _cell(value: str) -> str:
    """A user-controlled value as a Markdown table cell: no raw HTML, no emphasis, links
    or code spans of the user's making."""
    value = html.escape(_table_text(value), quote=False)
    return "".join(f"\\{c}" if c in _MARKDOWN_PUNCTUATION else c for c in value)


#: Characters that start Markdown inline syntax (emphasis, code, links, images).
_MARKDOWN_PUNCTUATION = frozenset("`*_[]!~")


def _code(value: str) -> str:
    """A user-controlled value as a code span: its content is literal (no HTML, no
    Markdown), and the fence is longer than any run of backticks inside it, so the value
    cannot close the span."""
    value = _table_text(value)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _seconds(value: float) -> str:
    return f"{value:,.3f} s"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _verdict_rows(verdicts: list[Verdict], names: Names) -> tuple[list[list[str]], int]:
    rows = [[_code(names(v)), _cell(describe(v)), _cell(v.category)]
            for v in verdicts[:MAX_MARKDOWN_ROWS]]
    return rows, max(0, len(verdicts) - MAX_MARKDOWN_ROWS)


def markdown(result: AuditResult, top: int = 10) -> str:
    """The report as Markdown: also the GitHub job summary; kept under 1 MiB."""
    names = Names(_all_listed(result))
    lines = ["## Test performance audit", ""]
    headline = f"**{summary_line(result).removeprefix('Summary: ')}**"
    lines.append(f"{headline} in {plural(result.tests, 'test')}; warnings above "
                 f"{percent(result.warn_ratio)} of a test's limit.")
    if result.incomplete:
        lines += ["", "### Incomplete runs (tests missing from the results)", ""]
        lines += _table(["Result file", "Problem"],
                        [[_code(run.source), _cell(run.describe())]
                         for run in result.incomplete[:MAX_MARKDOWN_ROWS]])
    sections = [
        ("Failures (exceeded threshold)", result.failures),
        (f"Warnings (>{percent(result.warn_ratio)} of threshold)", result.warnings),
    ]
    for title, verdicts in sections:
        if verdicts:
            rows, more = _verdict_rows(verdicts, names)
            lines += ["", f"### {title}", ""] + _table(["Test", "Time", "Category"], rows)
            if more:
                lines += ["", f"…and {plural(more, 'more test')}."]
    if result.unreadable:
        rows = [[_code(names(v)), _cell(_unreadable_text(v)), _cell(v.category)]
                for v in result.unreadable[:MAX_MARKDOWN_ROWS]]
        lines += ["", "### Unreadable times (not audited)", ""]
        lines += _table(["Test", "Problem", "Category"], rows)
        more = len(result.unreadable) - MAX_MARKDOWN_ROWS
        if more > 0:
            lines += ["", f"…and {plural(more, 'more test')}."]
    lines += guard.markdown_lines(result.guard)
    rows = []
    for name, stats in result.categories.items():
        if not stats.tests:
            continue
        slowest = "—"
        if stats.slowest is not None and stats.slowest.time is not None:
            slowest = f"{_code(names(stats.slowest))} {_seconds(stats.slowest.time)}"
        rows.append([_cell(name), f"{stats.tests:,}", _seconds(stats.total), slowest,
                     f"{stats.over:,}", f"{stats.near:,}"])
    lines += ["", "### By category", ""]
    lines += _table(["Category", "Tests", "Total time", "Slowest", "Over limit", "Near limit"],
                    rows)
    if top > 0 and result.slowest:
        shown = result.slowest[:top]
        lines += ["", f"### {len(shown)} slowest tests", ""]
        lines += _table(["Test", "Time", "Category"],
                        [[_code(names(v)), _cell(describe_time(v)), _cell(v.category)]
                         for v in shown])
    return _within_budget(lines)


def _within_budget(lines: list[str]) -> str:
    out: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        size += len(line.encode()) + 1
        if size > SUMMARY_BUDGET:
            out.append(f"\n…{plural(len(lines) - index, 'more line')} left out "
                       "(the job summary takes at most 1 MiB).")
            break
        out.append(line)
    return "\n".join(out) + "\n"


# -- json -----------------------------------------------------------------------

def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    record = verdict.record
    data: dict[str, Any] = {
        "name": record.name,
        "classname": record.classname,
        "nodeid": record.nodeid,
        "file": record.file,
        "line": record.line,
        "result_file": record.source,
        "category": verdict.category,
        "limit": verdict.limit,
        "time": verdict.time,
        "verdict": verdict.kind,
    }
    if verdict.raw_source:
        data["unreadable_time"] = verdict.raw_time
        data["unreadable_in"] = verdict.raw_source
    return data


def as_json(result: AuditResult) -> str:
    data = {
        "warn_ratio": result.warn_ratio,
        "summary": {
            "failures": len(result.failures),
            "warnings": len(result.warnings),
            "unreadable": len(result.unreadable),
            "incomplete": len(result.incomplete),
            "tests": result.tests,
            "records": result.records,
        },
        "failures": [_verdict_json(v) for v in result.failures],
        "warnings": [_verdict_json(v) for v in result.warnings],
        "unreadable": [_verdict_json(v) for v in result.unreadable],
        "incomplete": [{"result_file": run.source, "collected": run.collected,
                        "recorded": run.recorded, "internal_error": run.internal_error}
                       for run in result.incomplete],
        "categories": {
            name: {
                "tests": stats.tests,
                "total_time": round(stats.total, 6),
                "slowest": _verdict_json(stats.slowest) if stats.slowest else None,
                "over_limit": stats.over,
                "near_limit": stats.near,
                "unreadable": stats.unreadable,
            }
            for name, stats in result.categories.items()
        },
        "slowest": [_verdict_json(v) for v in result.slowest],
    }
    return json.dumps(data, indent=2) + "\n"


# -- github ---------------------------------------------------------------------

def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation_file(verdict: Verdict, is_file: IsFile | None = None) -> str | None:
    """The repository file of a test, when the record or the checkout tells."""
    record = verdict.record
    if record.file:
        return record.file
    if record.nodeid:  # the plugin's node id starts with the test's file
        return record.nodeid.split("::", 1)[0]
    if "/" in record.classname and "." in record.classname.rsplit("/", 1)[-1]:
        return record.classname  # Vitest: the classname is the file
    if is_file is not None and record.classname:
        for path in candidate_paths(record.classname):
            if is_file(path):
                return path
    return None


def _command(kind: str, verdict: Verdict, title: str, message: str,
             is_file: IsFile | None) -> str:
    props = []
    path = annotation_file(verdict, is_file)
    if path:
        props.append(f"file={escape_property(path)}")
        if verdict.record.line is not None:
            props.append(f"line={verdict.record.line}")
    props.append(f"title={escape_property(title)}")
    return f"::{kind} {','.join(props)}::{escape_data(message)}"


def _capped(kind: str, verdicts: list[Verdict], what: str,
            line: Callable[[Verdict], str]) -> list[str]:
    if len(verdicts) <= MAX_ANNOTATIONS:
        return [line(v) for v in verdicts]
    shown = verdicts[: MAX_ANNOTATIONS - 1]
    more = len(verdicts) - len(shown)
    return [line(v) for v in shown] + [
        f"::{kind} title={escape_property(what)}::"
        + escape_data(f"{plural(more, 'more test')} not annotated: see the job log or summary")
    ]


def github(result: AuditResult, is_file: IsFile | None = None) -> str:
    """Workflow commands: errors for failures, warnings, notices for unreadable times."""
    names = Names(_all_listed(result))
    lines = [f"::error title={escape_property('Run cut short')}::"
             + escape_data(f"{run.source}: {run.describe()}") for run in result.incomplete]
    lines += _capped(
        "error", result.failures, "Tests over their time limit",
        lambda v: _command("error", v, "Test over its time limit",
                           f"{names(v)}: {describe(v)} [{v.category}]", is_file))
    lines += _capped(
        "warning", result.warnings, "Tests near their time limit",
        lambda v: _command("warning", v,
                           f"Test above {percent(result.warn_ratio)} of its time limit",
                           f"{names(v)}: {describe(v)} [{v.category}]", is_file))
    lines += _capped(
        "notice", result.unreadable, "Unreadable test times",
        lambda v: _command("notice", v, "Unreadable test time",
                           f"{names(v)}: {_unreadable_text(v)} [{v.category}]", is_file))
    return "\n".join(lines) + "\n" if lines else ""


def render(result: AuditResult, fmt: str, top: int, is_file: IsFile | None = None) -> str:
    if fmt == "text":
        return text(result, top)
    if fmt == "markdown":
        return markdown(result, top or 10)
    if fmt == "json":
        return as_json(result)
    return github(result, is_file)
