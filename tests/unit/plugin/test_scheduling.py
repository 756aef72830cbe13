from test_policy_engine.plugin.scheduling import longest_first, read_maps, split_scope, write_map


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
