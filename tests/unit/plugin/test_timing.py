"""The plugin's own measurements of one test (`plugin.timing`), on this machine's clocks."""

from __future__ import annotations

import pytest
from test_policy_engine.plugin.timing import Run, Verdict, snapshot
from test_policy_engine.policy.verdict import Figures


def _run() -> Run:
    """A test's run started now, judged by a 0.1 s limit."""
    item: pytest.Item = object()  # type: ignore[assignment]  # the figures never read it
    return Run(item, "t.py::test", Verdict("unit", 0.1, "tests/**"), snapshot(), [0.0, 0.0, 0.0])


def test_the_contention_probe_is_left_out_of_the_tests_own_figures():
    run = _run()
    run.children = 0.3  # as if the test had waited for children that used 0.3 s of CPU
    run.corrected(Figures(1.0, 0.3, 0.0), 0.1)  # spins for the probe (0.2 s)
    assert run.contention is not None
    after = run.figures()
    assert run.broad[0] >= 0.15  # the probe's wall time, set aside
    assert after.wall < 0.1
    assert after.cpu < 0.1


def test_a_test_whose_children_used_no_cpu_is_not_probed():
    run = _run()
    figures = Figures(1.0, 0.0, 0.0)
    assert run.corrected(figures, 0.1) is figures
    assert run.contention is None
    assert run.figures().wall == pytest.approx(0.0, abs=0.05)


def test_the_probe_runs_only_where_the_threads_wait_is_more_than_its_cpu_time_explains():
    run = _run()
    loaded = Figures(3.003, 0.311, 2.810)  # a CPU-bound test beside CPU hogs
    assert run.corrected(loaded, 0.5) == loaded
    assert run.contention is None
    slept = Figures(0.156, 0.003, 0.144)  # a sleep the kernel counted as waiting
    corrected = run.corrected(slept, 0.1)
    assert run.contention is not None
    assert corrected.wait < 0.144
    assert corrected.estimate > 0.1


def test_a_kernel_that_keeps_no_schedstat_gives_the_threads_cpu_clock_and_no_wait(
        tmp_path, monkeypatch):
    import os
    import threading
    import time

    from test_policy_engine.plugin import timing

    empty = tmp_path / "schedstat"
    empty.write_text("0 0 0\n")  # what /proc/<pid>/schedstat says without sched_info
    fd = os.open(empty, os.O_RDONLY)
    try:
        monkeypatch.setitem(timing._fds, threading.get_ident(), fd)
        cpu, wait, _, children = snapshot()
        assert wait == 0.0
        assert cpu - children == pytest.approx(time.thread_time(), abs=0.05)
        assert cpu > 0
    finally:
        os.close(fd)
