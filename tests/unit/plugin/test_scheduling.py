import types

import xdist.scheduler  # noqa: F401  (imported while collecting: pytest rewrites it, ~0.4 s)
from test_policy_engine.plugin.scheduling import (
    PENDING,
    estimates,
    longest_first,
    make_scheduler,
    read_maps,
    split_scope,
    top_up,
    write_map,
)


def test_a_test_in_the_workers_map_belongs_to_its_group_and_others_stand_alone():
    groups = {"t.py::test_a": "db"}
    assert split_scope("t.py::test_a", groups) == "group:db"
    assert split_scope("t.py::test_b", groups) == "t.py::test_b"


def test_an_at_suffix_from_a_fixed_pytest_xdist_names_the_group_too():
    assert split_scope("t.py::test_a@db", {}) == "group:db"
    assert split_scope("t.py::test_a[x@y]", {}) == "t.py::test_a[x@y]"


def test_maps_written_by_workers_are_read_back_together(tmp_path):
    write_map(tmp_path, "gw0", {"t.py::a": "db"})
    write_map(tmp_path, "gw1", {"t.py::a": "db", "t.py::b": "fs"})
    (tmp_path / "broken.json").write_text("{")
    assert read_maps(tmp_path) == {"t.py::a": "db", "t.py::b": "fs"}
    assert not list(tmp_path.glob("*.tmp"))


def test_the_longest_units_go_first_and_unrecorded_tests_count_as_the_mean():
    units = {"a": {"t::a": False}, "g": {"t::g1": False, "t::g2": False},
             "b": {"t::b": False}, "new": {"t::new": False}}
    durations = {"t::a": 0.1, "t::g1": 0.2, "t::g2": 0.2, "t::b": 3.0}
    # mean of the known: 0.875 s, so the unrecorded test comes before `a` and `g`
    assert longest_first(units, durations) == ["b", "new", "g", "a"]


def test_without_durations_the_collection_order_stays():
    units = {"a": {"t::a": False}, "b": {"t::b": False}}
    assert longest_first(units, {}) == ["a", "b"]


def test_a_worker_about_to_be_free_gets_the_longest_unit_and_a_busy_one_the_shortest():
    assert top_up(0, 0.0) == "longest"
    assert top_up(1, 0.05) == "longest"  # its last test is nearly done
    assert top_up(1, 3.0) == "shortest"  # it only needs a second test to start the first
    assert top_up(2, 3.0) is None
    assert top_up(3, 0.1) == "longest"  # short tests: a little more queued
    assert top_up(PENDING, 0.0) is None  # without durations: PENDING tests queued


def test_durations_are_looked_up_without_a_group_suffix():
    weights = estimates(["t.py::a@db", "t.py::b[x@y]", "t.py::new"],
                        {"t.py::a": 2.0, "t.py::b[x@y]": 1.0})
    assert weights == {"t.py::a@db": 2.0, "t.py::b[x@y]": 1.0, "t.py::new": 1.5}


class Worker:
    """Stands for a pytest-xdist worker on the controller's side (`WorkerController`):
    it receives test indices and, like a real worker, starts a test only while it holds
    the next one too or has been told to shut down."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.gateway = types.SimpleNamespace(id=name)
        self.shutting_down = False
        self.queue: list[int] = []
        self.ran: list[tuple[float, str]] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


def xdist_config(workers: int) -> types.SimpleNamespace:
    """What pytest-xdist's scheduler reads from pytest's Config: `--tx` and
    `--loadscope-reorder` (a real Config costs a unit test a fifth of a second)."""
    return types.SimpleNamespace(getvalue={"tx": [f"{workers}*popen"]}.__getitem__,
                                 option=types.SimpleNamespace(loadscopereorder=False))


def simulate(collection, seconds, recorded, maps=None, workers=2):
    """Runs the real scheduler against workers whose tests take `seconds`; returns
    (makespan, {worker: [(start, node id)]}). `maps`: a directory of group maps."""
    scheduler = make_scheduler(xdist_config(workers), None, maps, recorded)
    nodes = [Worker(f"gw{n}") for n in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    running: dict[Worker, tuple[float, int]] = {}
    now = 0.0

    def start_ready() -> None:
        for node in nodes:
            if node not in running and node.queue and (len(node.queue) >= 2
                                                        or node.shutting_down):
                index = node.queue.pop(0)
                running[node] = (now + seconds[collection[index]], index)
                node.ran.append((now, collection[index]))

    start_ready()
    while running:
        node, (now, index) = min(running.items(), key=lambda kv: kv[1][0])
        del running[node]
        scheduler.mark_test_complete(node, index)
        start_ready()
    assert scheduler.tests_finished
    assert all(not node.queue for node in nodes)
    assert sorted(n for node in nodes for _, n in node.ran) == sorted(collection)
    return now, {node.name: node.ran for node in nodes}


def skewed_suite():
    """The skew benchmark's suite: 197 tests of 10-100 ms, 3 of 2-3 s collected last."""
    seconds = {f"t.py::short[{n}]": 0.01 + 0.09 * (n % 10) / 9 for n in range(197)}
    seconds.update({f"t.py::long[{n}]": s for n, s in enumerate((2.0, 2.5, 3.0))})
    return list(seconds), seconds


def test_with_durations_the_skewed_suite_ends_within_a_few_percent_of_the_ideal():
    collection, seconds = skewed_suite()
    ideal = max(sum(seconds.values()) / 2, max(seconds.values()))
    with_, ran = simulate(collection, seconds, seconds)
    without, _ = simulate(collection, seconds, {})
    assert with_ <= 1.02 * ideal
    assert without > 1.05 * ideal  # the long tests collected last leave a lone tail
    assert {run[0][1] for run in ran.values()} == {"t.py::long[2]", "t.py::long[1]"}


def test_no_long_test_waits_behind_another_while_a_worker_runs_short_ones():
    # four 3 s tests and 3 s of short ones: counting tests, a worker queued two long
    # ones at once and finished 3 s after the other
    seconds = {f"t.py::short[{n}]": 0.05 for n in range(60)}
    seconds.update({f"t.py::long[{n}]": 3.0 for n in range(4)})
    collection = list(seconds)
    makespan, ran = simulate(collection, seconds, seconds)
    assert makespan <= 7.5 + 0.1
    assert all(len([n for _, n in run if "long" in n]) == 2 for run in ran.values())


def test_a_recorded_group_is_placed_whole_by_its_summed_time(tmp_path):
    seconds = {f"t.py::db[{n}]": 1.0 for n in range(3)}  # a 3 s group
    seconds.update({f"t.py::free[{n}]": 0.1 for n in range(30)})
    collection = list(seconds)
    write_map(tmp_path, "gw0", {nodeid: "db" for nodeid in collection if "db" in nodeid})
    makespan, ran = simulate(collection, seconds, seconds, maps=tmp_path)
    holders = {w for w, run in ran.items() if any("db" in n for _, n in run)}
    assert len(holders) == 1
    first = ran[holders.pop()][0][1]
    assert first == "t.py::db[0]"  # the group went out first
    assert makespan <= 3.0 + 0.15
