"""A pytest plugin that records each test's outcome, for `test-policy init --check-parallel`.

Loaded with `-p test_policy_engine.adopt.outcomes` and `TEST_POLICY_OUTCOMES=FILE`: the
process that reports the run (pytest itself, or pytest-xdist's controller, which receives
every worker's reports) writes one JSON object per test to FILE at the end of the session:
`{"nodeid", "file", "outcome", "message"}`, where `outcome` is `passed`, `failed` (the call),
`error` (setup or teardown) or `skipped`, and `message` the first line of the failure.
Workers write nothing. Without the variable the plugin does nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

OUTCOMES_ENV = "TEST_POLICY_OUTCOMES"

#: Outcome of each phase, by how much it says about the test: a failed setup is an error.
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


class _Recorder:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.tests: dict[str, dict[str, str]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome: str = report.outcome
        if outcome == "failed" and report.when != "call":
            outcome = "error"
        found = self.tests.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "file": report.location[0].replace(os.sep, "/"),
            "outcome": "passed", "message": ""})
        if _RANK[outcome] > _RANK[found["outcome"]]:
            found["outcome"] = outcome
            found["message"] = _message(report) if outcome in ("failed", "error") else ""

    def pytest_sessionfinish(self) -> None:
        lines = "".join(json.dumps(test, sort_keys=True) + "\n" for test in self.tests.values())
        self.target.write_text(lines, encoding="utf-8")


def _message(report: pytest.TestReport) -> str:
    """The failure's one-line message (`OSError: [Errno 98] Address already in use`)."""
    crash: Any = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None)
    if not isinstance(text, str) or not text.strip():
        text = report.longreprtext.strip().splitlines()[-1:] or [""]
        text = text[0]
    return text.strip().splitlines()[0][:200] if text.strip() else ""


def pytest_configure(config: pytest.Config) -> None:
    target = os.environ.get(OUTCOMES_ENV)
    if target and not os.environ.get("PYTEST_XDIST_WORKER"):
        config.pluginmanager.register(_Recorder(Path(target)), "test-policy-outcomes")
