"""What the previous runs took, for deciding before workers start whether a run pays
to parallelise, and for scheduling the longest tests first.

The controller (or a serial run) records in pytest's cache:
- `RUNS_KEY`: per selection (the command-line arguments), the last complete run's
  test count and summed durations;
- every test's last duration in seconds (setup + call + teardown), in
  `DURATIONS_DIR/DURATIONS_NAME` of the cache's directories (`.pytest_cache/d/...`) as
  compact JSON: a cache value would be written with `indent=2`, which only Python's
  pure-Python encoder does, at a few function calls per test.
pytest-split's `.test_durations` file in the rootdir (`test-policy audit
--durations-out` writes it), when present, is preferred for scheduling.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from test_policy_engine.plugin.summary import RunSummary

RUNS_KEY = "test_policy/runs"
DURATIONS_DIR = "test_policy"  # `Cache.mkdir`: .pytest_cache/d/test_policy
DURATIONS_NAME = "durations.json"
DURATIONS_FILE = ".test_durations"
#: {"parallel": s, "serial": s}: how long the last parallel run took from its start until
#: every worker had collected, and the last serial run until it had collected.
STARTUP_KEY = "test_policy/startup"
#: A start-up figure beyond this is not believed (a debugger, a suspended laptop).
MAX_STARTUP = 600.0
#: Keep at most this many selections in RUNS_KEY.
MAX_SELECTIONS = 50


#: Options that change how the selected tests run or report, not which are selected.
_HOW_WITH_VALUE = frozenset({"-n", "--numprocesses", "--dist", "-d", "--maxprocesses",
                             "--basetemp", "--junit-xml", "--junitxml", "--durations",
                             "--tb", "-r"})
_HOW_PREFIXES = ("-n", "--numprocesses=", "--dist=", "--maxprocesses=", "--basetemp=",
                 "--junit-xml=", "--junitxml=", "--durations=", "--tb=", "-r")
_HOW_FLAGS = frozenset({"-v", "-vv", "-vvv", "-q", "-qq", "-s", "-l", "--color=yes"})


@dataclass(frozen=True)
class Previous:
    """The last complete run of the same selection."""

    tests: int
    seconds: float


def selection_key(args: Sequence[str]) -> str:
    """The arguments that choose tests, without those that only choose how they run."""
    kept: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
            continue
        if arg in _HOW_WITH_VALUE:
            skip_next = True
            continue
        if arg.startswith(_HOW_PREFIXES) or arg in _HOW_FLAGS:
            continue
        kept.append(arg)
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]


def previous_run(cache_dir: Path | None, args: Sequence[str]) -> Previous | None:
    """From pytest's cache directory before `config.cache` exists (pytest_cmdline_main)."""
    if cache_dir is None:
        return None
    try:
        runs = json.loads(cache_dir.joinpath("v", *RUNS_KEY.split("/")).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    found = runs.get(selection_key(args)) if isinstance(runs, dict) else None
    if not (isinstance(found, list) and len(found) == 2):
        return None
    try:
        return Previous(int(found[0]), float(found[1]))
    except (TypeError, ValueError):
        return None


def startup_cost(cache_dir: Path | None) -> float | None:
    """What starting workers cost the last parallel run beyond a serial run's own start
    and collection, in seconds (None: no parallel run recorded)."""
    if cache_dir is None:
        return None
    try:
        found = json.loads(cache_dir.joinpath("v", *STARTUP_KEY.split("/")).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict):
        return None
    parallel, serial = _seconds(found.get("parallel")), _seconds(found.get("serial"))
    if parallel is None:
        return None
    return max(parallel - (serial or 0.0), 0.0)


def _seconds(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            0 <= value <= MAX_STARTUP:
        return float(value)
    return None


def load_durations(rootdir: Path, cache: pytest.Cache | None) -> dict[str, float]:
    """{node id: seconds}: the `.test_durations` file, else the cache's record."""
    path = rootdir / DURATIONS_FILE
    found: object = None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = _stored(cache)
    if not isinstance(found, dict):
        return {}
    durations: dict[str, float] = {}
    for key, value in found.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            durations[str(key)] = float(value)
    return durations


def _stored(cache: pytest.Cache | None) -> object:
    """The durations the last runs recorded (None: none, or unreadable)."""
    if cache is None:
        return None
    try:
        text = cache.mkdir(DURATIONS_DIR).joinpath(DURATIONS_NAME).read_text("utf-8")
        return json.loads(text)
    except (OSError, ValueError):
        return None


def _store(cache: pytest.Cache, durations: dict[str, float]) -> None:
    """Whole or not at all (a temporary file renamed over the last one); a read-only
    cache is no error: the record is only a hint for the next run."""
    # json.dumps, not json.dump: only a one-shot encoding without indent is done in C.
    text = json.dumps(durations, separators=(",", ":"), sort_keys=True)
    try:
        directory = cache.mkdir(DURATIONS_DIR)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".durations-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, directory / DURATIONS_NAME)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


class Recorder:
    """Controller-side plugin: stores each test's summed report durations at the end, as
    the run's summary (`plugin.summary`) added them up (under node ids without an
    `@group` suffix, as `.test_durations` has them)."""

    def __init__(self, config: pytest.Config, summary: RunSummary) -> None:
        self.config = config
        self.summary = summary
        self.started = time.monotonic()
        self.ready: tuple[str, float] | None = None  # ("parallel" | "serial", seconds)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.ready is None and not session.config.pluginmanager.hasplugin("dsession"):
            self.ready = ("serial", time.monotonic() - self.started)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        # The last worker to finish collecting: the run can hand out all its tests.
        self.ready = ("parallel", time.monotonic() - self.started)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        cache: pytest.Cache | None = getattr(self.config, "cache", None)
        durations = self.summary.walls()
        if cache is None or not durations:
            return
        stored = _stored(cache)
        merged = dict(stored) if isinstance(stored, dict) else {}
        merged.update({k: round(v, 4) for k, v in durations.items()})
        _store(cache, merged)
        if self.ready is not None:
            startup = cache.get(STARTUP_KEY, None)
            figures = dict(startup) if isinstance(startup, Mapping) else {}
            figures[self.ready[0]] = round(self.ready[1], 3)
            cache.set(STARTUP_KEY, figures)
        if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or \
                session.shouldstop or session.shouldfail:
            return  # -x, Ctrl-C: not the whole selection's time
        runs = cache.get(RUNS_KEY, None)
        kept: dict[str, object] = dict(runs) if isinstance(runs, Mapping) else {}
        key = selection_key(self.config.invocation_params.args)
        kept.pop(key, None)
        kept[key] = [len(durations), round(sum(durations.values()), 4)]
        while len(kept) > MAX_SELECTIONS:
            kept.pop(next(iter(kept)))
        cache.set(RUNS_KEY, kept)
