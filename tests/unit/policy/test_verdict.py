"""The idle-machine estimator and the verdict line, on figures recorded from real runs
(pytest 9.2, a 2-CPU Linux machine shared with other work; the loaded runs had four
CPU-bound processes beside them)."""

import pytest
from test_policy_engine.policy.verdict import (
    Figures,
    children_queued,
    counted_wait,
    idle_estimate,
    is_over,
    kill_point,
    message,
)

# (wall, cpu, wait) per test, as the plugin wrote them in the JUnit file.
SLEEP_IDLE = Figures(0.301, 0.001, 0.000)
SLEEP_LOADED = Figures(0.319, 0.002, 0.005)
CPU_IDLE = Figures(0.814, 0.305, 0.521)  # idle for us, but other agents shared the CPUs
CPU_LOADED = Figures(3.003, 0.311, 2.810)
CHILD_LOADED = Figures(3.023, 0.331, 0.312)  # the work ran in a child process
# A test that slept 0.15 s beside four CPU-bound processes (Linux 6.18): the kernel
# counted most of its sleep as waiting for a CPU.
SLEEP_READ_AS_WAIT = Figures(0.156, 0.003, 0.144)


def test_a_sleeping_test_is_judged_by_its_wall_time_loaded_or_not():
    assert SLEEP_IDLE.estimate == pytest.approx(0.301)
    assert SLEEP_LOADED.estimate == pytest.approx(0.314)


def test_a_cpu_bound_test_on_a_loaded_machine_is_judged_by_what_it_did():
    assert CPU_LOADED.estimate == pytest.approx(0.311, abs=0.01)
    assert CPU_IDLE.estimate == pytest.approx(0.305, abs=0.01)
    assert not is_over(0.5, CPU_LOADED)  # 0.6 of a 0.5 s limit, ten times over in wall time


def test_a_sleep_the_kernel_counted_as_waiting_for_a_cpu_does_not_hide_a_slow_test():
    assert not is_over(0.1, SLEEP_READ_AS_WAIT)  # the raw figures would let it pass
    assert counted_wait(SLEEP_READ_AS_WAIT, 0.0) == pytest.approx(0.03)  # 0.003 x 10
    assert counted_wait(SLEEP_READ_AS_WAIT, 0.0, 1.5) == pytest.approx(0.03)
    wait = counted_wait(SLEEP_READ_AS_WAIT, 0.0, 1.5)
    assert is_over(0.1, Figures(0.156, 0.003, wait))


def test_a_cpu_bound_threads_wait_counts_whatever_the_contention_read_after_it():
    # 9x its CPU time: within WAIT_PER_CPU, so a probe that reads an idle machine
    # afterwards does not fail it.
    assert counted_wait(CPU_LOADED, 0.0, 0.0) == pytest.approx(CPU_LOADED.wait)
    assert not is_over(0.5, Figures(3.003, 0.311, counted_wait(CPU_LOADED, 0.0, 0.0)))
    # Heavier than that, the measured contention (with its margin) explains the wait.
    heavy = Figures(5.0, 0.3, 4.6)  # 15x
    assert counted_wait(heavy, 0.0, 1.0) == pytest.approx(3.0)
    assert counted_wait(heavy, 0.0, 8.0) == pytest.approx(4.6)


def test_a_threads_wait_is_explained_by_its_own_cpu_time_not_its_childrens():
    # 0.3 s of CPU, all in a child: the thread itself barely ran, so it barely waited.
    assert counted_wait(Figures(1.0, 0.3, 0.5), 0.3, 1.5) == 0.0
    assert counted_wait(Figures(1.0, 0.3, 0.5), 0.25, 1.5) == pytest.approx(0.5)


def test_a_child_process_test_keeps_its_wall_time_until_the_childs_queueing_is_measured():
    assert CHILD_LOADED.estimate == pytest.approx(3.023 - 0.312)
    assert CHILD_LOADED.estimate >= CHILD_LOADED.cpu


def test_a_childs_queueing_is_its_cpu_time_times_the_machines_contention():
    # 0.32 s of CPU in a child beside four CPU-bound processes on two CPUs (contention
    # 1.5 when measured): 0.77 s of wall time, of which 0.45 s queued, within the margin.
    figures = Figures(0.77, 0.32, 0.0)
    queued = children_queued(figures, 0.32, 1.5)
    assert queued == pytest.approx(0.45, abs=0.005)
    assert children_queued(Figures(2.0, 0.32), 0.32, 1.5) == pytest.approx(0.96)  # 2 x 1.5
    corrected = Figures(0.77, 0.32, 0.0, queued)
    assert corrected.estimate == pytest.approx(0.32, abs=0.005)
    assert not is_over(0.5, corrected)
    assert ("test_policy.queued", "0.450") in corrected.properties()


