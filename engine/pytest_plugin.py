"""pytest plugin (entry point `test_policy`): inert where no policy is found.

Thin hooks over pure functions: `engine.discovery` finds the policy,
`engine.categories` resolves each test's category and limit, `engine.timeouts`
turns that into a pytest-timeout marker and JUnit properties, `engine.parallel`
decides on pytest-xdist, `engine.run_summary` prints the time per category.
"""

from __future__ import annotations

import importlib.metadata
import signal
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.categories import Classifier
from engine.discovery import Found, find_policy
from engine.errors import UserError
from engine.globs import first_match
from engine.loader import load_policy
from engine.parallel import Choice, Request, decide, grouping_ignored, safe_dist
from engine.policy import Policy
from engine.run_summary import RunSummary
from engine.timeouts import effective_method, marker_timeout, properties

#: Key in pytest-xdist's `workerinput` telling workers the dist mode this plugin chose
#: (a worker re-parses only the user's own arguments, so it cannot see it otherwise).
WORKER_DIST_KEY = "test_policy_dist"


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
    groups: dict[str, str | None] = field(default_factory=dict)
    marks: dict[tuple[float, str], pytest.MarkDecorator] = field(default_factory=dict)


ACTIVE = pytest.StashKey[Active]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("test-policy", "per-category time limits from policy.yaml")
    group.addoption(
        "--policy",
        dest="test_policy_path",
        metavar="PATH",
        default=None,
        help="test policy file (default: ini option test_policy, else policy.yaml in the "
        "rootdir; without one the plugin does nothing)",
    )
    parser.addini(
        "test_policy",
        "test policy file, relative to this ini file (default: policy.yaml in the rootdir)",
        type="string",
        default="",
    )


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, object, object]:
    # A wrapper runs before every plain implementation, pytest-xdist's tryfirst one
    # included, so the -n/--dist chosen here is what xdist turns into workers.
    if not (config.getoption("help", False) or config.getoption("version", False)):
        _activate(config)
    return (yield)


def _activate(config: pytest.Config) -> None:
    found = find_policy(
        config.getoption("test_policy_path"),
        str(config.getini("test_policy")),
        config.inipath.parent if config.inipath is not None else None,
        config.invocation_params.dir,
        config.rootpath,
    )
    if found is None:
        return
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
    config.stash[ACTIVE] = Active(
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


def pytest_configure(config: pytest.Config) -> None:
    active = config.stash.get(ACTIVE, None)
    if active is None:
        return
    for name, category in active.policy.categories.items():
        for marker in category.markers:
            about = category.description or f"tests of the {name} category"
            config.addinivalue_line(
                "markers",
                f"{marker}: {about} [test-policy: category {name}, {category.limit:g} s]",
            )
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None and workerinput.get(WORKER_DIST_KEY) == "loadgroup":
        # The controller's dist mode came from the policy, not from arguments this
        # worker parsed: tell pytest-xdist's worker to add the `@group` suffixes.
        config.option.loadgroup = True
    if workerinput is None:
        config.pluginmanager.register(_SummaryHooks(active), "test_policy_summary")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (controller): pass the chosen dist mode to each worker."""
    active = node.config.stash.get(ACTIVE, None)
    if active is not None and active.choice.parallel:
        node.workerinput[WORKER_DIST_KEY] = active.choice.dist


def pytest_report_header(config: pytest.Config) -> list[str]:
    active = config.stash.get(ACTIVE, None)
    if active is None or config.get_verbosity() < 1:
        return []
    timeouts = f"{active.method} method" + (f" ({active.method_note})"
                                            if active.method_note else "")
    if not active.timeouts:
        timeouts = "off (pytest-timeout is not loaded)"
    elif active.cli_timeout is not None:
        timeouts += f"; --timeout={active.cli_timeout:g} replaces the policy's limits"
    return [
        f"test-policy: {active.found.shown_as} (from {active.found.source}); "
        f"timeouts: {timeouts}; parallel: {active.choice.note}"
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the xdist_group markers must be in place before pytest-xdist's worker
    # rewrites node ids for loadgroup in its own pytest_collection_modifyitems.
    active = config.stash.get(ACTIVE, None)
    if active is None:
        return
    for item in items:
        _apply(active, config, item)


def _relpath(active: Active, config: pytest.Config, path: Path) -> str:
    rel = active.relpaths.get(path)
    if rel is None:
        try:
            rel = path.relative_to(config.rootpath).as_posix()
        except ValueError:
            rel = path.as_posix()
        active.relpaths[path] = rel
    return rel


def _group(active: Active, rel: str) -> str | None:
    if rel not in active.groups:
        active.groups[rel] = next(
            (name for name, globs in active.policy.parallel.groups.items()
             if first_match(globs, rel) is not None),
            None,
        )
    return active.groups[rel]


def _apply(active: Active, config: pytest.Config, item: pytest.Item) -> None:
    rel = _relpath(active, config, item.path)
    names: list[str] = []
    explicit: pytest.Mark | None = None
    grouped = False
    for mark in item.iter_markers():
        if mark.name == "timeout":
            if explicit is None:
                explicit = mark  # the closest one, as pytest-timeout reads it
        elif mark.name == "xdist_group":
            grouped = True
        else:
            names.append(mark.name)
    seconds, explicit_method = (
        marker_timeout(explicit.args, explicit.kwargs) if explicit is not None else (None, None)
    )
    resolution = active.classifier.resolve(rel, names, seconds, active.cli_timeout)
    if active.timeouts and seconds is None and active.cli_timeout is None:
        method = explicit_method or active.method
        key = (resolution.limit, method)
        decorator = active.marks.get(key)
        if decorator is None:
            decorator = pytest.mark.timeout(resolution.limit, method=method)
            active.marks[key] = decorator
        item.add_marker(decorator, append=False)  # closest, before a method-only marker
    if not grouped and active.policy.parallel.groups:
        group = _group(active, rel)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    item.user_properties.extend(properties(resolution))


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

