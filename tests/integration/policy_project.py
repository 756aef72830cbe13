"""Helpers for the plugin's pytester tests: a small project with a test policy."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_policy_engine.plugin.timing import VERDICT

POLICY = """\
version: 1
timeout_method: {method}
warn_ratio: {warn_ratio}
{kill_after}categories:
  unit:
    limit: {unit_limit}
    default: true
    paths: ["tests/unit/**"]
    description: "fast, isolated tests"
  integration:
    limit: 5
    paths: ["tests/integration/**"]
    markers: [integration]
  slow:
    limit: 30
    markers: [slow]
    description: "known to be slow"
parallel:
{parallel}
"""

#: One category, so that the largest kill point (a broad fixture's) is short as well:
#: unit tests stopped at 0.4 s.
ONE_CATEGORY = """\
version: 1
kill_after: 4
categories:
  unit: {limit: 0.1, default: true, paths: ["tests/unit/**"]}
parallel:
  enabled: false
"""

#: What an outer (parallel) run of this suite would leak into the inner runs, which must
#: decide for themselves.
LEAKED_VARIABLES = ("TEST_POLICY_SERIAL", "PYTEST_XDIST_AUTO_NUM_WORKERS", "PYTEST_TIMEOUT",
                    "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                    "PYTEST_XDIST_TESTRUNUID")


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LEAKED_VARIABLES:
        monkeypatch.delenv(name, raising=False)


SERIAL = "  enabled: false"
PARALLEL = "  enabled: true\n  workers: 2\n  dist: loadgroup"


def write_policy(pytester: pytest.Pytester, *, method: str = "signal", warn_ratio: float = 0.8,
                 unit_limit: float = 1, parallel: str = SERIAL,
                 name: str = "policy.yaml", kill_after: float | None = None) -> Path:
    """A policy like this repository's, serial unless `parallel` says otherwise: an
    in-process pytester run inside our own (parallel) suite must not spawn workers.
    `kill_after`: the policy's field, left out (default 10) when None."""
    path = pytester.path / name
    path.write_text(POLICY.format(method=method, warn_ratio=warn_ratio, unit_limit=unit_limit,
                                  parallel=parallel,
                                  kill_after="" if kill_after is None
                                  else f"kill_after: {kill_after}\n"))
    return path


def resolutions(items: list[pytest.Item]) -> dict[str, tuple[str, str, str]]:
    """node id -> (category, limit, reason) from the properties the plugin recorded."""
    out = {}
    for item in items:
        props = dict(item.user_properties)
        out[item.nodeid] = (props["test_policy.category"], props["test_policy.limit"],
                            props["test_policy.reason"])
    return out


def kill_args(item: pytest.Item) -> tuple[object, ...] | None:
    """Where and how the test is stopped: the closest timeout marker's args and method, as
    pytest-timeout reads them; without one, the kill point the plugin arms itself (with
    pytest-timeout's signal handler); None: neither."""
    mark = item.get_closest_marker("timeout")
    if mark is not None:
        return (*mark.args, mark.kwargs.get("method"))
    verdict = item.stash.get(VERDICT, None)
    return None if verdict is None or not verdict.kill else (verdict.kill, "signal")


def junit_cases(path: Path) -> list[ET.Element]:
    return list(ET.parse(path).getroot().iter("testcase"))


def case_properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