def test_a_childs_queueing_is_at_most_the_time_nothing_else_explains_and_cpu_is_a_floor():
    figures = Figures(0.5, 0.4, 0.05)
    assert children_queued(figures, 0.4, 10.0) == pytest.approx(0.05)  # 0.5 - 0.05 - 0.4
    assert Figures(0.5, 0.4, 0.05, 0.05).estimate == pytest.approx(0.4)
    # A child that needs twice the limit in CPU is over it, however loaded the machine.
    assert is_over(0.3, Figures(2.0, 0.6, 0.0, children_queued(Figures(2.0, 0.6), 0.6, 9)))


def test_no_child_cpu_or_no_contention_means_no_queueing():
    sleeping_child = Figures(1.0, 0.01, 0.0)  # a child that waited on I/O or slept
    assert children_queued(sleeping_child, 0.01, 1.5) == pytest.approx(0.03)
    assert children_queued(sleeping_child, 0.0, 1.5) == 0.0
    assert children_queued(Figures(0.77, 0.32), 0.32, 0.0) == 0.0
    assert "test_policy.queued" not in dict(Figures(0.77, 0.32).properties())


def test_the_estimate_never_exceeds_the_wall_time_nor_falls_below_the_cpu_time():
    assert idle_estimate(1.0, 2.0, 0.0) == 1.0  # a multi-threaded test: CPU > wall
    assert idle_estimate(1.0, 0.4, 0.9) == 0.4
    assert idle_estimate(1.0, 0.0, 0.0) == 1.0
    assert idle_estimate(-1.0, 0.0, 0.0) == 0.0


def test_a_test_twice_over_its_limit_on_an_idle_machine_is_over_whatever_the_load():
    for figures in (Figures(0.6), Figures(0.6, 0.6, 0.0), Figures(1.2, 0.6, 0.6)):
        assert is_over(0.3, figures)


def test_a_limit_of_zero_is_no_limit():
    assert not is_over(0, Figures(100.0))


def test_the_kill_point_is_the_limit_times_kill_after_and_zero_stays_off():
    assert kill_point(1, 10) == 10
    assert kill_point(0.3, 1) == 0.3
    assert kill_point(0, 10) == 0


def test_the_verdict_line_names_the_category_the_glob_and_the_fix():
    assert message("unit", 1, "tests/unit/**", Figures(2.41)) == (
        "over its unit limit: took 2.41 s, limit 1 s (tests/unit/** -> unit); "
        "mark it @pytest.mark.slow or make it faster")


def test_the_verdict_line_says_when_the_time_was_corrected_for_load():
    assert message("unit", 0.2, "tests/unit/**", CPU_LOADED) == (
        "over its unit limit: took 3.00 s (0.31 s on an idle machine: 2.81 s waiting for a "
        "CPU), limit 0.2 s (tests/unit/** -> unit); mark it @pytest.mark.slow or make it "
        "faster")


def test_a_time_just_over_the_limit_never_reads_as_the_limit_itself():
    assert "took 0.051 s, limit 0.05 s" in message("unit", 0.05, "tests/**", Figures(0.0512))
    assert "took 1.004 s, limit 1 s" in message("unit", 1, "tests/**", Figures(1.0041))
    assert "took 1.20 s, limit 1 s" in message("unit", 1, "tests/**", Figures(1.2))


def test_an_explicit_limit_is_named_as_such():
    assert message("unit", 0.2, "explicit timeout", Figures(0.3)) == (
        "over its limit: took 0.30 s, limit 0.2 s (explicit timeout 0.2); "
        "mark it @pytest.mark.slow or make it faster")


def test_the_figures_are_written_as_junit_properties_with_three_decimals():
    assert CPU_LOADED.properties() == [
        ("test_policy.wall", "3.003"), ("test_policy.cpu", "0.311"),
        ("test_policy.wait", "2.810"), ("test_policy.estimate", "0.311")]


def test_the_verdict_line_names_the_childrens_queueing_where_it_was_measured():
    line = message("unit", 0.5, "tests/unit/**", Figures(1.29, 0.35, 0.01, 0.5))
    assert line.startswith("over its unit limit: took 1.29 s (0.78 s on an idle machine: "
                           "0.01 s waiting for a CPU, its child processes about 0.50 s "
                           "more), limit 0.5 s")
