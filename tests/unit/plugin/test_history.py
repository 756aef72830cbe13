import json

from test_policy_engine.plugin.history import (
    RUNS_KEY,
    STARTUP_KEY,
    load_durations,
    previous_run,
    selection_key,
    startup_cost,
)
from test_policy_engine.plugin.parallel import Request, decide, pays
from test_policy_engine.policy.model import Parallel

PARALLEL = Parallel(enabled=True, workers=2, dist="loadgroup")


def test_options_that_only_change_how_tests_run_do_not_change_the_selection():
    assert selection_key(["-k", "TestA", "-n", "2", "-v", "--basetemp=/tmp/x"]) == \
        selection_key(["-k", "TestA"])
    assert selection_key(["-k", "TestA"]) != selection_key(["-k", "TestB"])


def test_a_quick_previous_run_goes_serial_and_says_why():
    choice = decide(PARALLEL, "signal", Request(previous=(5, 0.4), environ={}))
    assert not choice.parallel
    assert choice.note == ("serial: the last run of this selection took 0.4 s in 5 tests; "
                           "2 workers would save less than their start-up (~2 s)")


def test_a_long_previous_run_and_a_first_run_go_parallel():
    long_run = decide(PARALLEL, "signal", Request(previous=(300, 60.0), environ={}))
    first = decide(PARALLEL, "signal", Request(environ={}))
    assert long_run.parallel
    assert first.parallel
    assert "took 60.0 s in 300 tests" in long_run.note


def test_fewer_tests_than_workers_never_pay():
    assert pays((1, 100.0), 2) is not None


def test_the_previous_run_is_read_from_pytests_cache_directory(tmp_path):
    path = tmp_path / "v" / RUNS_KEY
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({selection_key(["-k", "x"]): [5, 0.5]}))
    found = previous_run(tmp_path, ["-k", "x"])
    assert found is not None
    assert (found.tests, found.seconds) == (5, 0.5)
    assert previous_run(tmp_path, ["-k", "y"]) is None
    assert previous_run(None, []) is None


def test_a_durations_file_is_preferred_and_malformed_values_are_dropped(tmp_path):
    (tmp_path / ".test_durations").write_text(json.dumps({"t::a": 1.5, "t::b": "slow"}))
    assert load_durations(tmp_path, None) == {"t::a": 1.5}
    assert load_durations(tmp_path / "none", None) == {}


def test_the_start_up_measured_in_the_last_parallel_run_decides_instead_of_the_guess():
    # 8 s saved by 2 workers on a 16 s run: worth a 2 s start-up, not a measured 9.5 s.
    assert pays((300, 16.0), 2) is None
    assert pays((300, 16.0), 2, startup=9.5) == (
        "the last run of this selection took 16.0 s in 300 tests; 2 workers would save "
        "less than their start-up (~9.5 s, measured in the last parallel run)")
    # And a cheap measured start-up lets a run the guess would keep serial go parallel.
    assert pays((300, 3.0), 2) is not None
    assert pays((300, 3.0), 2, startup=0.8) is None


def test_the_start_up_cost_is_the_parallel_runs_start_beyond_a_serial_runs_own(tmp_path):
    path = tmp_path / "v" / STARTUP_KEY
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"parallel": 4.5, "serial": 1.25}))
    assert startup_cost(tmp_path) == 3.25
    path.write_text(json.dumps({"serial": 1.25}))  # no parallel run yet
    assert startup_cost(tmp_path) is None
    path.write_text(json.dumps({"parallel": 1.0, "serial": 2.0}))
    assert startup_cost(tmp_path) == 0.0
    for broken in ('{"parallel": "4"}', '{"parallel": -1}', '{"parallel": 1e9}', "[1]", "{"):
        path.write_text(broken)
        assert startup_cost(tmp_path) is None, broken
    assert startup_cost(None) is None
