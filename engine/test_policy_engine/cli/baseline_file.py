"""Where the baseline file is and reading it: light enough for `lint` in a pre-commit hook
(it imports neither pydantic nor the audit)."""

from __future__ import annotations

import argparse
from pathlib import Path

from test_policy_engine.baseline import entries as baseline_file
from test_policy_engine.baseline.entries import Entry
from test_policy_engine.baseline.findings import FindingEntry
from test_policy_engine.baseline.guards import GuardEntry
from test_policy_engine.policy.errors import UserError


def default_path(args: argparse.Namespace) -> Path:
    """`--baseline FILE`, else `.test-policy-baseline` beside the policy."""
    if getattr(args, "baseline", None):
        return Path(args.baseline)
    return Path(args.policy).parent / baseline_file.DEFAULT_NAME


def read_text(path: Path) -> str | None:
    """The baseline's text; None when there is no such file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read ({exc})") from None


def read(path: Path) -> list[Entry] | None:
    """The slow-test entries of the baseline at `path`; None when there is no such file."""
    text = read_text(path)
    return None if text is None else baseline_file.parse(text, str(path))


def read_findings(path: Path) -> list[FindingEntry] | None:
    """The finding entries of the baseline at `path`; None when there is no such file."""
    text = read_text(path)
    return None if text is None else baseline_file.parse_findings(text, str(path))


def read_guards(path: Path) -> list[GuardEntry]:
    """The guard entries of the baseline at `path` (none when there is no such file)."""
    text = read_text(path)
    return [] if text is None else baseline_file.parse_guards(text, str(path))
