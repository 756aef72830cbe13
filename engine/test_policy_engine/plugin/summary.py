"""The end-of-run summary per category: the local twin of the CI audit. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from test_policy_engine.policy.enforcement import BASELINE_PROPERTY
from test_policy_engine.policy.errors import printable
from test_policy_engine.policy.timeouts import CATEGORY_PROPERTY, LIMIT_PROPERTY
from test_policy_engine.policy.verdict import ESTIMATE_PROPERTY

#: The plugin's property naming a slow broad fixture (`plugin.fixtures`).
FIXTURE_PROPERTY = "test_policy.fixture"
#: The processes a test stopped at its kill point left running, terminated
#: (`plugin.leftovers`): `pid 123 (python -m http.server); pid 124 (...)`.
LEFTOVERS_PROPERTY = "test_policy.leftovers"


def strip_group_suffix(nodeid: str) -> str:
    """`path::test[p]@group` -> `path::test[p]`; pytest-xdist's loadgroup adds the suffix.

    A test name cannot contain '@', so an '@' after the last '::' and outside the
    parameter brackets can only be the group suffix.
    """
    head, sep, last = nodeid.rpartition("::")
    if not sep:
        return nodeid
    at = last.find("@", last.rfind("]") + 1)
    return nodeid if at < 0 else head + sep + last[:at]


def n_tests(count: int) -> str:
    """`1 test`, `2 tests`."""
    return f"{count} test{'s' if count != 1 else ''}"


_RARE = frozenset({FIXTURE_PROPERTY, LEFTOVERS_PROPERTY, BASELINE_PROPERTY})


def has_rare(user_properties: Sequence[tuple[str, object]]) -> bool:
    """Whether a report holds one of the properties only `RunSummary.add` reads (a slow
    broad fixture, processes left running, the baseline's word), or an entry that is not
    a (name, value) pair (which `add` skips)."""
    try:
        for name, _ in user_properties:
            if name in _RARE:
                return True
    except (TypeError, ValueError):
        return True
    return False


def _by_name(user_properties: Sequence[tuple[str, object]]) -> dict[object, object]:
    """A report's properties by name, the last value of one counting: in one pass in C
    (this runs for every test), or, where some entry is not a (hashable name, value)
    pair, skipping those."""
    try:
        return dict(user_properties)
    except (TypeError, ValueError):
        found: dict[object, object] = {}
        for entry in user_properties:
            try:
                name, value = entry
                found[name] = value
            except (TypeError, ValueError):
                continue
        return found


class _Test(NamedTuple):
    """One test in the summary, as read at the end of the run."""

    category: str
    limit: float
    wall: float = 0.0
    estimate: float | None = None  # the verdict's idle-machine estimate, once recorded

    @property
    def duration(self) -> float:
        """What the test is judged by: the same figure as the plugin's verdict and the
        audit (the estimate when it was recorded and is not above the wall time)."""
        estimate = self.estimate
        return estimate if estimate is not None and 0 <= estimate <= self.wall else self.wall


@dataclass
class RunSummary:
    """Durations per test (setup + call + teardown, as JUnit's `time`; where the plugin
    recorded its idle-machine estimate, that, as the verdict and the audit use) by
    category."""

    warn_ratio: float
    baseline: str = ""  # the baseline file, as shown; "" without one
    #: Per test (node id without an `@group` suffix): its (category, limit), one shared
    #: tuple per pair; the sum of its reports' durations; its estimate, where recorded.
    #: Plain values in dicts, no object per test: every object the garbage collector
    #: tracks and that lives on brings its next collection nearer, and what a run keeps
    #: per test made one more full collection in a run of 5,000 trivial tests (about a
    #: tenth of the plugin's cost there).
    kinds: dict[str, tuple[str, float]] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    estimates: dict[str, float | None] = field(default_factory=dict)
    shared: dict[tuple[str, float], tuple[str, float]] = field(default_factory=dict)
    fixtures: dict[str, None] = field(default_factory=dict)  # slow broad fixtures, in order
    leftovers: dict[str, str] = field(default_factory=dict)  # stopped test -> its processes
    debt: dict[str, str] = field(default_factory=dict)  # listed test -> "known" | "fixed"
    earlier: dict[str, float] = field(default_factory=dict)  # setup + call, until teardown
    limits: dict[str, float] = field(default_factory=dict)  # a limit property, read

    def add(self, nodeid: str, user_properties: Sequence[tuple[str, object]],
            duration: float, when: str = "teardown") -> None:
        """Add one phase report; reports without our properties are ignored. Only the
        teardown report, the last of a test, is read: the setup's and the call's durations
        wait for it in `earlier` (the figures are written on the teardown report)."""
        earlier = self.earlier
        if when != "teardown":
            earlier[nodeid] = earlier.get(nodeid, 0.0) + duration
            return
        if earlier:
            duration += earlier.pop(nodeid, 0.0)
        found = _by_name(user_properties)
        category = found.get(CATEGORY_PROPERTY)
        if category is None:
            return
        key = strip_group_suffix(nodeid) if "@" in nodeid else nodeid
        limit = str(found.get(LIMIT_PROPERTY, "0"))
        seconds = self.limits.get(limit)
        if seconds is None:
            try:
                seconds = float(limit)
            except ValueError:
                seconds = 0.0
            self.limits[limit] = seconds
        estimate = found.get(ESTIMATE_PROPERTY)  # on the teardown report, with the figures
        self._put(key, str(category), seconds, duration,
                  None if estimate is None else str(estimate))
        if _RARE.isdisjoint(found):
            return
        for entry in user_properties:
            if not isinstance(entry, tuple) or len(entry) != 2:
                continue
            name, value = entry
            if name == FIXTURE_PROPERTY:
                self.fixtures[str(value)] = None
            elif name == LEFTOVERS_PROPERTY:
                self.leftovers[key] = str(value)
            elif name == BASELINE_PROPERTY:
                self.debt[key] = str(value)

    def judged(self, nodeid: str, category: str, limit: float, duration: float,
               estimate: str) -> None:
        """A test the plugin judged in this process, whose teardown report has none of the
        rarer properties (a slow broad fixture, processes left, the baseline's word): what
        `add` makes of its reports, from the figures at hand instead of its properties
        (`duration`: its phases' reports; `estimate`: as its property was written)."""
        if self.earlier:  # a subtest's reports
            duration += self.earlier.pop(nodeid, 0.0)
        key = strip_group_suffix(nodeid) if "@" in nodeid else nodeid
        self._put(key, category, limit, duration, estimate)

    def _put(self, key: str, category: str, limit: float, duration: float,
             estimate: str | None) -> None:
        durations = self.durations
        known = durations.get(key)
        if known is None:
            pair = (category, limit)
            self.kinds[key] = self.shared.setdefault(pair, pair)
        else:  # a test run again (or its `@group` twin): the first's limit
            duration += known
        durations[key] = duration
        if estimate is not None:
            try:
                self.estimates[key] = float(estimate)
            except ValueError:
                self.estimates[key] = None

    def walls(self) -> dict[str, float]:
        """Each test's summed report durations."""
        return dict(self.durations)

    def tests(self) -> dict[str, _Test]:
        """Each test, in the order first reported."""
        estimates = self.estimates
        return {key: _Test(*kind, self.durations[key], estimates.get(key))
                for key, kind in self.kinds.items()}

    def lines(self, verbosity: int, order: Sequence[str] = ()) -> list[str]:
        """One line per category; then the tests over the warning ratio (all with -v,
        the first five otherwise). Nothing with -q (verbosity < 0)."""
        if verbosity < 0 or not self.kinds:
            return []
        by_category: dict[str, list[tuple[str, _Test]]] = {}
        for nodeid, test in self.tests().items():
            by_category.setdefault(test.category, []).append((nodeid, test))
        names = [n for n in order if n in by_category]
        names += sorted(n for n in by_category if n not in names)
        width = max(len(n) for n in names)
        out: list[str] = []
        over: list[tuple[str, _Test]] = []
        for name in names:
            tests = by_category[name]
            total = sum(t.duration for _, t in tests)
            slow_id, slowest = max(tests, key=lambda pair: pair[1].duration)
            late = [(i, t) for i, t in tests
                    if t.limit > 0 and t.duration > self.warn_ratio * t.limit]
            over.extend(late)
            count = n_tests(len(tests))
            out.append(
                f"{name:<{width}}  {count:>11}  {total:8.2f} s total  "
                f"slowest {slowest.duration:.2f} s {slow_id}  "
                f"{len(late)} over {self.warn_ratio * 100:g} % of the limit"
            )
        over.sort(key=lambda pair: pair[1].duration / pair[1].limit, reverse=True)
        shown = over if verbosity > 0 else over[:5]
        if shown:
            out.append(f"tests over {self.warn_ratio * 100:g} % of their limit:")
            for nodeid, test in shown:
                out.append(f"  {test.duration:.2f} s of {test.limit:g} s "
                           f"({test.duration / test.limit * 100:.0f} %) "
                           f"[{test.category}] {nodeid}")
            if len(over) > len(shown):
                out.append(f"  ... and {len(over) - len(shown)} more (-v shows all)")
        if self.fixtures:
            out.append("slow broad fixtures (their setup is left out of the tests' verdicts):")
            out += [f"  {printable(line)}" for line in self.fixtures]
        if self.leftovers:
            out.append("processes left running by tests stopped at their kill point "
                       "(terminated):")
            out += [f"  {printable(nodeid)}: {printable(what)}"
                    for nodeid, what in self.leftovers.items()]
        out += self._debt_lines(verbosity)
        return out

    def _debt_lines(self, verbosity: int) -> list[str]:
        """The baseline's known slow tests (listed with -v) and its fixed ones (always)."""
        known = [n for n, what in self.debt.items() if what == "known"]
        fixed = [n for n, what in self.debt.items() if what == "fixed"]
        out = []
        if known:
            out.append(f"known slow tests ({printable(self.baseline)}): {n_tests(len(known))} "
                       "over the limit, passed as recorded debt"
                       + (":" if verbosity > 0 else " (-v lists them)"))
            if verbosity > 0:
                out += [f"  {printable(n)}" for n in known]
        if fixed:
            out.append(f"fixed: {n_tests(len(fixed))} listed in {printable(self.baseline)} "
                       "within the limit now; prune: test-policy baseline --prune "
                       "RESULTS... (the audit fails until then)")
            out += [f"  {printable(n)}" for n in fixed]
        return out
