"""The timing audit as a pure function: test records + policy + overrides -> verdicts.

Where each test's limit comes from (docs/audit.md, "Each test's limit"):
1. a test with its own `@pytest.mark.timeout(N)` (recorded by the plugin as
   `test_policy.reason = "explicit timeout"`) is judged by that recorded limit;
   0 means no limit;
2. `<CATEGORY>_TEST_THRESHOLD` from the environment, for the test's category;
3. the category's `audit_limit`, else its `limit`, in the policy;
4. a recorded category the policy does not know keeps its recorded limit.

The test's category: the plugin's `test_policy.category` property; else the
policy's path globs on the test's file (the `file` attribute, a path-like
classname, or a dotted classname turned into candidate paths,
`tests.unit.test_batch` -> `tests/unit/test_batch.py`); else the policy's
`audit.junit_files` globs on the result file's name; else the default category.

A test recorded more than once is judged once: within one result file a
teardown error (pytest writes it as a second `<testcase>` with the teardown's
time) adds its time to the test's; any other repeat (reruns, shards, the same
file twice) counts once with its longest time; outcomes, timeouts and crashes
accumulate, and the larger limit applies.

Memory: one compact row per distinct test (a hash of its id, its time, its
category and its verdict), plus the records of the tests that get listed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import math
import os
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from typing import Literal

from test_policy_engine.audit.guard import PLAIN_PROPERTIES, GuardCollector, GuardSection
from test_policy_engine.audit.junit import (
    PASSED,
    CaseRecord,
    JUnitReader,
    Properties,
    Sink,
    State,
    parse_time,
)
from test_policy_engine.policy.categories import EXPLICIT_REASON, Classifier
from test_policy_engine.policy.errors import Problem, UserError, show
from test_policy_engine.policy.globs import first_match
from test_policy_engine.policy.model import Policy
from test_policy_engine.policy.timeouts import CATEGORY_PROPERTY, LIMIT_PROPERTY, REASON_PROPERTY

Kind = Literal["ok", "warning", "unreadable", "over", "timed out", "crashed"]

# Verdict codes, in order of severity (a repeated test keeps the worst).
OK, WARNING, UNREADABLE, OVER, TIMED_OUT, CRASHED = range(6)
KINDS: tuple[Kind, ...] = ("ok", "warning", "unreadable", "over", "timed out", "crashed")
# Flags a test accumulates over its records.
F_UNREADABLE, F_TIMED_OUT, F_CRASHED = 1, 2, 4

WARN_VARIABLE = "WARN_THRESHOLD_PERCENT"
THRESHOLD_SUFFIX = "_TEST_THRESHOLD"


@dataclass(frozen=True)
class Overrides:
    """CI overrides of the policy, from the environment."""

    thresholds: Mapping[str, float] = field(default_factory=dict)  # category -> seconds
    warn_ratio: float | None = None


#: The smallest duration written by --durations-out (see there).
MIN_DURATION = 0.001


def overrides_from_env(env: Mapping[str, str], policy: Policy) -> Overrides:
    """`<CATEGORY>_TEST_THRESHOLD` (seconds) and `WARN_THRESHOLD_PERCENT`.

    A malformed value is a UserError naming the variable.
    """
    problems: list[Problem] = []
    thresholds: dict[str, float] = {}
    for category in policy.categories:
        variable = category.upper() + THRESHOLD_SUFFIX
        text = env.get(variable)
        if text is None:
            continue
        value = parse_time(text.strip())
        if value is None or value <= 0:
            problems.append(Problem(f"${variable}", None, None, "",
                                    f"must be a number of seconds > 0 (got {show(text)})",
                                    "write it like '1.0'"))
        else:
            thresholds[category] = value
    known = {category.upper() + THRESHOLD_SUFFIX for category in policy.categories}
    for variable in sorted(env):
        if variable.endswith(THRESHOLD_SUFFIX) and variable not in known:
            problems.append(Problem(f"${variable}", None, None, "",
                                    "names no category of the policy "
                                    f"(got {show(variable.removesuffix(THRESHOLD_SUFFIX))})",
                                    "use one of: " + ", ".join(sorted(known))))
    ratio: float | None = None
    text = env.get(WARN_VARIABLE)
    if text is not None:
        percent = parse_time(text.strip())
        if percent is None or not 0 < percent <= 100:
            problems.append(Problem(f"${WARN_VARIABLE}", None, None, "",
                                    f"must be a percentage above 0 and at most 100 "
                                    f"(got {show(text)})", "write it like '80'"))
        else:
            ratio = percent / 100
    if problems:
        raise UserError(problems)
    return Overrides(thresholds, ratio)


@dataclass(frozen=True)
class Verdict:
    """One test the report lists."""

    record: CaseRecord  # a record of the test (for its name, file and line)
    category: str
    limit: float  # seconds; 0 = no limit
    time: float | None  # merged duration; None when no record had a readable time
    kind: Kind
    raw_time: str | None = None  # the unreadable text (None: missing attribute)
    raw_source: str = ""  # the result file holding the unreadable time

    @property
    def ratio(self) -> float:
        """Time over limit; killed tests rank first."""
        if self.kind in ("timed out", "crashed"):
            return math.inf
        if self.time is None or self.limit <= 0:
            return 0.0
        return self.time / self.limit


@dataclass
class CategoryStats:
    tests: int = 0
    total: float = 0.0
    slowest: Verdict | None = None
    over: int = 0  # failures: over the limit, timed out or crashed
    near: int = 0  # warnings
    unreadable: int = 0


@dataclass(frozen=True)
class AuditResult:
    warn_ratio: float
    failures: list[Verdict]  # worst first
    warnings: list[Verdict]  # worst first
    unreadable: list[Verdict]  # tests with an unreadable time, in reading order
    slowest: list[Verdict]  # longest first
    categories: dict[str, CategoryStats]
    tests: int  # distinct tests
    records: int  # <testcase> elements read
    durations: dict[str, float] | None = None  # node id -> seconds, when asked for
    incomplete: list[Incomplete] = field(default_factory=list)  # runs cut short
    guard: GuardSection | None = None  # the runtime guard's violations (audit/guard.py)


@dataclass(frozen=True)
class Incomplete:
    """A result file whose run did not record every test it collected."""

    source: str
    collected: int | None  # None: unknown (pytest stopped with an INTERNALERROR)
    recorded: int
    internal_error: bool

    def describe(self) -> str:
        if self.internal_error and (self.collected is None or self.recorded >= self.collected):
            return "pytest stopped with an INTERNALERROR: the run was cut short"
        text = (f"{self.collected:,} tests collected, {self.recorded:,} recorded: "
                "the run was cut short")
        return text + (" (pytest stopped with an INTERNALERROR)" if self.internal_error else "")


#: Bounds on the files guessed from a classname: a module is a few packages deep, and no
#: file system takes a longer path; a hostile 800 KB classname costs 32 short strings.
MAX_MODULE_PARTS = 32
MAX_PATH_CHARS = 4096
#: Category indexes are stored as unsigned 16-bit numbers; a real project has a handful.
MAX_CATEGORIES = 1_000


def candidate_paths(classname: str) -> list[str]:
    """Files a pytest dotted classname may come from, longest first."""
    if "/" in classname or "\\" in classname:
        return [classname.replace("\\", "/")]
    parts = classname.split(".", MAX_MODULE_PARTS)[:MAX_MODULE_PARTS]
    out = ["/".join(parts[:i]) + ".py" for i in range(len(parts), 0, -1) if parts[i - 1]]
    return [path for path in out if len(path) <= MAX_PATH_CHARS]


def node_id(record: CaseRecord, is_file: Callable[[str], bool] | None = None) -> str:
    """The pytest node id of a record (`tests/unit/test_x.py::TestC::test_y[p]`).

    The plugin's `test_policy.nodeid` when recorded; else from xunit1's `file`
    attribute when present; else the longest dotted prefix
    of the classname that `is_file` accepts as a module; else the classname's
    trailing parts that start with an upper-case letter are taken as classes.
    """
    if record.nodeid:
        return record.nodeid
    parts = record.classname.split(".")
    module_parts: int | None = None
    if record.file and record.file.endswith(".py"):
        module = record.file[:-3].replace("/", ".")
        if record.classname == module or record.classname.startswith(module + "."):
            module_parts = module.count(".") + 1
        path = record.file
    if module_parts is None:
        if is_file is not None:
            for i in range(min(len(parts), MAX_MODULE_PARTS), 0, -1):
                if is_file("/".join(parts[:i]) + ".py"):
                    module_parts = i
                    break
        if module_parts is None:
            module_parts = len(parts)
            while module_parts > 1 and parts[module_parts - 1][:1].isupper():
                module_parts -= 1
        path = "/".join(parts[:module_parts]) + ".py"
    return "::".join([path, *parts[module_parts:], record.name])


def qualified_name(record: CaseRecord) -> str:
    """A name that tells apart two tests of the same name in different files.

    pytest tests get their node id (`tests/unit/test_a.py::TestC::test_x`),
    other runners' tests their file or classname.
    """
    if record.nodeid:
        return record.nodeid
    if record.from_pytest and record.classname:
        return node_id(record)
    if record.file:
        return f"{record.file}::{record.name}"
    if record.classname and record.classname != record.name:
        return f"{record.classname}::{record.name}"
    if record.suite and record.suite[-1]:
        return f"{record.suite[-1]}::{record.name}"
    return record.name


class _Limits:
    """Category and limit of a record, cached on what decides them."""

    def __init__(self, policy: Policy, overrides: Overrides, categories: list[str],
                 warn_ratio: float) -> None:
        self.warn_ratio = warn_ratio
        self.policy = policy
        self.overrides = overrides
        self.classifier = Classifier(policy)
        self.index = {name: i for i, name in enumerate(categories)}
        self.categories = categories
        self.cache: dict[object, tuple[int, float, float]] = {}

    def threshold(self, category: str) -> float:
        found = self.overrides.thresholds.get(category)
        return found if found is not None else self.policy.categories[category].threshold

    def of(self, record: CaseRecord) -> tuple[int, float, float]:
        """(category index, limit, warning level) of a record, cached.

        Records with complete plugin properties are cached on those alone (few
        distinct keys); the others on what classifies them.
        """
        props = record.properties
        if props:
            found = self.cache.get(props)
            if found is None:
                decided = self._from_properties(record)
                if decided is not None:
                    found = self.cache[props] = self._entry(*decided)
            if found is not None:
                return found
        key = (record.source, record.classname, record.file)
        found = self.cache.get(key)
        if found is None:
            category = self._classify(record)
            found = self._entry(self._category_index(category), self.threshold(category))
            self.cache[key] = found
        return found

    def _entry(self, category: int, limit: float) -> tuple[int, float, float]:
        return category, limit, limit * self.warn_ratio if limit > 0 else math.inf

    def _category_index(self, name: str, source: str = "") -> int:
        index = self.index.get(name)
        if index is None:
            if len(self.categories) >= MAX_CATEGORIES:
                raise UserError([Problem(
                    source, None, None, "",
                    f"more than {MAX_CATEGORIES:,} distinct {CATEGORY_PROPERTY} values",
                    "these results were not written by the test-policy plugin")])
            index = self.index[name] = len(self.categories)
            self.categories.append(name)
        return index

    def _from_properties(self, record: CaseRecord) -> tuple[int, float] | None:
        recorded = record.prop(CATEGORY_PROPERTY)
        text = record.prop(LIMIT_PROPERTY)
        recorded_limit = parse_time(text) if text is not None else None
        if not recorded or recorded_limit is None:
            return None
        if record.prop(REASON_PROPERTY) == EXPLICIT_REASON:
            return self._category_index(recorded, record.source), recorded_limit
        if recorded in self.policy.categories:
            return self._category_index(recorded), self.threshold(recorded)
        return self._category_index(recorded, record.source), recorded_limit

    def _classify(self, record: CaseRecord) -> str:
        candidates = [record.file] if record.file else []
        if record.classname:
            candidates += candidate_paths(record.classname)
        for path in candidates:
            found = self.classifier.by_path(path)
            if found.reason != "default":
                return found.category
        source = record.source.replace("\\", "/").removeprefix("./")
        globs = tuple(self.policy.audit.junit_files)
        glob = first_match(globs, source) or first_match(globs, source.rsplit("/", 1)[-1])
        if glob is not None:
            return self.policy.audit.junit_files[glob]
        return self.policy.default_category


class _RowTable:
    """Test-id hash -> row, in two flat arrays (12 bytes a slot, open addressing).

    A dict or set of 200,000 int keys costs 14-22 MB; this costs 3-6 MB and
    keeps the audit of 200,000 tests under 50 MB. Keys are 64-bit hashes of
    (classname, name), 0 marking an empty slot: two different tests share one
    about once in 10^9 runs of 200,000 tests. The audit probes it inline (see
    `_Auditor`), and grows it when half full.
    """

    def __init__(self, expected: int = 0) -> None:
        capacity = 1 << 12
        while capacity < 2 * expected + 2:
            capacity <<= 1
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self.mask = capacity - 1
        self.keys = array("q", bytes(8 * capacity))
        self.rows = array("i", bytes(4 * capacity))

    def grow(self) -> None:
        old_keys, old_rows = self.keys, self.rows
        self._allocate(2 * (self.mask + 1))
        keys, rows, mask = self.keys, self.rows, self.mask
        for key, row in zip(old_keys, old_rows, strict=True):
            if key:
                slot = key & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot] = key
                rows[slot] = row


class _Auditor:
    """The audit's state, fed one test at a time by `add` (the hot path).

    Per distinct test a row in flat arrays (time, category, limit, result file);
    flags and verdicts live in dicts holding only the rare rows that have them.
    The whole record of a test (`current()`) is built only for the tests worth
    listing.
    """

    def __init__(self, policy: Policy, overrides: Overrides | None, top: int,
                 durations: bool, is_file: Callable[[str], bool] | None,
                 expected: int = 0) -> None:
        overrides = overrides or Overrides()
        self.policy = policy
        self.warn_ratio = (overrides.warn_ratio if overrides.warn_ratio is not None
                           else policy.warn_ratio)
        self.names = list(policy.categories)
        self.limits = _Limits(policy, overrides, self.names, self.warn_ratio)
        self.cache: dict[object, tuple[int, float, float]] = {}  # for the current file
        self.table = _RowTable(expected)  # sized for the tests expected, if known
        self.times = array("d")  # merged readable time, -1.0 when none was readable
        self.cats = array("H")
        self.lims = array("d")
        # The result file of a row's first record, without a column: rows are
        # numbered in reading order, so the rows from `segment_row[i]` on (up to
        # the next segment) came first from the file `segment_source[i]`.
        self.segment_row: list[int] = []
        self.segment_source: list[int] = []
        self.flags: dict[int, int] = {}  # rows with flags
        self.codes: dict[int, int] = {}  # rows whose verdict is not OK
        self.sources: dict[str, int] = {}
        self.source = ""
        self.source_index = -1
        self.shown: dict[int, CaseRecord] = {}  # rows worth listing -> a record of the test
        self.raw: dict[int, tuple[str | None, str]] = {}  # rows with an unreadable time
        self.heap: list[tuple[float, int]] = []  # the slowest rows (with stale entries)
        self.in_top: set[int] = set()
        self.keep = max(top, 1)
        self.cat_best: list[int] = []  # category -> row of its slowest test (-1: none)
        self.cat_best_time: list[float] = []  # category -> its time (-1.0: none)
        self.node_ids: dict[str, int] | None = {} if durations else None
        self.is_file = is_file
        self.current: Callable[[], CaseRecord] = _no_record
        self.guard = GuardCollector(policy)
        self.add, self.count = self._hot_path()

    def start_source(self, source: str, current: Callable[[], CaseRecord]) -> None:
        """The next tests come from `source`; `current()` builds the record being added."""
        if source != self.source or self.source_index < 0:
            self.source = source
            self.source_index = self.sources.setdefault(source, len(self.sources))
            self.cache.clear()
            self.segment_row.append(len(self.times))
            self.segment_source.append(self.source_index)
        self.current = current

    def _decide(self) -> tuple[int, float, float]:
        record = self.current()
        decided = self.limits.of(record)
        props = record.properties
        if not props:
            self.cache[record.classname, record.file] = decided
        elif props in self.limits.cache:  # decided by the plugin's properties
            self.cache[props] = decided
        missing = len(self.names) - len(self.cat_best)
        if missing > 0:
            self.cat_best += [-1] * missing
            self.cat_best_time += [-1.0] * missing
        return decided

    def _hot_path(self) -> tuple[Sink, Callable[[], int]]:
        """`add`, the hot path (one call per `<testcase>`), and the count of its calls.

        A closure: its state is in local cells, and a passing test with a new
        id and a known category costs one probe and three appends.
        """
        cache = self.cache
        table = self.table
        keys, rows, mask = table.keys, table.rows, table.mask
        times, cats, lims = self.times, self.cats, self.lims
        flags, codes, in_top = self.flags, self.codes, self.in_top
        cat_best_time, node_ids = self.cat_best_time, self.node_ids
        warn_ratio = self.warn_ratio
        listed, decide, best, release = self._listed, self._decide, self._best, self._release
        repeats = 0  # records of a test seen before
        floor = -1.0  # a time must beat this to enter the slowest (once they are full)
        guard = self.guard.see

        def add(classname: str, name: str, seconds: float | None, file: str | None,
                state: State, props: Properties) -> None:
            nonlocal repeats, floor, keys, rows, mask
            if len(props) > PLAIN_PROPERTIES:  # maybe the runtime guard's: audit/guard.py
                props = guard(classname, name, props, self.current)
            decided = cache.get(props or (classname, file))
            if decided is None:
                decided = decide()
            cat, limit, warn_at = decided
            key = hash((classname, name)) or 1
            slot = key & mask
            found = keys[slot]
            row = -1
            while found:  # linear probing (the table is at most half full)
                if found == key:
                    row = rows[slot]
                    break
                slot = (slot + 1) & mask
                found = keys[slot]
            repeat = row >= 0
            if not repeat:  # a new test
                row = len(times)
                keys[slot] = key
                rows[slot] = row
                if 2 * row + 2 > mask:
                    table.grow()
                    keys, rows, mask = table.keys, table.rows, table.mask
                cats.append(cat)
                lims.append(limit)
                if state is PASSED and seconds is not None:
                    # The fast path: a new test that passed with a readable time.
                    times.append(seconds)
                    if seconds > warn_at:
                        listed(row, _code(seconds, limit, 0, warn_ratio), file, True)
                    if seconds > cat_best_time[cat]:
                        best(cat, row, seconds)
                    if seconds > floor:
                        floor = _enter(self.heap, in_top, self.keep, times, row, seconds,
                                       release)
                        if row not in self.shown:
                            self.shown[row] = self.current()
                    if node_ids is not None:
                        self._node_id(row)
                    return
            readable = seconds is not None
            flag = 0 if readable else F_UNREADABLE
            teardown = False
            if state is not PASSED:
                if state[1]:
                    flag |= F_TIMED_OUT
                if state[2]:
                    flag |= F_CRASHED
                    seconds = None  # the controller's 0 or 0.001 s: not the test's duration
                teardown = state[3]
            if not repeat:
                time = -1.0 if seconds is None else seconds
                times.append(time)
                if flag:
                    flags[row] = flag
                if flag or time > warn_at:
                    code = _code(time, limit, flag, warn_ratio)
                    if code:
                        listed(row, code, file, readable)
            else:  # a test seen before: merge
                repeats += 1
                time = times[row]
                if seconds is not None:
                    if teardown and time >= 0 and self._first_source(row) == self.source_index:
                        time += seconds
                    elif seconds > time:
                        time = seconds
                    times[row] = time
                flag |= flags.get(row, 0)
                if flag:
                    flags[row] = flag
                old_limit = lims[row]
                if old_limit != 0.0 and (limit == 0.0 or limit > old_limit):
                    lims[row] = limit
                limit = lims[row]
                warn_at = limit * warn_ratio if limit > 0 else math.inf
                cat = cats[row]
                code = _code(time, limit, flag, warn_ratio) if flag or time > warn_at else OK
                if code:
                    listed(row, code, file, readable)
                elif row in codes:
                    del codes[row]
                    release(row)
            if time >= 0:
                if time > cat_best_time[cat]:
                    best(cat, row, time)
                if time > floor or (repeat and row in in_top):
                    floor = _enter(self.heap, in_top, self.keep, times, row, time, release)
                    if row not in self.shown:
                        self.shown[row] = self.current()
            if node_ids is not None and seconds is not None:
                self._node_id(row)

        def counted() -> int:
            return len(times) + repeats

        return add, counted

    def _first_source(self, row: int) -> int:
        """The result file of the row's first record."""
        return self.segment_source[bisect_right(self.segment_row, row) - 1]

    def _node_id(self, row: int) -> None:
        assert self.node_ids is not None
        record = self.current()
        if record.from_pytest or record.nodeid:
            self.node_ids.setdefault(node_id(record, self.is_file), row)

    def _listed(self, row: int, code: int, file: str | None, readable: bool) -> None:
        """A row whose verdict is not OK: keep a record of it (one with a file if any)."""
        self.codes[row] = code
        shown = self.shown
        if row not in shown or (file and not shown[row].file):
            shown[row] = self.current()
        if not readable and row not in self.raw:
            self.raw[row] = (self.current().raw_time, self.source)

    def _best(self, cat: int, row: int, time: float) -> None:
        best = self.cat_best[cat]
        self.cat_best[cat] = row
        self.cat_best_time[cat] = time
        if row not in self.shown:
            self.shown[row] = self.current()
        if best >= 0 and best != row:
            self._release(best)

    def _release(self, row: int) -> None:
        """Forget the record of a row no longer worth listing."""
        if row not in self.codes and row not in self.in_top and row not in self.cat_best:
            self.shown.pop(row, None)

    def add_record(self, record: CaseRecord) -> None:
        """`add` for a record read elsewhere."""
        self.start_source(record.source, lambda: record)
        self.add(record.classname, record.name, record.time, record.file,
                 record[8:13], record.properties)

    def result(self) -> AuditResult:
        per_cat_max = {cat: row for cat, row in enumerate(self.cat_best) if row >= 0}
        result = _result(self.policy, self.names, self.warn_ratio, self.times, self.cats,
                         self.lims, self.codes, self.shown, self.raw, self.in_top,
                         per_cat_max, self.node_ids, self.count())
        return dataclasses.replace(result, guard=self.guard.result())


