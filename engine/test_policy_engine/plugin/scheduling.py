"""Keeping `xdist_group` tests on one pytest-xdist worker, whatever the pytest version.

pytest-xdist's `loadgroup` learns a test's group from an `@group` suffix that its
worker writes into `item._nodeid`; pytest 9.2 builds `item.nodeid` without reading
`_nodeid`, so with pytest-xdist 3.8 the suffix never reaches the controller and every
group is spread over all workers (pytest-xdist #1386).

Here the group travels beside the node id instead: each worker writes, after
collection and before it reports its collection to the controller, a JSON map
`{node id: group}` into a directory the controller gave it (`workerinput`). The
controller's scheduler (`GroupScheduling`, from `pytest_xdist_make_scheduler`) reads
those maps when every worker has collected and puts each group in one work unit. An
`@group` suffix (pytest versions where xdist's rename still works, or a fixed
pytest-xdist) is honoured too, so both states give the same units.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from test_policy_engine.plugin.summary import RunSummary

#: Key in pytest-xdist's `workerinput`: the directory the workers write their maps to.
GROUPS_DIR_KEY = "test_policy_groups_dir"
#: Tests kept queued on a worker at most (pytest-xdist's loadscope keeps about 2).
PENDING = 4
#: Recorded seconds of work kept queued on a worker: enough to hide the round trip to
#: the controller, little enough that the workers finish close together.
AHEAD_SECONDS = 0.25


def group_of(item: pytest.Item) -> str | None:
    """The item's group as pytest-xdist names it: its `xdist_group` names (function,
    class, module, `pytest.param` marks), sorted and joined by `_`; None without one."""
    names: set[str] = set()
    for mark in item.iter_markers("xdist_group"):
        names.add(str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")))
    return "_".join(sorted(names)) if names else None


def group_map(items: Iterable[pytest.Item]) -> dict[str, str]:
    return {item.nodeid: group for item in items if (group := group_of(item)) is not None}


def write_map(directory: Path, worker: str, groups: Mapping[str, str]) -> None:
    """Atomically: the controller may read while another worker still writes."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{worker}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(groups), handle, sort_keys=True)
    os.replace(tmp, directory / f"{worker}.json")


def read_maps(directory: Path) -> dict[str, str]:
    groups: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(found, dict):
            groups.update({str(k): str(v) for k, v in found.items()})
    return groups


def split_scope(nodeid: str, groups: Mapping[str, str]) -> str:
    """The work unit of a test: its group (by suffix or map), else the test alone."""
    if nodeid.rfind("@") > nodeid.rfind("]"):  # a `]` after the `@`: a parameter id
        return "group:" + nodeid.rsplit("@", 1)[-1]
    group = groups.get(nodeid)
    return nodeid if group is None else "group:" + group


class WorkerGroups:
    """Worker-side plugin: writes this worker's group map after the final collection."""

    def __init__(self, directory: Path, worker: str) -> None:
        self.directory = directory
        self.worker = worker

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # tryfirst: before pytest-xdist's worker sends "collectionfinish"
        write_map(self.directory, self.worker, group_map(session.items))


def recorded_as(nodeid: str) -> str:
    """The node id durations are recorded under: without an `@group` suffix."""
    return nodeid.rsplit("@", 1)[0] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid


def estimates(nodeids: Iterable[str], durations: Mapping[str, float]) -> dict[str, float]:
    """Each test's expected seconds: its record, else the mean of the records (0 without
    any, which leaves the collection order and a queue of PENDING tests)."""
    known = [d for d in durations.values() if d >= 0]
    unknown = sum(known) / len(known) if known else 0.0
    return {nodeid: durations.get(recorded_as(nodeid), unknown) for nodeid in nodeids}


def longest_first(units: Mapping[str, Mapping[str, bool]],
                  durations: Mapping[str, float]) -> list[str]:
    """The work units, longest (summed recorded durations) first; a test without a record
    counts as the mean of those with one; ties keep collection order."""
    weights = estimates((n for unit in units.values() for n in unit), durations)

    def weight(unit: str) -> float:
        return sum(weights[nodeid] for nodeid in units[unit])

    return sorted(units, key=lambda unit: -weight(unit))


def top_up(pending_tests: int, pending_seconds: float) -> str | None:
    """What a worker gets next, from what it has not finished yet (the test it runs or is
    about to run included): None (enough), "longest" or "shortest" queued unit.

    A pytest-xdist worker starts a test only once it holds the next one too (pytest
    needs `nextitem` for teardown), so a unit sent to a busy worker is committed to it
    behind the running test. Longest-processing-time-first gives the longest remaining
    unit to the worker that will be free first: one with less than AHEAD_SECONDS of work
    left. A worker with more left only needs a second test to start, and gets the
    shortest one, which LPT would run last anyway, so no long unit waits behind a long
    unit while the other worker idles at the end."""
    if pending_tests >= PENDING or (pending_tests >= 2 and pending_seconds >= AHEAD_SECONDS):
        return None
    return "shortest" if pending_seconds >= AHEAD_SECONDS else "longest"


