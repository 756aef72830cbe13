"""pytest plugin (entry point `test_policy`): inert where no policy is found.

Thin hooks. `policy.discovery` finds the policy; only then is `plugin.run` imported,
which loads it and applies the pure functions: `policy.categories` (category and limit
of each test), `policy.timeouts` (pytest-timeout marker and JUnit properties),
`plugin.parallel` (pytest-xdist), `plugin.summary`; `plugin.phases` (registered with the
policy) judges each test's time after it ran (`plugin.timing`, `policy.verdict`: the
idle-machine estimate and the verdict line).
"""

from __future__ import annotations

import os
import signal
import warnings
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from test_policy_engine.policy.discovery import find_policy

if TYPE_CHECKING:
    from test_policy_engine.plugin.phases import Summary
    from test_policy_engine.plugin.run import Active

#: Key in pytest-xdist's `workerinput` telling workers the dist mode this plugin chose
#: (a worker re-parses only the user's own arguments, so it cannot see it otherwise).
WORKER_DIST_KEY = "test_policy_dist"
#: Key in `workerinput` holding the controller's validated policy and where it came from:
#: a worker uses the controller's copy, so a policy edited or deleted after the run
#: started cannot leave the workers with other limits, or none.
WORKER_POLICY_KEY = "test_policy_policy"

ACTIVE: pytest.StashKey[Active] = pytest.StashKey()


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
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    given = None if workerinput is None else workerinput.get(WORKER_POLICY_KEY)
    if isinstance(given, dict):
        from test_policy_engine.plugin.run import activate_worker

        active = activate_worker(config, given)
        if active is not None:
            config.stash[ACTIVE] = active
            return
    cache_dir = _cache_dir(config)

    def known(data: bytes) -> bool:
        from test_policy_engine.plugin.cache import lookup

        return cache_dir is not None and lookup(cache_dir, data)[1] is not None

    found = find_policy(
        config.getoption("test_policy_path"),
        str(config.getini("test_policy")),
        config.inipath.parent if config.inipath is not None else None,
        config.invocation_params.dir,
        config.rootpath,
        known,
    )
    if found is None:
        return
    from test_policy_engine.plugin.run import activate

    config.stash[ACTIVE] = activate(config, found, cache_dir)


def _cache_dir(config: pytest.Config) -> Path | None:
    """pytest's cache directory, which holds the validated copy of the policy (see
    `test_policy_engine.plugin.cache`); None when the cache is off (`-p no:cacheprovider`) or
    being cleared (`--cache-clear`). Resolved as pytest resolves ini `cache_dir`:
    `config.cache` itself only exists from pytest_configure, after the policy is needed."""
    if not config.pluginmanager.hasplugin("cacheprovider"):
        return None
    if config.getoption("cacheclear", False):
        return None
    path = os.path.expandvars(os.path.expanduser(str(config.getini("cache_dir"))))
    return config.rootpath / path  # an absolute `path` replaces the rootdir


def pytest_configure(config: pytest.Config) -> None:
    active = config.stash.get(ACTIVE, None)
    if active is None:
        return
    active.register_markers(config)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    cache: pytest.Cache | None = getattr(config, "cache", None)
    if active.to_store is not None and workerinput is None and cache is not None:
        # After cacheprovider's own (tryfirst) pytest_configure made config.cache, and
        # before pytest-xdist starts its workers, which then find the copy.
        from test_policy_engine.plugin.cache import CACHE_KEY

        with warnings.catch_warnings():
            # A read-only cache is no error, even under `filterwarnings = error`: the
            # copy is only a hint, and the next run validates the file again.
            warnings.simplefilter("ignore", pytest.PytestCacheWarning)
            cache.set(CACHE_KEY, active.to_store)
    if workerinput is not None and workerinput.get(WORKER_DIST_KEY) == "loadgroup":
        # The controller's dist mode came from the policy, not from arguments this
        # worker parsed: tell pytest-xdist's worker to add the `@group` suffixes.
        config.option.loadgroup = True
    summary = None
    if workerinput is None:  # the summary is kept where the reports end up
        summary = active.summary_hooks(reports=active.debugging)
        config.pluginmanager.register(summary, "test_policy_summary")
    if not active.debugging:
        _register_phases(config, active, summary)
    if any(c.forbid is not None and c.forbid.guards for c in active.policy.categories.values()):
        from test_policy_engine.guard.plugin import make_plugin  # the runtime guard

        debt = active.debt
        guard = make_plugin(active.policy, active.found.shown_as, config.rootpath,
                            worker=workerinput is not None,
                            known=None if debt is None else debt.guards,
                            baseline="" if debt is None else debt.shown_as)
        if guard is not None:
            config.pluginmanager.register(guard, "test_policy_guard")

    from test_policy_engine.plugin import scheduling

    scheduling.configure(config, workerinput, active.summary)


def _register_phases(config: pytest.Config, active: Active, summary: Summary | None
                     ) -> None:
    """The per-test hooks (`plugin.phases`): the verdict, the kill point, broad fixtures;
    `summary`: the run's, given each report after the verdict."""
    from test_policy_engine.plugin.fixtures import BroadFixtures
    from test_policy_engine.plugin.phases import Phases

    phases = Phases(summary)
    if active.timeouts and hasattr(signal, "SIGALRM"):
        from test_policy_engine.plugin.kill import KillPoint

        phases = KillPoint(config.pluginmanager, summary)
    config.pluginmanager.register(phases, "test_policy_phases")
    kills = [c.limit * active.policy.kill_after for c in active.policy.categories.values()]
    config.pluginmanager.register(
        BroadFixtures(phases, config.rootpath,
                      max(kills, default=0.0) if active.timeouts else 0.0,
                      active.policy.warn_ratio), "test_policy_broad_fixtures")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (controller): pass the chosen dist mode to each worker."""
    active = node.config.stash.get(ACTIVE, None)
    if active is not None and active.choice.parallel:
        node.workerinput[WORKER_DIST_KEY] = active.choice.dist
    if active is not None:
        node.workerinput[WORKER_POLICY_KEY] = active.for_workers()
        from test_policy_engine.plugin import scheduling

        scheduling.configure_node(node)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist (controller): loadgroup that keeps groups on any pytest (#1386)."""
    if config.stash.get(ACTIVE, None) is None:
        return None
    from test_policy_engine.plugin import scheduling

    return scheduling.scheduler(config, log)


def pytest_report_header(config: pytest.Config) -> list[str]:
    active = config.stash.get(ACTIVE, None)
    if active is None or config.get_verbosity() < 1:
        return []
    return [active.header()]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, object, object]:
    active = config.stash.get(ACTIVE, None)
    if active is not None:
        # Before every other implementation: pytest-xdist's worker reads the
        # xdist_group markers for loadgroup in its own pytest_collection_modifyitems.
        active.add_groups(config, items)
    result = yield
    if active is not None:
        # After them: only the tests left after -k/-m deselection, and the injected
        # `timeout` marker cannot make `-k timeout` (or `-k out`) select every test.
        active.apply(config, items)
    return result
