"""The test_policy plugin's work for one run: imported only once a policy is found, so
an unrelated project pays for neither pydantic nor the policy model."""

from __future__ import annotations

import importlib.metadata
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.categories import Classifier
from engine.discovery import Found
from engine.errors import UserError
from engine.globs import first_match
from engine.loader import load_policy
from engine.parallel import Choice, Request, decide, grouping_ignored, safe_dist
from engine.policy import Policy
from engine.run_summary import RunSummary
from engine.timeouts import effective_method, marker_timeout, properties


@dataclass
class Active:
    """The plugin's state for one run, kept in `config.stash`."""

    found: Found
    policy: Policy
    classifier: Classifier
    method: str
    method_note: str
    timeouts: bool  # pytest-timeout is loaded
    cli_timeout: float | None
    choice: Choice
    summary: RunSummary
    relpaths: dict[Path, str] = field(default_factory=dict)
    groups: dict[str, str | None] = field(default_factory=dict)  # relpath -> policy group
    group_marks: dict[str, pytest.MarkDecorator] = field(default_factory=dict)
    parent_marks: dict[int, _Marks] = field(default_factory=dict)  # id(parent node) -> marks
    outcomes: dict[tuple[str, tuple[str, ...], float | None, str | None], _Outcome] = field(
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
        elif self.cli_timeout is not None:
            timeouts += f"; --timeout={self.cli_timeout:g} replaces the policy's limits"
        return (f"test-policy: {self.found.shown_as} (from {self.found.source}); "
                f"timeouts: {timeouts}; parallel: {self.choice.note}")

    def add_groups(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """`xdist_group(name)` on tests under a `parallel.groups` glob, unless they have one."""
        if not self.policy.parallel.groups:
            return
        for item in items:
            group = self.groups[_relpath(self, config, item.path)]
            if group is None or next(item.iter_markers("xdist_group"), None) is not None:
                continue
            decorator = self.group_marks.get(group)
            if decorator is None:
                decorator = self.group_marks[group] = pytest.mark.xdist_group(group)
            item.add_marker(decorator)

    def apply(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """The timeout marker and the JUnit properties of each selected test."""
        for item in items:
            _apply(self, config, item)

    def summary_hooks(self) -> object:
        return _SummaryHooks(self)


def activate(config: pytest.Config, found: Found) -> Active:
    """Load the policy, choose the timeout method and the parallel mode (setting
    pytest-xdist's options), and return the run's state."""
    try:
        policy = load_policy(found.path, shown_as=found.shown_as)
    except UserError as exc:
        raise pytest.UsageError(f"test policy ({found.source}):\n{exc}") from None
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
        choice = Choice(choice.workers, choice.dist, choice.note + "; warning: this pytest "
                        "and pytest-xdist ignore xdist_group (pytest-xdist #1386)")
    cli_timeout = config.getoption("timeout", None)
    return Active(
        found=found,
        policy=policy,
        classifier=Classifier(policy),
        method=method,
        method_note=method_note,
        timeouts=config.pluginmanager.hasplugin("timeout"),
        cli_timeout=float(cli_timeout) if cli_timeout is not None else None,
        choice=choice,
        summary=RunSummary(policy.warn_ratio),
    )


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
    timeout: pytest.MarkDecorator | None  # None: leave the limit to pytest-timeout


def _outcome(active: Active, rel: str, names: tuple[str, ...], seconds: float | None,
             explicit_method: str | None) -> _Outcome:
    key = (rel, names, seconds, explicit_method)
    found = active.outcomes.get(key)
    if found is None:
        resolution = active.classifier.resolve(rel, names, seconds, active.cli_timeout)
        timeout = None
        if active.timeouts and seconds is None and active.cli_timeout is None:
            method = explicit_method or active.method
            timeout = pytest.mark.timeout(resolution.limit, method=method)
        found = active.outcomes[key] = _Outcome(tuple(properties(resolution)), timeout)
    return found


@dataclass(frozen=True)
class _Marks:
    """The markers of a node's chain that matter here."""

    names: tuple[str, ...] = ()  # category markers
    timeout: pytest.Mark | None = None  # the closest `timeout` marker


_NO_MARKS = _Marks()


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


def _chain_marks(active: Active, item: pytest.Item) -> _Marks:
    """The item's own markers, then its parents' (scanned once per class or module)."""
    markers = active.classifier.markers
    parent = item.parent
    above = _NO_MARKS
    if parent is not None:
        cached = active.parent_marks.get(id(parent))
        if cached is None:
            cached = active.parent_marks[id(parent)] = _scan(parent.iter_markers(), markers)
        above = cached
    if not item.own_markers:
        return above
    own = _scan(item.own_markers, markers)
    if above is _NO_MARKS:
        return own
    return _Marks(own.names + above.names, own.timeout or above.timeout)


def _apply(active: Active, config: pytest.Config, item: pytest.Item) -> None:
    rel = _relpath(active, config, item.path)
    marks = _chain_marks(active, item)
    seconds, explicit_method = (
        marker_timeout(marks.timeout.args, marks.timeout.kwargs)
        if marks.timeout is not None else (None, None)
    )
    outcome = _outcome(active, rel, marks.names, seconds, explicit_method)
    if outcome.timeout is not None:
        item.add_marker(outcome.timeout, append=False)  # closest, before a method-only one
    item.user_properties.extend(outcome.properties)


class _SummaryHooks:
    """Collects durations from reports (on the controller under xdist, where no item exists)."""

    def __init__(self, active: Active) -> None:
        self.active = active

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.active.summary.add(report.nodeid, report.user_properties, report.duration)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        lines = self.active.summary.lines(
            terminalreporter.config.get_verbosity(), tuple(self.active.policy.categories)
        )
        if not lines:
            return
        terminalreporter.write_sep("=", "test policy: time per category")
        for line in lines:
            terminalreporter.write_line(line)