#: Bytes of JUnit XML per test, about (a pytest `<testcase>` with the plugin's
#: properties takes ~240): to size the row table once rather than grow it.
BYTES_PER_TEST = 250
#: Past this many tests the table grows as it fills (a file of long failure
#: texts should not reserve memory for tests it does not hold).
MAX_PRESIZED = 250_000


def _expected_tests(files: list[tuple[str | Path, str]]) -> int:
    total = 0
    for path, _ in files:
        with contextlib.suppress(OSError):  # reading it will say what is wrong
            total += os.path.getsize(path)
    return min(total // BYTES_PER_TEST, MAX_PRESIZED)


def _no_record() -> CaseRecord:
    raise AssertionError("a record was asked for outside a test")


def audit(
    records: Iterable[CaseRecord],
    policy: Policy,
    overrides: Overrides | None = None,
    *,
    top: int = 10,
    durations: bool = False,
    is_file: Callable[[str], bool] | None = None,
) -> AuditResult:
    """Judge every test's duration against its limit.

    `top` is how many of the slowest tests to keep; `durations` also collects
    every test's duration by pytest node id (`is_file` helps find the module
    of a dotted classname, see `node_id`).
    """
    auditor = _Auditor(policy, overrides, top, durations, is_file)
    for record in records:
        auditor.add_record(record)
    return auditor.result()


def audit_files(
    files: Iterable[tuple[str | Path, str]],
    policy: Policy,
    overrides: Overrides | None = None,
    *,
    top: int = 10,
    durations: bool = False,
    is_file: Callable[[str], bool] | None = None,
) -> tuple[AuditResult, list[Problem]]:
    """`audit` of the JUnit files (path, name shown), read in one streaming pass each.

    The problems are the files that could not be read (their tests read before
    the problem are audited). A file whose run recorded fewer tests than it collected
    (the plugin's `test_policy.collected`), or that holds pytest's INTERNALERROR, is
    listed in the result's `incomplete`: a failure.
    """
    files = list(files)
    auditor = _Auditor(policy, overrides, top, durations, is_file,
                       expected=_expected_tests(files))
    problems: list[Problem] = []
    incomplete: list[Incomplete] = []
    for path, shown in files:
        reader = JUnitReader(shown, auditor.add)
        auditor.start_source(shown, reader.record)
        try:
            reader.scan(path)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        collected = reader.collected
        if reader.internal_error or (collected is not None and reader.recorded < collected):
            incomplete.append(Incomplete(shown, collected, reader.recorded,
                                         reader.internal_error))
    result = auditor.result()
    if incomplete:
        result = dataclasses.replace(result, incomplete=incomplete)
    return result, problems


def _enter(heap: list[tuple[float, int]], in_top: set[int], keep: int, times: array[float],
           row: int, time: float, release: Callable[[int], None]) -> float:
    """Put `row` among the `keep` slowest rows; returns the new floor to beat."""
    heapq.heappush(heap, (time, row))
    if row not in in_top:
        in_top.add(row)
        if len(in_top) > keep:
            while True:
                old_time, old = heapq.heappop(heap)
                if old in in_top and times[old] == old_time:
                    in_top.discard(old)
                    release(old)
                    break
    while heap[0][1] not in in_top or times[heap[0][1]] != heap[0][0]:
        heapq.heappop(heap)  # stale: the row left, or its time grew since
    return heap[0][0] if len(in_top) >= keep else -1.0


def _code(time: float, limit: float, flag: int, warn_ratio: float) -> int:
    if flag & F_CRASHED:
        return CRASHED
    if flag & F_TIMED_OUT:
        return TIMED_OUT
    if limit > 0 and time >= limit:  # at the limit, pytest-timeout would have fired
        return OVER
    if flag & F_UNREADABLE:
        return UNREADABLE
    if limit > 0 and time > limit * warn_ratio:
        return WARNING
    return OK


def _result(
    policy: Policy,
    names: list[str],
    warn_ratio: float,
    times: array[float],
    cats: array[int],
    lims: array[float],
    codes: dict[int, int],  # the rows whose verdict is not OK
    shown: dict[int, CaseRecord],
    raw: dict[int, tuple[str | None, str]],
    in_top: set[int],
    per_cat_max: dict[int, int],
    node_ids: dict[str, int] | None,
    count: int,
) -> AuditResult:
    def verdict(row: int) -> Verdict:
        time = times[row]
        unread = raw.get(row, (None, ""))
        return Verdict(shown[row], names[cats[row]], lims[row], None if time < 0 else time,
                       KINDS[codes.get(row, OK)], unread[0], unread[1])

    stats = {name: CategoryStats() for name in names}
    # Per category, in C loops over the columns (no Python code per test).
    tests_by_cat = [cats.count(index) for index in range(len(names))]
    total_by_cat = [sum(filter((0.0).__lt__, compress(times, map(index.__eq__, cats))), 0.0)
                    if tests else 0.0 for index, tests in enumerate(tests_by_cat)]
    code_count = [[0] * len(KINDS) for _ in names]
    for row, code in codes.items():
        code_count[cats[row]][code] += 1
    for index, name in enumerate(names):
        entry = stats[name]
        entry.tests = tests_by_cat[index]
        entry.total = total_by_cat[index]
        counts = code_count[index]
        entry.over = counts[OVER] + counts[TIMED_OUT] + counts[CRASHED]
        entry.near = counts[WARNING]
        entry.unreadable = sum(1 for row in raw if cats[row] == index)
        best = per_cat_max.get(index)
        if best is not None:
            entry.slowest = verdict(best)
    for name in list(stats):
        if stats[name].tests == 0 and name not in policy.categories:
            del stats[name]

    listed = [row for row in shown if row in codes]
    failures = sorted((verdict(r) for r in listed if codes[r] >= OVER),
                      key=lambda v: (-v.ratio, v.record.name))
    warnings = sorted((verdict(r) for r in listed if codes[r] == WARNING),
                      key=lambda v: (-v.ratio, v.record.name))
    unreadable = [verdict(r) for r in sorted(raw)]
    slowest = sorted((verdict(r) for r in in_top), key=lambda v: (-(v.time or 0.0),
                                                                  v.record.name))
    durations = None
    if node_ids is not None:
        # JUnit times have millisecond resolution: a recorded 0.000 means "under 1 ms".
        # pytest-split cannot balance zeros (every zero-cost test lands in one group).
        durations = {nid: max(times[row], MIN_DURATION) for nid, row in sorted(node_ids.items())
                     if times[row] >= 0}
    return AuditResult(warn_ratio, failures, warnings, unreadable, slowest, stats,
                       len(times), count, durations)
