"""Semgrep's JSON results as the engine's findings: rule, place, message, matched code.

A finding's fingerprint is a hash of its rule id, its file and its matched code with runs of
white space made one space: no line number, so it survives lines added above it, and
`occurrence` numbers identical matches in one file (two `time.sleep(2)` in one file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from test_policy_engine.lint.plan import Plan
from test_policy_engine.policy.globs import first_match


@dataclass(frozen=True, order=True)
class Finding:
    path: str  # relative to the policy's directory, POSIX
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str  # test-policy.real-sleep
    severity: str  # error | warning
    message: str
    code: str  # the matched source text
    occurrence: int = 0  # among findings of this rule, file and code, in file order

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.path, self.code)

    @property
    def first_line(self) -> str:
        """The first line of the matched code, stripped (what the text report shows)."""
        return self.code.strip().splitlines()[0] if self.code.strip() else ""


def fingerprint(rule: str, path: str, code: str) -> str:
    normal = " ".join(code.split())
    return hashlib.sha256(f"{rule}\0{path}\0{normal}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ScanError:
    """Something Semgrep could not do (a file it could not parse), as it said it."""

    path: str | None
    message: str


def _position(data: Any, name: str) -> tuple[int, int, int]:
    where = data.get(name) or {}
    return int(where.get("line", 0)), int(where.get("col", 0)), int(where.get("offset", -1))


def _code(source: bytes | None, start: int, end: int) -> str:
    if source is None or start < 0 or end < start:
        return ""
    return source[start:end].decode("utf-8", "replace")


def from_semgrep(data: dict[str, Any], plan: Plan, root: Path) -> tuple[list[Finding],
                                                                          list[ScanError]]:
    """The findings in Semgrep's JSON (`data`) that the policy keeps: a finding of a rule
    in a file its `allowed_paths` select is dropped. Sorted by file, line, column, rule."""
    sources: dict[str, bytes | None] = {}
    found = []
    for result in data.get("results") or ():
        info = plan.rule(str(result.get("check_id", "")))
        path = str(result.get("path", ""))
        extra = result.get("extra") or {}
        if info is None or extra.get("is_ignored"):
            continue
        if info.allowed_paths and first_match(info.allowed_paths, path) is not None:
            continue
        if path not in sources:
            try:
                sources[path] = (root / path).read_bytes()
            except OSError:
                sources[path] = None
        line, column, start = _position(result, "start")
        end_line, end_column, end = _position(result, "end")
        found.append(Finding(
            path=path, line=line, column=column, end_line=end_line, end_column=end_column,
            rule=info.id, severity=info.severity,
            message=str(extra.get("message") or info.message),
            code=_code(sources[path], start, end)))
    errors = [ScanError(error.get("path") or (error.get("location") or {}).get("path"),
                        " ".join(str(error.get("message", error.get("type", "error"))).split()))
              for error in data.get("errors") or ()]
    return number(sorted(set(found))), errors


def number(findings: Iterable[Finding]) -> list[Finding]:
    """`findings` (sorted) with each one's occurrence among identical matches in its file."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for finding in findings:
        key = (finding.rule, finding.path, " ".join(finding.code.split()))
        out.append(replace(finding, occurrence=seen.get(key, 0)))
        seen[key] = seen.get(key, 0) + 1
    return out
