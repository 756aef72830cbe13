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
from typing import Any

import pytest

#: Key in pytest-xdist's `workerinput`: the directory the workers write their maps to.
GROUPS_DIR_KEY = "test_policy_groups_dir"
#: Tests kept queued on each worker (pytest-xdist's loadscope keeps about 2).
PENDING = 4


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


def longest_first(units: Mapping[str, Mapping[str, bool]],
                  durations: Mapping[str, float]) -> list[str]:
    """The work units, longest (summed recorded durations) first; a test without a record
    counts as the mean of those with one; ties keep collection order."""
    known = [d for d in durations.values() if d >= 0]
    unknown = sum(known) / len(known) if known else 0.0

    def weight(unit: str) -> float:
        return sum(durations.get(nodeid, unknown) for nodeid in units[unit])

    return sorted(units, key=lambda unit: -weight(unit))


def make_scheduler(config: pytest.Config, log: Any, directory: Path | None,
                   durations: Mapping[str, float]) -> Any:
    """A `LoadGroupScheduling` whose groups come from the workers' maps (`directory`),
    handing out the longest work units first when `durations` are known."""
    from xdist.scheduler import LoadGroupScheduling  # type: ignore[import-untyped]

    class GroupScheduling(LoadGroupScheduling):  # type: ignore[misc]
        groups: dict[str, str] | None = None
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                # first called from schedule(), once every worker has collected
                self.groups = read_maps(directory) if directory is not None else {}
            return split_scope(nodeid, self.groups)

        def _assign_work_unit(self, node: Any) -> None:
            if not self.ordered and durations:
                # before the first unit goes out: the queue is complete
                self.ordered = True
                order = longest_first(self.workqueue, durations)
                units = {unit: self.workqueue[unit] for unit in order}
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

        def _reschedule(self, node: Any) -> None:
            # xdist tops a worker up with one unit when <= 2 tests are pending; with
            # one-test units that is a round trip per test: keep PENDING queued instead.
            super()._reschedule(node)
            while (self.workqueue and not node.shutting_down
                   and self._pending_of(self.assigned_work[node]) < PENDING):
                self._assign_work_unit(node)

    return GroupScheduling(config, log)


GROUPS_DIR: pytest.StashKey[Path] = pytest.StashKey()


def _local_workers(config: pytest.Config) -> bool:
    """Workers started on this machine (-n), which can read the controller's directory."""
    specs = config.getoption("tx", None) or []
    return all(str(spec).startswith("popen") for spec in specs)


def configure(config: pytest.Config, workerinput: Mapping[str, Any] | None) -> None:
    """Controller: make the maps' directory for loadgroup; worker: register the writer."""
    if workerinput is not None:
        directory = workerinput.get(GROUPS_DIR_KEY)
        if directory:
            plugin = WorkerGroups(Path(directory), str(workerinput.get("workerid", "gw")))
            config.pluginmanager.register(plugin, "test_policy_worker_groups")
        return
    from test_policy_engine.plugin.history import Recorder

    config.pluginmanager.register(Recorder(config), "test_policy_history")
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
