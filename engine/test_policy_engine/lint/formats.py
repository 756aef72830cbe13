"""The lint report: text (the default), JSON, SARIF 2.1.0 and GitHub workflow commands.

Pure functions of a `Report`. The JSON shape (docs/rules.md, "Output formats") is stable:
fields are only ever added. Every user-controlled string (a path, matched code, a message
from the policy) reaches the text report on one line (`printable`), and the `github` report
through the audit's escaping of workflow commands (`escape_data`, `escape_property`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from test_policy_engine import __version__
from test_policy_engine.lint.findings import Finding, ScanError
from test_policy_engine.lint.plan import Plan, RuleInfo
from test_policy_engine.policy.errors import printable

if TYPE_CHECKING:  # the baseline's modules cost a hook without a baseline 20 ms to import
    from test_policy_engine.baseline.findings import FindingEntry

FORMATS = ("text", "json", "sarif", "github")
#: The version of the JSON report's shape.
JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/test-policy-engine/"
#: GitHub shows at most 10 annotations of each type per step (FIELD-NOTES).
MAX_ANNOTATIONS = 10
SARIF_LEVEL = {"error": "error", "warning": "warning"}


@dataclass(frozen=True)
class Skipped:
    """A path named on the command line that yields no file to scan, and why."""

    name: str
    why: str

    def line(self) -> str:
        return f"not scanned: {self.name} ({self.why})"


@dataclass
class Report:
    plan: Plan
    files: list[str]  # scanned, relative to the policy's directory
    findings: list[Finding] = field(default_factory=list)  # new: they fail
    known: list[Finding] = field(default_factory=list)  # listed in the baseline: they pass
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    # listed in the baseline past their `until=` date: they fail
    expired: list[tuple[Finding, FindingEntry]] = field(default_factory=list)
    # baseline entries whose finding is gone from a scanned file: they fail until pruned
    fixed: list[FindingEntry] = field(default_factory=list)
    baseline: str | None = None  # the baseline file read, when there is one

    @property
    def failed(self) -> bool:
        return bool(self.findings or self.expired or self.fixed)


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def one_line(value: str) -> str:
    """A user-controlled value on one line, quoted when it would begin a workflow command
    (`::`): the GitHub runner reads such a line, leading spaces stripped, as one."""
    shown = printable(value)
    return json.dumps(shown) if shown.lstrip().startswith("::") else shown


# -- text -------------------------------------------------------------------------

def _where(finding: Finding) -> str:
    return f"{one_line(finding.path)}:{finding.line}:{finding.column}"


PRUNE = "drop it with `test-policy baseline --prune`"


def _entries(count: int) -> str:
    return f"{count:,} baseline entry" if count == 1 else f"{count:,} baseline entries"


def _expired(finding: Finding, entry: FindingEntry) -> str:
    return (f"{_where(finding)}: {finding.rule}: its baseline entry expired on {entry.until}: "
            f"{one_line(finding.message)}")


def _fixed(entry: FindingEntry) -> str:
    shown = f" ({one_line(entry.reason)})" if entry.reason else ""
    return (f"{one_line(entry.path)}: {entry.rule}: fixed: the baseline entry "
            f"{entry.fingerprint}:{entry.occurrence}{shown} matches nothing in this file now; "
            f"hint: {PRUNE}")


def summary(report: Report) -> str:
    scanned = plural(len(report.files), "file")
    if not report.findings:
        text = f"no new findings in {scanned} scanned"
    else:
        rules = sorted({f.rule for f in report.findings})
        text = (f"{plural(len(report.findings), 'finding')} ({', '.join(rules)}) in "
                f"{plural(len({f.path for f in report.findings}), 'file')} of {scanned} scanned")
    if report.known:
        text += f"; {plural(len(report.known), 'known finding')} in the baseline"
    if report.expired:
        text += f"; {_entries(len(report.expired))} expired"
    if report.fixed:
        text += f"; {_entries(len(report.fixed))} fixed (prune: `test-policy baseline --prune`)"
    return text


def _with_code(line: str, finding: Finding) -> list[str]:
    return [line, f"    | {one_line(finding.first_line)}"] if finding.first_line else [line]


def text(report: Report) -> str:
    """Known findings first (one line each), then what fails, then the summary."""
    lines = [f"{_where(f)}: {f.rule}: known finding, in the baseline" for f in report.known]
    for finding in report.findings:
        lines += _with_code(f"{_where(finding)}: {finding.rule}: {one_line(finding.message)}",
                            finding)
    for finding, entry in report.expired:
        lines += _with_code(_expired(finding, entry), finding)
    lines += [_fixed(entry) for entry in report.fixed]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


# -- json -------------------------------------------------------------------------

def _finding_json(finding: Finding) -> dict[str, object]:
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "message": finding.message,
        "code": finding.code,
        "fingerprint": finding.fingerprint,
        "occurrence": finding.occurrence,
    }


def _entry_json(entry: FindingEntry) -> dict[str, object]:
    return {
        "rule": entry.rule,
        "path": entry.path,
        "fingerprint": entry.fingerprint,
        "occurrence": entry.occurrence,
        "until": None if entry.until is None else str(entry.until),
        "reason": entry.reason,
    }


def as_json(report: Report) -> str:
    data = {
        "version": JSON_VERSION,
        "tool": {"name": "test-policy-engine", "version": __version__},
        "findings": [_finding_json(f) for f in report.findings],
        "known": [_finding_json(f) for f in report.known],
        "files_scanned": len(report.files),
        "not_scanned": [{"path": s.name, "reason": s.why} for s in report.skipped],
        "errors": [{"path": e.path, "message": e.message} for e in report.errors],
        "expired": [{**_finding_json(f), "until": str(entry.until)}
                    for f, entry in report.expired],
        "fixed": [_entry_json(entry) for entry in report.fixed],
        "baseline": report.baseline,
    }
    return json.dumps(data, indent=2) + "\n"


# -- sarif ------------------------------------------------------------------------

def _rule_descriptor(info: RuleInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "name": info.pattern,
        "shortDescription": {"text": f"{info.why.rstrip('.')} ({', '.join(info.calls)})"},
        "fullDescription": {"text": info.message},
        "help": {"text": f"Instead: {info.fix}", "markdown": f"Instead: {info.fix}"},
        "defaultConfiguration": {"level": SARIF_LEVEL[info.severity]},
        "properties": {"tags": ["performance", "tests"], "precision": "high"},
    }


def _sarif_result(finding: Finding, index: dict[str, int], baseline: str) -> dict[str, object]:
    region: dict[str, object] = {"startLine": max(finding.line, 1)}
    if finding.column > 0:
        region["startColumn"] = finding.column
    if finding.end_line >= finding.line > 0:
        region["endLine"] = finding.end_line
        if finding.end_column > 0 and (finding.end_line > finding.line
                                       or finding.end_column > finding.column):
            region["endColumn"] = finding.end_column
    if finding.code:
        region["snippet"] = {"text": finding.code}
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
            "region": region,
        }}],
        "partialFingerprints": {"testPolicyFinding/v1": f"{finding.fingerprint}:"
                                                        f"{finding.occurrence}"},
        "baselineState": baseline,
    }


def _sarif_absent(entry: FindingEntry, index: dict[str, int]) -> dict[str, object]:
    result: dict[str, object] = {"ruleId": entry.rule}
    if entry.rule in index:
        result["ruleIndex"] = index[entry.rule]
    result.update({
        "level": "error",
        "message": {"text": f"Fixed: the baseline entry {entry.fingerprint}:{entry.occurrence} "
                            f"matches nothing in this file now; {PRUNE}."},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": entry.path, "uriBaseId": "%SRCROOT%"}}}],
        "partialFingerprints": {"testPolicyFinding/v1": f"{entry.fingerprint}:"
                                                        f"{entry.occurrence}"},
        "baselineState": "absent",
    })
    return result


def sarif(report: Report) -> str:
    """One run of SARIF 2.1.0, as GitHub code scanning reads it: URIs relative to the
    policy's directory (`%SRCROOT%`), a stable fingerprint per finding; baselined findings
    are included as `unchanged`, with level `note` (an expired one keeps its level), a fixed
    baseline entry as `absent`, at its file."""
    rules = list(report.plan.rules)
    index = {info.id: number for number, info in enumerate(rules)}
    results = [_sarif_result(f, index, "new") for f in report.findings]
    for finding in report.known:
        known = _sarif_result(finding, index, "unchanged")
        known["level"] = "note"
        results.append(known)
    for finding, entry in report.expired:
        expired = _sarif_result(finding, index, "unchanged")
        expired["message"] = {"text": f"Its baseline entry expired on {entry.until}: "
                                      f"{finding.message}"}
        results.append(expired)
    results += [_sarif_absent(entry, index) for entry in report.fixed]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "test-policy-engine",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(info) for info in rules],
            }},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2) + "\n"


# -- github -----------------------------------------------------------------------

def _command(finding: Finding, message: str | None = None, kind: str | None = None) -> str:
    from test_policy_engine.audit.report import escape_data, escape_property

    kind = kind or ("error" if finding.severity == "error" else "warning")
    props = [f"file={escape_property(finding.path)}", f"line={finding.line}",
             f"col={finding.column}"]
    if finding.end_line >= finding.line:
        props += [f"endLine={finding.end_line}", f"endColumn={finding.end_column}"]
    props.append(f"title={escape_property(finding.rule)}")
    return f"::{kind} {','.join(props)}::{escape_data(message or finding.message)}"


def _fixed_command(entry: FindingEntry) -> str:
    from test_policy_engine.audit.report import escape_data, escape_property

    return (f"::error file={escape_property(entry.path)},"
            f"title={escape_property(entry.rule + ': fixed')}::"
            + escape_data(f"the baseline entry {entry.fingerprint}:{entry.occurrence} matches "
                          f"nothing in this file now; {PRUNE}"))


def github(report: Report) -> str:
    """One workflow command per failure (a new finding, an expired or a fixed baseline
    entry), at most `MAX_ANNOTATIONS` (GitHub drops the rest of a step's without a word):
    past that, one command counting them and each as a text line in the log. Known findings
    get one notice that counts them."""
    from test_policy_engine.audit.report import escape_data, escape_property

    failures = ([(_command(f), f"{_where(f)}: {f.rule}: {one_line(f.message)}")
                 for f in report.findings]
                + [(_command(f, f"its baseline entry expired on {e.until}: {f.message}",
                             "error"), _expired(f, e)) for f, e in report.expired]
                + [(_fixed_command(e), _fixed(e)) for e in report.fixed])
    if len(failures) <= MAX_ANNOTATIONS:
        lines = [command for command, _ in failures]
    else:
        shown = failures[: MAX_ANNOTATIONS - 1]
        rest = failures[len(shown):]
        lines = [command for command, _ in shown]
        lines.append(f"::error title={escape_property('More slow-test patterns')}::"
                     + escape_data(f"{plural(len(rest), 'more finding')} not annotated: "
                                   "see the job log"))
        lines += [line for _, line in rest]
    if report.known:
        lines.append(f"::notice title={escape_property('Known slow-test patterns')}::"
                     + escape_data(f"{plural(len(report.known), 'known finding')} in the "
                                   f"baseline {report.baseline or ''}".rstrip()))
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return as_json(report)
    if fmt == "sarif":
        return sarif(report)
    if fmt == "github":
        return github(report)
    return text(report)


def skipped_lines(skipped: Iterable[Skipped]) -> list[str]:
    return [f"test-policy lint: {one_line(s.line())}" for s in skipped]