def make_scheduler(config: pytest.Config, log: Any, directory: Path | None,
                   durations: Mapping[str, float]) -> Any:
    """A `LoadGroupScheduling` whose groups come from the workers' maps (`directory`),
    handing out the longest work units first (LPT) when `durations` are known."""
    from xdist.scheduler import LoadGroupScheduling  # type: ignore[import-untyped]

    class GroupScheduling(LoadGroupScheduling):  # type: ignore[misc]
        groups: dict[str, str] | None = None
        weights: dict[str, float] | None = None

        def __init__(self, config: pytest.Config, log: Any = None) -> None:
            super().__init__(config, log)
            self.indexes: dict[Any, dict[str, int]] = {}  # node -> {node id: index}
            self.left: dict[Any, dict[str, float]] = {}  # node -> its unfinished tests

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                # first called from schedule(), once every worker has collected
                self.groups = read_maps(directory) if directory is not None else {}
            return split_scope(nodeid, self.groups)

        def _order(self) -> dict[str, float]:
            # before the first unit goes out: the queue is complete
            if self.weights is None:
                self.weights = estimates(self.collection or (), durations)
                if durations:
                    order = longest_first(self.workqueue, durations)
                    units = {unit: self.workqueue[unit] for unit in order}
                    self.workqueue.clear()
                    self.workqueue.update(units)
            return self.weights

        def _assign_work_unit(self, node: Any, last: bool = False) -> None:
            weights = self._order()
            scope, work_unit = self.workqueue.popitem(last=last)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            index = self.indexes.get(node)
            if index is None:
                collection = self.registered_collections[node]
                index = self.indexes[node] = {n: i for i, n in enumerate(collection)}
            todo = [nodeid for nodeid, done in work_unit.items() if not done]
            self.left.setdefault(node, {}).update({n: weights.get(n, 0.0) for n in todo})
            node.send_runtest_some([index[nodeid] for nodeid in todo])

        def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
            nodeid = self.registered_collections[node][item_index]
            self.left.get(node, {}).pop(nodeid, None)
            super().mark_test_complete(node, item_index, duration)

        def remove_node(self, node: Any) -> str | None:
            self.left.pop(node, None)
            return super().remove_node(node)  # type: ignore[no-any-return]

        def _reschedule(self, node: Any) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            while self.workqueue:
                left = self.left.get(node, {})
                take = top_up(len(left), sum(left.values()))
                if take is None:
                    return
                self._assign_work_unit(node, last=take == "shortest")
            # all handed out: a worker holding one test runs it only once told to stop
            node.shutdown()

    return GroupScheduling(config, log)


GROUPS_DIR: pytest.StashKey[Path] = pytest.StashKey()


def _local_workers(config: pytest.Config) -> bool:
    """Workers started on this machine (-n), which can read the controller's directory."""
    specs = config.getoption("tx", None) or []
    return all(str(spec).startswith("popen") for spec in specs)


def configure(config: pytest.Config, workerinput: Mapping[str, Any] | None,
              summary: RunSummary) -> None:
    """Controller: make the maps' directory for loadgroup; worker: register the writer."""
    if workerinput is not None:
        directory = workerinput.get(GROUPS_DIR_KEY)
        if directory:
            plugin = WorkerGroups(Path(directory), str(workerinput.get("workerid", "gw")))
            config.pluginmanager.register(plugin, "test_policy_worker_groups")
        return
    from test_policy_engine.plugin.history import Recorder

    config.pluginmanager.register(Recorder(config, summary), "test_policy_history")
    if config.getoption("dist", "no") != "loadgroup" or not _local_workers(config):
        return
    import shutil

    directory = Path(tempfile.mkdtemp(prefix="test-policy-groups-"))
    config.stash[GROUPS_DIR] = directory
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))


def configure_node(node: Any) -> None:
    directory = node.config.stash.get(GROUPS_DIR, None)
    if directory is not None:
        node.workerinput[GROUPS_DIR_KEY] = str(directory)


def scheduler(config: pytest.Config, log: Any) -> Any:
    """Ours for loadgroup (groups kept, longest first) and for load with durations."""
    from test_policy_engine.plugin.history import load_durations

    dist = config.getoption("dist", "no")
    directory = config.stash.get(GROUPS_DIR, None)
    if dist not in ("load", "loadgroup") or (dist == "loadgroup" and directory is None):
        return None
    durations = load_durations(config.rootpath, getattr(config, "cache", None))
    if dist == "load" and not durations:
        return None
    return make_scheduler(config, log, directory, durations)
