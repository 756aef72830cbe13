import json

from test_policy_engine.plugin.history import (
    RUNS_KEY,
    load_durations,
    previous_run,
    selection_key,
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
