"""Reading /proc's process lines and choosing what a stopped test left running."""

from test_policy_engine.plugin.leftovers import Process, descendants, left_behind, parse_stat

# Fields after the command: state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt,
# majflt, cmajflt, utime, stime, cutime, cstime, priority, nice, threads, itrealvalue,
# starttime (the 20th), ...
TAIL = "S 100 100 100 0 -1 4194560 10 0 0 0 1 0 0 0 20 0 1 0 {start} 1000 200 0"


def test_a_stat_line_gives_pid_parent_state_and_start_in_seconds_since_boot():
    line = f"4242 (python3) {TAIL.format(start=123450)}\n"
    assert parse_stat(line, 100.0) == Process(4242, 100, "S", 1234.5)


def test_a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields():
    line = f"7 (my (odd) cmd) ) {TAIL.format(start=500)}"
    assert parse_stat(line, 100.0) == Process(7, 100, "S", 5.0)


def test_a_truncated_or_garbled_line_is_no_process():
    assert parse_stat("7 (x) S 1 2", 100.0) is None
    assert parse_stat("no parenthesis at all", 100.0) is None
    assert parse_stat(f"x (y) {TAIL.format(start='z')}", 100.0) is None


def test_descendants_are_the_whole_tree_below_the_root_and_nothing_beside_it():
    processes = [Process(2, 1, "S", 0), Process(3, 2, "S", 0), Process(4, 3, "S", 0),
                 Process(5, 1, "S", 0), Process(6, 99, "S", 0)]
    assert [p.pid for p in descendants(1, processes)] == [2, 5, 3, 4]  # parents first
    assert {p.pid for p in descendants(2, processes)} == {3, 4}


def test_only_live_processes_started_during_the_test_and_not_kept_are_left_behind():
    found = [Process(10, 1, "S", 99.0),  # before the test: a session server, say
             Process(11, 1, "S", 100.0),  # the test's
             Process(12, 1, "Z", 100.5),  # ended (a zombie not yet reaped)
             Process(13, 1, "R", 101.0),  # started by a broad fixture in its setup
             Process(14, 13, "S", 101.5)]  # the test's, below the fixture's
    assert [p.pid for p in left_behind(found, 100.0, {13})] == [11, 14]
