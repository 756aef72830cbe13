"""The timing verdict on one test, after it ran: pure functions (nothing here reads a
clock or imports pytest; the plugin hands in the figures it measured).

The category limit is judged, not used to interrupt: a test whose estimated time is
over its limit fails with one line (`message`). pytest-timeout only stops hung tests,
at `kill_point` (the limit times the policy's `kill_after`).

The estimator (`idle_estimate`) answers "how long would this test have taken on an
idle machine?" from three figures over the test's setup + call + teardown:

- `wall`: the phases' durations, as JUnit's `time`;
- `cpu`: CPU time of the test's thread plus the children it waited for
  (`time.thread_time()` and `resource.getrusage(RUSAGE_CHILDREN)`);
- `wait`: time the test's thread was runnable but waiting for a CPU (Linux:
  `/proc/thread-self/schedstat`, 2nd field; 0 where it does not exist).

estimate = min(wall, max(cpu, wall - wait)).

Waiting for a CPU is load, not the test's work, so it is taken off the wall time; the
test's own CPU time is a floor (it needs that much on any machine of this speed); the
estimate never exceeds the wall time. A sleeping test has cpu ~ 0 and wait ~ 0: its
estimate is its wall time. A CPU-bound test on a loaded machine has wall ~ cpu + wait:
its estimate is its CPU time. Limitation: a test whose work runs in a child process
is waiting in `waitpid`, not for a CPU, so the child's own queueing is not seen and
its estimate stays the wall time (the child's CPU time is only a floor).
"""

from __future__ import annotations

from dataclasses import dataclass

from test_policy_engine.policy.categories import CLI_REASON, EXPLICIT_REASON
from test_policy_engine.policy.timeouts import format_limit

#: JUnit `<property>` names of the figures (seconds, `%.3f`).
WALL_PROPERTY = "test_policy.wall"
CPU_PROPERTY = "test_policy.cpu"
WAIT_PROPERTY = "test_policy.wait"
ESTIMATE_PROPERTY = "test_policy.estimate"
FIGURE_NAMES = (WALL_PROPERTY, CPU_PROPERTY, WAIT_PROPERTY, ESTIMATE_PROPERTY)

#: The estimate is said to be "corrected for load" when it is this much below the wall.
CORRECTED = 0.05


@dataclass(frozen=True)
class Figures:
    """What one test took, in seconds."""

    wall: float
    cpu: float = 0.0
    wait: float = 0.0

    @property
    def estimate(self) -> float:
        return idle_estimate(self.wall, self.cpu, self.wait)

    def properties(self) -> list[tuple[str, str]]:
        return [
            (WALL_PROPERTY, f"{self.wall:.3f}"),
            (CPU_PROPERTY, f"{self.cpu:.3f}"),
            (WAIT_PROPERTY, f"{self.wait:.3f}"),
            (ESTIMATE_PROPERTY, f"{self.estimate:.3f}"),
        ]


def idle_estimate(wall: float, cpu: float, wait: float) -> float:
    """The test's time on an idle machine: min(wall, max(cpu, wall - wait))."""
    wall = max(wall, 0.0)
    return min(wall, max(cpu, wall - max(wait, 0.0)))


def kill_point(limit: float, kill_after: float) -> float:
    """Where pytest-timeout stops the test (0: never)."""
    return 0.0 if limit <= 0 else limit * kill_after


def is_over(limit: float, figures: Figures) -> bool:
    """Whether the test fails its limit (a limit of 0 is no limit)."""
    return limit > 0 and figures.estimate > limit


def _over(seconds: float, limit: float) -> str:
    """`seconds` with two decimals, or as many more (up to 6) as it takes not to read as
    the limit itself when it is over it (`took 0.051 s, limit 0.05 s`, not `0.05 s`)."""
    for digits in range(2, 7):
        shown = f"{seconds:.{digits}f}"
        if seconds <= limit or float(shown) > limit:
            return shown
    return shown


def message(category: str, limit: float, reason: str, figures: Figures) -> str:
    """The one line a test over its limit fails with."""
    took = f"took {_over(figures.wall, limit)} s"
    if figures.wall - figures.estimate > CORRECTED * max(figures.wall, 1e-9):
        took += (f" ({_over(figures.estimate, limit)} s on an idle machine: "
                 f"{figures.wait:.2f} s waiting for a CPU)")
    if reason in (EXPLICIT_REASON, CLI_REASON):
        whose, where = "", f"{reason} {format_limit(limit)}"
    else:
        whose, where = f" {category}", f"{reason} -> {category}"
    return (f"over its{whose} limit: {took}, limit {format_limit(limit)} s ({where}); "
            "mark it @pytest.mark.slow or make it faster")
