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
its estimate is its CPU time.

A test whose work runs in a child process waits in `waitpid`, not for a CPU, so the
child's own queueing is not in `wait`. Where the estimate is otherwise over the limit and
the test's waited-for children used CPU time, the plugin measures the machine's
contention (`plugin.timing.contention`: how long a CPU-bound thread waits for a CPU per
second it runs, spinning 0.2 s) and adds the children's estimated queueing (`queued`,
`children_queued`) to `wait`:

queued = min(children's CPU x contention x CONTENTION_MARGIN, wall - wait - cpu).

The contention is measured after the children ran, not while they did, and a shared
machine's load moves within seconds: beside four CPU-bound processes on two CPUs (and a
Semgrep job coming and going), a 0.3 s child's own queueing per CPU second was 0.6x to
2.1x what the probe measured just after it. Hence the margin of 2, erring towards the
children's CPU time; the children cannot have queued longer than the time the test
neither ran, waited, nor spent in their CPU time, and their CPU time stays a floor: a
child that needs more CPU than the limit fails on any machine, and a child that slept or
waited on I/O has little CPU time to scale.

The thread's own `wait` is checked too where it decides the verdict (the wall time is
over the limit, the estimate is not): a thread waits for a CPU only while it is runnable,
that is while it has CPU work to do, so its wait is counted up to its own CPU time x
WAIT_PER_CPU (10: eleven runnable threads per CPU) and, where the wait is larger, up to
its CPU time x contention x CONTENTION_MARGIN (`counted_wait`; the probe runs only then).
On Linux 6.18 (EEVDF's delayed dequeue) the schedstat counter sometimes also holds time
the thread slept: beside four CPU-bound processes on two CPUs, 1 in 40 sleeps of 0.15 s
read as 0.144 s of waiting for a CPU with 0.003 s of CPU, which made a test that sleeps
past its limit pass. A CPU-bound test's real wait is its CPU time times the contention:
0.311 s of CPU and 2.810 s of waiting (9x) in the heaviest load recorded.
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
#: Only where it was measured: the children's estimated queueing (`children_queued`).
QUEUED_PROPERTY = "test_policy.queued"
FIGURE_NAMES = (WALL_PROPERTY, CPU_PROPERTY, WAIT_PROPERTY, ESTIMATE_PROPERTY, QUEUED_PROPERTY)

#: The estimate is said to be "corrected for load" when it is this much below the wall.
CORRECTED = 0.05


@dataclass(frozen=True)
class Figures:
    """What one test took, in seconds."""

    wall: float
    cpu: float = 0.0
    wait: float = 0.0
    #: The estimated time the test's child processes waited for a CPU (`children_queued`);
    #: 0 unless it was measured (an estimate otherwise over the limit).
    queued: float = 0.0

    @property
    def estimate(self) -> float:
        return idle_estimate(self.wall, self.cpu, self.wait + self.queued)

    def properties(self) -> list[tuple[str, str]]:
        return figure_properties(self.wall, self.cpu, self.wait, self.estimate, self.queued)


#: Where `figure_properties` puts the estimate.
ESTIMATE_AT = 3


def figure_properties(wall: float, cpu: float, wait: float, estimate: float,
                      queued: float = 0.0) -> list[tuple[str, str]]:
    """The JUnit properties of a test's figures (`Figures`; the plugin writes them for
    every test, from the numbers, without a `Figures`): wall, CPU, wait, the estimate
    (at `ESTIMATE_AT`) and, where measured, the children's queueing."""
    found = [
        _pair(WALL_PROPERTY, f"{wall:.3f}"),
        _pair(CPU_PROPERTY, f"{cpu:.3f}"),
        _pair(WAIT_PROPERTY, f"{wait:.3f}"),
        _pair(ESTIMATE_PROPERTY, f"{estimate:.3f}"),
    ]
    if queued > 0:
        found.append(_pair(QUEUED_PROPERTY, f"{queued:.3f}"))
    return found


#: The (name, value) pairs made so far, by name and value, shared by the tests whose
#: figures read alike (most, to the millisecond): reports live until the run ends, and
#: four new tuples on each made the garbage collector run a tenth more often in a run
#: of 5,000 trivial tests. At most `_PAIRS_KEPT` values a name.
_PAIRS: dict[str, dict[str, tuple[str, str]]] = {name: {} for name in FIGURE_NAMES}
_PAIRS_KEPT = 4096


def _pair(name: str, value: str) -> tuple[str, str]:
    known = _PAIRS[name]
    pair = known.get(value)
    if pair is None:
        pair = (name, value)
        if len(known) < _PAIRS_KEPT:
            known[value] = pair
    return pair


#: How much more the children may have waited than the contention measured after them.
CONTENTION_MARGIN = 2.0
#: How long the test's thread may wait for a CPU per second of its own CPU time without
#: the contention being measured (`counted_wait`).
WAIT_PER_CPU = 10.0


def children_queued(figures: Figures, children: float, contention: float) -> float:
    """How long the test's child processes waited for a CPU, estimated: their CPU time
    (`children`, part of `figures.cpu`) times the machine's `contention` (seconds a
    CPU-bound thread waits per second it runs) and `CONTENTION_MARGIN`, at most the time
    the test neither ran, waited for a CPU nor spent in its children's CPU time."""
    if children <= 0 or contention <= 0:
        return 0.0
    return min(children * contention * CONTENTION_MARGIN,
               max(figures.wall - figures.wait - figures.cpu, 0.0))


def counted_wait(figures: Figures, children: float, contention: float = 0.0) -> float:
    """How much of the test thread's measured `wait` the estimate takes off: at most its
    own CPU time (`figures.cpu` less its children's, `children`) times WAIT_PER_CPU or,
    where larger, the machine's `contention` x CONTENTION_MARGIN (the rest was sleep the
    kernel counted as waiting, or load the probe no longer sees)."""
    own = max(figures.cpu - children, 0.0)
    ratio = max(WAIT_PER_CPU, contention * CONTENTION_MARGIN)
    return min(figures.wait, own * ratio)


def idle_estimate(wall: float, cpu: float, wait: float) -> float:
    """The test's time on an idle machine: min(wall, max(cpu, wall - wait)), wall and
    wait taken as 0 where negative (comparisons, not `min`/`max` calls: this runs for
    every test)."""
    if wall < 0:
        wall = 0.0
    estimate = wall - wait if wait > 0 else wall
    if cpu > estimate:
        estimate = cpu
    return estimate if estimate < wall else wall


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
        waited = f"{figures.wait:.2f} s waiting for a CPU"
        if figures.queued > 0:
            waited += f", its child processes about {figures.queued:.2f} s more"
        took += f" ({_over(figures.estimate, limit)} s on an idle machine: {waited})"
    if reason in (EXPLICIT_REASON, CLI_REASON):
        whose, where = "", f"{reason} {format_limit(limit)}"
    else:
        whose, where = f" {category}", f"{reason} -> {category}"
    return (f"over its{whose} limit: {took}, limit {format_limit(limit)} s ({where}); "
            "mark it @pytest.mark.slow or make it faster")
