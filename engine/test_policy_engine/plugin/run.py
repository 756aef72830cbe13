"""The test_policy plugin's work for one run: imported only once a policy is found, so
an unrelated project pays for none of it. YAML and pydantic are imported only to
validate the policy file, which a run skips when pytest's cache holds the validated
copy of exactly this file (`test_policy_engine.plugin.cache`)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import math
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from test_policy_engine.plugin.cache import (
    PluginPolicy,
    entry,
    from_json,
    from_policy,
    lookup,
    to_json,
)
from test_policy_engine.plugin.parallel import Choice, Request, decide, grouping_ignored, safe_dist
from test_policy_engine.plugin.summary import (
    RunSummary,
    has_rare,
    n_tests,
    strip_group_suffix,
)
from test_policy_engine.plugin.timing import VERDICT, Run, Verdict
from test_policy_engine.policy.categories import Classifier
from test_policy_engine.policy.discovery import Found
from test_policy_engine.policy.enforcement import limits_fail
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.globs import first_match
from test_policy_engine.policy.reading import POLICY_MAX_BYTES, read_regular
from test_policy_engine.policy.timeouts import (
    COLLECTED_PROPERTY,
    NODEID_PROPERTY,
    effective_method,
    marker_timeout,
    properties,
)
from test_policy_engine.policy.verdict import kill_point

if TYPE_CHECKING:
    from test_policy_engine.baseline.debt import Debt


@dataclass
class Active:
    """The plugin's state for one run, kept in `config.stash`."""

    found: Found
    policy: PluginPolicy
    classifier: Classifier
    method: str
    method_note: str
    timeouts: bool  # pytest-timeout is loaded
    cli_timeout: float | None
    debugging: bool  # --pdb / --trace: no verdict, no kill
    choice: Choice
    summary: RunSummary
    from_cache: bool = False  # the policy is pytest's cached copy of this very file
    debt: Debt | None = None  # the baseline's slow tests (known debt), when there are any
    #: The plugin arms the kill point of a test without a `timeout` marker itself
    #: (`plugin.kill`): pytest-timeout with the signal method and no timeout of its own.
    arms_kill: bool = False
    to_store: dict[str, object] | None = None  # the copy for pytest's cache, once validated
    relpaths: dict[Path, str] = field(default_factory=dict)
    groups: dict[str, str | None] = field(default_factory=dict)  # relpath -> policy group
    group_marks: dict[str, pytest.Mark] = field(default_factory=dict)
    outcomes: dict[tuple[str, tuple[str, ...], float | None, str | None, bool], _Outcome] = field(
        default_factory=dict)

    def register_markers(self, config: pytest.Config) -> None:
        for name, category in self.policy.categories.items():
            for marker in category.markers:
                about = category.description or f"tests of the {name} category"
                config.addinivalue_line(
                    "markers",
                    f"{marker}: {about} [test-policy: category {name}, {category.limit:g} s]",
                )

    def header(self) -> str:
        timeouts = f"{self.method} method" + (f" ({self.method_note})"
                                              if self.method_note else "")
        if not self.timeouts:
            timeouts = "off (pytest-timeout is not loaded)"
        elif self.debugging:
            timeouts = "off (--pdb/--trace)"
        elif self.cli_timeout is not None:
            timeouts += f"; --timeout={self.cli_timeout:g} replaces the policy's limits"
        else:
            timeouts += (f"; limits judged after each test, hung tests stopped at "
                         f"{self.policy.kill_after:g}x the limit"
                         if self.policy.kill_after > 1 else "; tests interrupted at the limit")
        debt = ("" if self.debt is None else
                f"; baseline: {self.debt.shown_as} ({n_tests(len(self.debt.entries))} listed)")
        return (f"test-policy: {self.found.shown_as} (from {self.found.source}); "
                f"timeouts: {timeouts}{debt}; parallel: {self.choice.note}")

    def add_groups(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """`xdist_group(name)` on tests under a `parallel.groups` glob, unless they have one."""
        if not self.policy.parallel.groups:
            return
        # (id(parent), id(path)) -> the file's group, unless the parent's chain has an
        # xdist_group marker. Local: an id is unique while the items (holding both) live.
        parents: dict[tuple[int, int], str | None] = {}
        last: tuple[object, object] = (None, None)
        group: str | None = None
        for item in items:
            parent, path = item.parent, item.path
            if parent is not last[0] or path is not last[1]:
                last = (parent, path)
                key = (id(parent), id(path))
                if key in parents:
                    group = parents[key]
                else:
                    group = self.groups[_relpath(self, config, path)]
                    if group is not None and parent is not None and next(
                            parent.iter_markers("xdist_group"), None) is not None:
                        group = None
                    parents[key] = group
            if group is None:
                continue
            own = item.own_markers
            if own and _named(own, "xdist_group"):
                continue
            mark = self.group_marks.get(group)
            if mark is None:
                mark = self.group_marks[group] = pytest.mark.xdist_group(group).mark
            item.keywords[mark.name] = mark  # item.add_marker(mark), without its checks
            own.append(mark)

    def apply(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """The timeout marker and the JUnit properties of each selected test.

        Resolved once per (parent node, file) and once per distinct set of a test's
        own category and timeout markers: per test, only its own markers are read and
        the shared marker and properties added.
        """
        markers = self.classifier.markers
        # (id(parent), id(path)) -> (relpath, the parent chain's marks, their outcome).
        # Local: an id is unique while the items (which hold both) live.
        parents: dict[tuple[int, int], tuple[str, _Marks, _Outcome]] = {}
        last: tuple[object, object] = (None, None)
        rel, above, base = "", _NO_MARKS, _Outcome((), None)
        for item in items:
            parent, path = item.parent, item.path
            if parent is not last[0] or path is not last[1]:
                last = (parent, path)
                key = (id(parent), id(path))
                known = parents.get(key)
                if known is None:
                    rel = _relpath(self, config, path)
                    above = (_NO_MARKS if parent is None
                             else _scan(parent.iter_markers(), markers))
                    known = parents[key] = (rel, above, self._outcome(rel, above.names,
                                                                      above.timeout))
                rel, above, base = known
            outcome = base
            own = item.own_markers
            if own:
                mine: tuple[str, ...] = ()
                timeout = None
                for mark in own:
                    name = mark.name
                    if name in markers:
                        mine += (name,)
                    elif name == "timeout" and timeout is None:
                        timeout = mark  # the closest one, as pytest-timeout reads it
                if mine or timeout is not None:
                    outcome = self._outcome(rel, mine + above.names, timeout or above.timeout)
            if outcome.mark is not None:
                # What item.add_marker(decorator, append=False) does, without its import
                # and checks: the closest marker, before a method-only one.
                item.keywords["timeout"] = outcome.mark
                own.insert(0, outcome.mark)
            item.user_properties.extend(outcome.properties)
            item.user_properties.append((NODEID_PROPERTY, strip_group_suffix(item.nodeid)))
            if outcome.verdict is not None:
                item.stash[VERDICT] = outcome.verdict

    def _outcome(self, rel: str, names: tuple[str, ...], timeout: pytest.Mark | None
                 ) -> _Outcome:
        """What a test in file `rel` with these category markers and closest timeout
        marker on its chain gets; cached."""
        seconds, explicit_method = (
            marker_timeout(timeout.args, timeout.kwargs) if timeout is not None
            else (None, None)
        )
        # A marker with a value pytest-timeout cannot read (`timeout("abc")`): inject
        # nothing, so pytest-timeout reports "Invalid timeout" when the test runs.
        unreadable = timeout is not None and seconds is None and bool(
            timeout.args or timeout.kwargs.get("timeout") is not None)
        key = (rel, names, seconds, explicit_method, unreadable)
        found = self.outcomes.get(key)
        if found is None:
            resolution = self.classifier.resolve(rel, names, seconds, self.cli_timeout)
            mark = None
            verdict = None
            armed = 0.0
            if self.debugging:
                if self.timeouts:
                    mark = pytest.mark.timeout(0).mark
            elif self.timeouts and self.cli_timeout is None and not unreadable:
                method = explicit_method or self.method
                kill = kill_point(resolution.limit, self.policy.kill_after)
                if timeout is None and self.arms_kill:
                    armed = kill
                elif seconds is None or kill != seconds:
                    mark = pytest.mark.timeout(kill, method=method).mark
            if not self.debugging and not unreadable and resolution.limit > 0:
                verdict = Verdict(resolution.category, resolution.limit,
                                  _where(resolution.reason),
                                  limits_fail(self.policy.enforce), self.debt, armed)
            found = self.outcomes[key] = _Outcome(tuple(properties(resolution)), mark, verdict)
        return found

    def summary_hooks(self, reports: bool) -> _SummaryHooks:
        """The summary's hooks; `reports`: with its own `pytest_runtest_logreport`, else
        the per-test hooks (`plugin.phases`) pass it each report (`_SummaryHooks.record`)."""
        return _SummaryReports(self) if reports else _SummaryHooks(self)

    def for_workers(self) -> dict[str, object]:
        """What each pytest-xdist worker gets in its `workerinput` (`activate_worker`)."""
        return {"policy": to_json(self.policy), "path": str(self.found.path),
                "shown_as": self.found.shown_as, "source": self.found.source}


def activate_worker(config: pytest.Config, given: dict[str, object]) -> Active | None:
    """A worker's state from the controller's copy of the policy (`Active.for_workers`),
    validated again as a cached copy is; None (read the file) if it is not well formed."""
    try:
        policy = from_json(given.get("policy"))
        found = Found(Path(str(given["path"])), str(given["shown_as"]), str(given["source"]))
    except (KeyError, TypeError, ValueError):
        return None
    return activate(config, found, None, policy)


def activate(config: pytest.Config, found: Found, cache_dir: Path | None = None,
             given: PluginPolicy | None = None) -> Active:
    """Load the policy (unless `given`: a worker's copy from the controller), choose the
    timeout method and the parallel mode (setting pytest-xdist's options), and return the
    run's state. `cache_dir`: pytest's cache directory, None when the cache is not to be
    used."""
    if given is not None:
        policy, from_cache, to_store = given, False, None
    else:
        policy, from_cache, to_store = _load(found, cache_dir)
    method, method_note = effective_method(policy.timeout_method, hasattr(signal, "SIGALRM"))
    user_method = config.getoption("timeout_method", None)
    if isinstance(user_method, str):
        method, method_note = user_method, "from --timeout-method"
    xdist = config.pluginmanager.hasplugin("xdist")
    numprocesses = config.getoption("numprocesses", None) if xdist else None
    request = Request(
        xdist=xdist,
        numprocesses=numprocesses,
        dist_given=xdist and _dist_given(config),
        debugging=bool(config.getoption("usepdb", False) or config.getoption("trace", False)),
        collect_only=bool(config.getoption("collectonly", False)),
        worker=hasattr(config, "workerinput"),
        previous=_previous(config, cache_dir),
        startup=_startup(cache_dir),
    )
    choice = decide(policy.parallel, method, request)
    if choice.parallel:
        config.option.numprocesses = choice.workers
        config.option.dist = choice.dist
    elif xdist and numprocesses not in (None, 0):
        dist = str(config.getoption("dist", "no"))
        if safe_dist(dist, method)[1]:
            choice = Choice(0, None, choice.note + f"; warning: --dist {dist} with the "
                            "'thread' timeout method can hang the run (pytest-xdist #1371)")
    dist = str(choice.dist if choice.parallel else config.getoption("dist", "no"))
    if dist == "loadgroup" and grouping_ignored(pytest.__version__, _xdist_version()):
        choice = Choice(choice.workers, choice.dist, choice.note + "; xdist_group kept by "
                        "test-policy's scheduler (pytest-xdist #1386)")
    cli_timeout = config.getoption("timeout", None)
    if cli_timeout is not None and not 0 <= float(cli_timeout) < math.inf:
        raise pytest.UsageError(f"--timeout: must be a number of seconds, 0 or more "
                                f"(got {cli_timeout}); hint: --timeout=0 switches limits off")
    debt = _debt(found, policy.warn_ratio)
    timeouts = config.pluginmanager.hasplugin("timeout")
    return Active(
        arms_kill=timeouts and method == "signal" and hasattr(signal, "SIGALRM")
        and not _timeout_configured(config),
        debt=debt,
        found=found,
        policy=policy,
        classifier=Classifier(policy),
        method=method,
        method_note=method_note,
        timeouts=timeouts,
        cli_timeout=float(cli_timeout) if cli_timeout is not None else None,
        debugging=request.debugging,
        choice=choice,
        summary=RunSummary(policy.warn_ratio, debt.shown_as if debt is not None else ""),
        from_cache=from_cache,
        to_store=to_store,
    )


def _timeout_configured(config: pytest.Config) -> bool:
    """Whether pytest-timeout has a timeout or `func_only` of its own (ini, environment),
    which it applies to a test without a marker: then every test gets the marker."""
    return bool(os.environ.get("PYTEST_TIMEOUT") or config.getini("timeout")
                or config.getini("timeout_func_only"))


def _load(found: Found,
          cache_dir: Path | None) -> tuple[PluginPolicy, bool, dict[str, object] | None]:
    """(the policy, whether it came from pytest's cache, the copy to store there): the
    cached copy of exactly this file's bytes, else the file validated in full (YAML and
    pydantic)."""
    try:
        data: bytes | None = read_regular(found.path, POLICY_MAX_BYTES)
    except OSError:
        data = None  # load_policy says why
    key = None
    if data is not None and cache_dir is not None:
        key, cached = lookup(cache_dir, data)
        if cached is not None:
            return cached, True, None
    from test_policy_engine.policy.loader import load_policy, parse_policy

    try:
        policy = (parse_policy(data, found.shown_as) if data is not None
                  else load_policy(found.path, shown_as=found.shown_as))
    except UserError as exc:
        raise pytest.UsageError(f"test policy ({found.source}):\n{exc}") from None
    plain = from_policy(policy)
    return plain, False, None if key is None else entry(key, plain)


def _debt(found: Found, fixed_below: float) -> Debt | None:
    """The baseline beside the policy (`test-policy baseline` writes it there); where
    there is none, its reader is not even imported (a sixth of the plugin's start)."""
    from test_policy_engine.baseline import DEFAULT_NAME

    path = found.path.parent / DEFAULT_NAME
    if not os.path.lexists(path):
        return None
    from test_policy_engine.baseline.debt import load_debt

    shown_as = str(Path(found.shown_as).parent / DEFAULT_NAME)
    try:
        return load_debt(path, shown_as, dt.date.today(),
                         fixed_below)
    except UserError as exc:
        raise pytest.UsageError(f"test policy baseline:\n{exc}") from None


def _previous(config: pytest.Config, cache_dir: Path | None) -> tuple[int, float] | None:
    from test_policy_engine.plugin.history import previous_run

    found = previous_run(cache_dir, config.invocation_params.args)
    return None if found is None else (found.tests, found.seconds)


def _startup(cache_dir: Path | None) -> float | None:
    from test_policy_engine.plugin.history import startup_cost

    return startup_cost(cache_dir)


def _xdist_version() -> str:
    try:
        return importlib.metadata.version("pytest-xdist")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _dist_given(config: pytest.Config) -> bool:
    """--dist (other than 'no' too), -d or --tx on the command line or in addopts."""
    if config.getoption("dist", "no") != "no" or config.getoption("distload", False):
        return True
    if config.getoption("tx", None):
        return True
    args = config.invocation_params.args
    return any(arg == "--dist" or arg.startswith("--dist=") for arg in args)


def _relpath(active: Active, config: pytest.Config, path: Path) -> str:
    rel = active.relpaths.get(path)
    if rel is None:
        try:
            rel = path.relative_to(config.rootpath).as_posix()
        except ValueError:
            rel = path.as_posix()
        active.relpaths[path] = rel
        active.groups[rel] = next(
            (name for name, globs in active.policy.parallel.groups.items()
             if first_match(globs, rel) is not None),
            None,
        )
    return rel


@dataclass(frozen=True)
class _Outcome:
    """What one (file, category markers, explicit timeout) combination gets; cached."""

    properties: tuple[tuple[str, str], ...]
    mark: pytest.Mark | None  # the `timeout` marker to add; None: leave it to pytest-timeout
    verdict: Verdict | None = None  # the limit judged after the test; None: none


def _where(reason: str) -> str:
    """What the verdict line names as the source of the limit: the glob of a path match."""
    return reason[len("path "):] if reason.startswith("path ") else reason


@dataclass(frozen=True)
class _Marks:
    """The markers of a node's chain that matter here."""

    names: tuple[str, ...] = ()  # category markers
    timeout: pytest.Mark | None = None  # the closest `timeout` marker


_NO_MARKS = _Marks()


def _named(marks: list[pytest.Mark], name: str) -> bool:
    for mark in marks:  # noqa: SIM110 (a loop is faster than any() over a generator here)
        if mark.name == name:
            return True
    return False


def _scan(marks: Iterable[pytest.Mark], category_markers: frozenset[str]) -> _Marks:
    names: list[str] = []
    timeout: pytest.Mark | None = None
    for mark in marks:
        name = mark.name
        if name in category_markers:
            names.append(name)
        elif name == "timeout" and timeout is None:
            timeout = mark  # the closest one, as pytest-timeout reads it
    if not names and timeout is None:
        return _NO_MARKS
    return _Marks(tuple(names), timeout)


class _SummaryHooks:
    """Collects durations from reports (on the controller under xdist, where no item
    exists), and records how many tests the run collected on the first test it reports."""

    def __init__(self, active: Active) -> None:
        self.active = active
        self.summary = active.summary
        self.collected: int | None = None  # None: not known yet
        self.recorded = False

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self.collected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        # Every worker collects the whole selection; a worker that collected another
        # one makes xdist stop the run anyway.
        self.collected = max(self.collected or 0, len(ids))

    def record(self, report: pytest.TestReport, nodeid: str) -> None:
        """Every report (`nodeid`: its node id, read once), before junitxml reads the
        teardown's properties."""
        when = report.when
        if when == "teardown" and not self.recorded:
            self._collected(report)
        self.summary.add(nodeid, report.user_properties, report.duration, when)

    def judged(self, report: pytest.TestReport, nodeid: str, run: Run,
               estimate: str | None) -> None:
        """The teardown report of a test judged in this process (`plugin.phases`), with
        the durations of its earlier phases in `run`."""
        if not self.recorded:
            self._collected(report)
        duration = run.durations + report.duration
        properties = report.user_properties
        if estimate is None or has_rare(properties):
            self.summary.add(nodeid, properties, duration)
        else:
            verdict = run.verdict
            self.summary.judged(nodeid, verdict.category, verdict.limit, duration, estimate)

    def _collected(self, report: pytest.TestReport) -> None:
        """How many tests the run collected, on the first teardown report."""
        if self.collected is not None:
            report.user_properties.append((COLLECTED_PROPERTY, str(self.collected)))
            self.recorded = True

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        lines = self.active.summary.lines(
            terminalreporter.config.get_verbosity(), tuple(self.active.policy.categories)
        )
        if not lines:
            return
        terminalreporter.write_sep("=", "test policy: time per category")
        for line in lines:
            terminalreporter.write_line(line)



class _SummaryReports(_SummaryHooks):
    """The summary's hooks, with a `pytest_runtest_logreport` of their own: where no
    per-test hooks are registered (`--pdb`, `--trace`)."""

    @pytest.hookimpl(tryfirst=True)  # before junitxml reads the teardown's properties
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record(report, report.nodeid)
