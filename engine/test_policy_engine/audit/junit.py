"""Reading JUnit XML from any runner as a stream of test records, safely.

The reader is a streaming expat parser fed in chunks: it never builds a tree,
keeps no failure text and holds at most one open `<testcase>` at a time, so its
memory does not grow with the file. It refuses what a JUnit file never needs and
an attacker would: a DOCTYPE (entity declarations: billion laughs, external
entities) and tags larger than `MAX_TAG_BYTES`.

Dialects read (FIELD-NOTES "JUnit XML in practice"): pytest xunit1 / xunit2 /
legacy with or without xdist, Vitest, jest-junit, Maven Surefire (`flakyFailure`
and `rerunFailure` reruns inside one `<testcase>`), gotestsum / go-junit-report;
a `<testsuite>` or `<testsuites>` root; suites nested to any depth.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple
from xml.parsers import expat

from test_policy_engine.policy.errors import Problem, UserError
from test_policy_engine.policy.reading import open_regular
from test_policy_engine.policy.timeouts import (
    CASCADE_PROPERTY,
    COLLECTED_PROPERTY,
    NODEID_PROPERTY,
)
from test_policy_engine.policy.verdict import ESTIMATE_PROPERTY, FIGURE_NAMES, WALL_PROPERTY

Outcome = Literal["passed", "failed", "error", "skipped"]

#: The plugin's properties on each `<testcase>` (the shared contract).
PROPERTY_PREFIX = "test_policy."
GUARD_PREFIX = "test_policy.guard."  # the runtime guard's (audit/guard.py)

#: The plugin's per-test load figures (`policy.verdict`), written after its properties.
_FIGURES = frozenset(FIGURE_NAMES)


def _has_figures(props: list[tuple[str, str]]) -> bool:
    """Whether the plugin's figures are among `props`: usually the last ones, but a
    property added after them (the run's `test_policy.collected` on its first test, a
    baseline or leftovers note) comes later."""
    if props[-1][0] in _FIGURES:
        return True
    return any(key in _FIGURES for key, _ in props)

#: What pytest-timeout and pytest-xdist write in the failure's `message`.
TIMEOUT_MARK = "Timeout (>"
CRASH_MARK = re.compile(r"worker '[^']*' crashed")
TEARDOWN_MARK = "failed on teardown with"

#: A node id longer than this is not pytest's (ids are paths plus parameters).
MAX_NODEID_CHARS = 4096
#: What one tag (an element with all its attributes) may cost: expat buffers a
#: tag whole, so this bounds the parser's memory whatever the file holds.
MAX_TAG_BYTES = 1 << 20
#: A duration over this many seconds (11.6 days) is a unit mix-up such as
#: nanoseconds, not a test's time.
MAX_SECONDS = 1e6
CHUNK_BYTES = 1 << 16

_RERUN_TAGS = frozenset({"flakyFailure", "flakyError", "rerunFailure", "rerunError"})
_ROOTS = frozenset({"testsuites", "testsuite"})


class CaseRecord(NamedTuple):
    """One `<testcase>` as written, with the attributes the audit needs.

    `time` is the duration in seconds, or None when it could not be read; then
    `raw_time` is the text as written (None when the attribute is missing).
    `line` is 1-based (pytest's 0-based `line` is converted).
    """

    source: str
    suite: tuple[str, ...]
    classname: str
    name: str
    file: str | None
    line: int | None
    time: float | None
    raw_time: str | None
    outcome: Outcome
    timed_out: bool = False
    crashed: bool = False
    teardown_error: bool = False
    reruns: int = 0
    from_pytest: bool = False  # inside `<testsuite name="pytest">`
    properties: tuple[tuple[str, str], ...] = ()
    nodeid: str | None = None  # the plugin's `test_policy.nodeid`, when recorded

    def prop(self, name: str) -> str | None:
        """The value of one of the plugin's properties, or None."""
        for key, value in self.properties:
            if key == name:
                return value
        return None


def parse_time(text: str) -> float | None:
    """Seconds from a `time` attribute, or None for anything not a plain decimal.

    `1,234.5`, `0,160`, ``, `NaN`, `inf`, `-1`, `80.803us`, `0:00:00.69` and
    nanosecond integers are all refused rather than guessed at.
    """
    try:
        value = float(text)
    except ValueError:
        return None
    if "_" in text or not 0.0 <= value <= MAX_SECONDS:  # NaN fails the comparison
        return None
    return value


_GROUP_SUFFIX = re.compile(r"@[^@\[\]]+\Z")


def strip_group(name: str) -> str:
    """`test_x[1]@db` -> `test_x[1]`: the suffix pytest-xdist's loadgroup adds."""
    if "@" not in name:
        return name
    return _GROUP_SUFFIX.sub("", name)


State = tuple[Outcome, bool, bool, bool, int]
#: (outcome, timed_out, crashed, teardown_error, reruns) of a test that passed: the
#: same object for every passing test, so `state is PASSED` tells them apart.
PASSED: State = ("passed", False, False, False, 0)
Properties = tuple[tuple[str, str], ...]
#: What the reader calls once per `<testcase>`, at its end:
#: (classname, name, seconds or None, file or None, state, plugin properties).
#: The reader's `record()` builds the full CaseRecord of that test during the call.
Sink = Callable[[str, str, "float | None", "str | None", State, Properties], None]


class _Refused(Exception):
    """Raised inside an expat handler to stop the parse with a message."""

    def __init__(self, message: str, parser: expat.XMLParserType) -> None:
        super().__init__(message)
        self.line = parser.CurrentLineNumber  # where the event being handled starts
        self.col = parser.CurrentColumnNumber + 1


class JUnitReader:
    """The expat handlers for one file, handing each test to a sink.

    The handlers are the hot path (one call per element): the state of the open
    `<testcase>` lives in plain attributes, and `case` is its attributes dict.
    The sink gets the few fields the audit needs per test; it builds the whole
    record (`record()`) only for the tests it keeps.
    """

    def __init__(self, source: str, sink: Sink | None = None) -> None:
        self.source = source
        self.out: list[CaseRecord] = []
        self.sink: Sink = sink if sink is not None else self._collect
        self.parser = expat.ParserCreate()
        parser = self.parser
        parser.buffer_text = False
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.StartElementHandler = self._root
        parser.EndElementHandler = self._end
        self.suites: list[str] = []
        self.suite_files: list[str | None] = []
        self.suite_file: str | None = None  # the innermost suite's `file`, inherited
        self.suite_path: tuple[str, ...] | None = ()
        self.pytest = False  # inside a suite pytest wrote: its `line` is 0-based
        self.case: dict[str, str] | None = None
        # One tuple, replaced on the rare failure, so a passing test costs one store.
        self.state: State = PASSED
        self.properties: list[tuple[str, str]] = []
        self.nodeid: str | None = None  # the open testcase's node id property
        # What tells a complete run from one cut short: the testcases read, the count the
        # plugin recorded as collected, and pytest's own `pytest.internal` error.
        self.recorded = 0
        self.collected: int | None = None
        self.internal_error = False

    # -- refusals -------------------------------------------------------------
    def _doctype(self, *_: Any) -> None:
        raise _Refused("a DOCTYPE is refused: a JUnit file needs none, and its entity "
                       "declarations are how XML bombs and external entities get in",
                       self.parser)

    def _entity(self, *_: Any) -> None:
        raise _Refused("an entity declaration is refused (XML bombs, external entities)",
                       self.parser)

    # -- elements -------------------------------------------------------------
    def _root(self, name: str, attrs: dict[str, str]) -> None:
        if name not in _ROOTS:
            raise _Refused(f"not a JUnit file: the root element is <{name[:40]}>, "
                           "expected <testsuites> or <testsuite>", self.parser)
        self.parser.StartElementHandler = self._start
        self._start(name, attrs)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "property":
            if self.case is not None:
                key = attrs.get("name", "")
                if key.startswith(PROPERTY_PREFIX):
                    if key == NODEID_PROPERTY:  # one per test: kept out of the properties
                        self.nodeid = attrs.get("value", "")[:MAX_NODEID_CHARS] or None
                    elif key == COLLECTED_PROPERTY:
                        self._collected(attrs.get("value", ""))
                    else:
                        # The runtime guard's values are one-line reports: kept longer.
                        cut = 1000 if key.startswith(GUARD_PREFIX) else 200
                        self.properties.append((key, attrs.get("value", "")[:cut]))
        elif self.case is None:
            if name == "testcase":
                self.case = attrs
                self.state = PASSED
                self.nodeid = None
                if self.properties:
                    self.properties = []
            elif name == "testsuite":
                suite = attrs.get("name", "")
                self.suites.append(suite)
                self.suite_files.append(self.suite_file)
                self.suite_file = attrs.get("file") or self.suite_file
                self.suite_path = None
                if len(self.suites) == 1:
                    self.pytest = suite == "pytest"
        elif name == "properties":
            pass
        elif name == "failure" or name == "error":
            outcome, timed_out, crashed, teardown, reruns = self.state
            if name == "error":
                outcome = "error"
            elif outcome != "error":
                outcome = "failed"
            message = attrs.get("message")
            if message:
                timed_out = timed_out or (TIMEOUT_MARK in message and "pytest-timeout" in message)
                crashed = crashed or CRASH_MARK.search(message) is not None
                teardown = teardown or message.startswith(TEARDOWN_MARK)
            self.state = (outcome, timed_out, crashed, teardown, reruns)
        elif name == "skipped":
            outcome, timed_out, crashed, teardown, reruns = self.state
            if outcome == "passed":
                self.state = ("skipped", timed_out, crashed, teardown, reruns)
        elif name in _RERUN_TAGS:
            outcome, timed_out, crashed, teardown, reruns = self.state
            self.state = (outcome, timed_out, crashed, teardown, reruns + 1)

    def _end(self, name: str) -> None:
        if name == "testcase":
            attrs = self.case
            if attrs is not None:
                test = attrs.get("name", "")
                if "@" in test:
                    test = strip_group(test)
                raw = attrs.get("time")
                seconds: float | None = None
                if raw is not None:  # parse_time, inlined: this runs once per test
                    try:
                        seconds = float(raw)
                    except ValueError:
                        pass
                    else:
                        if not 0.0 <= seconds <= MAX_SECONDS or "_" in raw:
                            seconds = None
                props = self.properties
                state = self.state
                if state[1] and props:
                    state = own_state(state, props)
                if props and _has_figures(props):
                    seconds, props = judged(seconds, props, state[1])
                if test == "internal" and attrs.get("classname") == "pytest":
                    # pytest's INTERNALERROR: the session ended early; not a test.
                    self.internal_error = self.internal_error or self.state[0] == "error"
                    self.case = None
                    return
                self.recorded += 1
                self.sink(attrs.get("classname", ""), test, seconds,
                          attrs.get("file") or self.suite_file, state,
                          tuple(props) if props else ())
                self.case = None
        elif name == "testsuite" and self.suites and self.case is None:
            self.suites.pop()
            self.suite_file = self.suite_files.pop()
            self.suite_path = None

    def _collected(self, value: str) -> None:
        if value.isascii() and value.isdigit() and len(value) < 10:
            self.collected = max(self.collected or 0, int(value))

    def _collect(self, *_: Any) -> None:
        self.out.append(self.record())

    def record(self) -> CaseRecord:
        """The whole record of the `<testcase>` being ended (call it from the sink)."""
        attrs = self.case
        assert attrs is not None, "record() is for the sink, while a testcase ends"
        name = strip_group(attrs.get("name", ""))
        file = attrs.get("file") or self.suite_file
        line: int | None = None
        text = attrs.get("line")
        if text is not None and text.isascii() and text.isdigit() and len(text) < 10:
            line = int(text) + 1 if self.pytest else int(text)
        raw = attrs.get("time")
        seconds = parse_time(raw) if raw is not None else None
        if seconds is not None:
            raw = None
        props = self.properties
        state = self.state
        if state[1] and props:
            state = own_state(state, props)
        if props and _has_figures(props):
            seconds, props = judged(seconds, props, state[1])
        path = self.suite_path
        if path is None:
            path = self.suite_path = tuple(self.suites)
        return _new_record(CaseRecord, (
            self.source, path, attrs.get("classname", ""), name, file, line, seconds, raw,
            *state, self.pytest, tuple(props), self.nodeid,
        ))

    def chunks(self, path: str | Path) -> Iterator[None]:
        """Parse the file, pausing after each chunk (records collect in `out`).

        Raises UserError with one located line when the file cannot be read, is
        not well-formed XML, is not JUnit, or holds something refused.
        """
        source = self.source
        parser = self.parser
        fed = 0
        try:
            with open_regular(path) as handle:
                while True:
                    chunk = handle.read(CHUNK_BYTES)
                    fed += len(chunk)
                    parser.Parse(chunk, not chunk)
                    yield
                    if not chunk:
                        break
                    start = parser.CurrentByteIndex
                    if start >= 0 and fed - start > MAX_TAG_BYTES:
                        raise _Refused(f"an XML tag longer than {MAX_TAG_BYTES >> 20} MiB "
                                       "(an attribute that large) is refused: no JUnit file "
                                       "needs one", parser)
        except OSError as exc:
            raise UserError([Problem(source, None, None, "",
                                     f"cannot read ({exc.strerror or exc})")]) from None
        except (LookupError, ValueError) as exc:  # expat: an encoding it cannot read
            raise UserError([Problem(source, 1, 1, "", f"cannot decode the file ({exc})",
                                     "write JUnit XML as UTF-8")]) from None
        except expat.ExpatError as exc:
            what = expat.ErrorString(exc.code) if exc.code else str(exc)
            hint = "the file is empty" if fed == 0 and exc.lineno == 1 else ""
            raise UserError([Problem(source, exc.lineno, exc.offset + 1, "",
                                     f"malformed XML: {what}", hint)]) from None
        except _Refused as exc:
            raise UserError([Problem(source, exc.line, exc.col, "", str(exc))]) from None
        except UnicodeError as exc:
            raise UserError([Problem(source, parser.CurrentLineNumber, None, "",
                                     f"malformed XML: bad text encoding ({exc})")]) from None

    def scan(self, path: str | Path) -> None:
        """Parse the whole file, handing each test to the sink."""
        for _ in self.chunks(path):
            pass


_new_record = tuple.__new__  # a C call: building NamedTuples without a Python frame


def own_state(state: State, props: list[tuple[str, str]]) -> State:
    """A timed-out testcase's state, not timed out where the plugin recorded that its setup
    failed on a broad fixture's timeout cached from an earlier test (the fixture timed out
    once, there; pytest raises the same error again in every test that uses it)."""
    for key, _ in props:
        if key == CASCADE_PROPERTY:
            return (state[0], False, *state[2:])
    return state


def judged(seconds: float | None, props: list[tuple[str, str]], timed_out: bool = False
           ) -> tuple[float | None, list[tuple[str, str]]]:
    """The time to judge and the properties to classify by, from a testcase carrying the
    plugin's load figures: the estimate (as the plugin's own verdict; ignored when
    unreadable or above the recorded time), and the properties without the figures,
    which then stay the same for every test of a category (the audit caches on them).
    A test that timed out is judged by its recorded time, or the plugin's wall time if
    longer (a frozen clock makes pytest's 0): the time it ran until it was stopped."""
    kept = []
    for key, value in props:
        if key not in _FIGURES:
            kept.append((key, value))
        elif timed_out:
            if key == WALL_PROPERTY:
                try:
                    wall = float(value)
                except ValueError:
                    continue
                if 0.0 <= wall <= MAX_SECONDS and (seconds is None or wall > seconds):
                    seconds = wall
        elif key == ESTIMATE_PROPERTY and seconds is not None:
            try:
                estimate = float(value)
            except ValueError:
                continue
            if 0.0 <= estimate <= seconds:
                seconds = estimate
    return seconds, kept


def read_junit(path: str | Path, shown_as: str | None = None) -> Iterator[CaseRecord]:
    """The test records of one JUnit XML file, in file order.

    Raises UserError with one located line when the file cannot be read, is not
    well-formed XML, is not JUnit, or holds something refused.
    """
    reader = JUnitReader(shown_as if shown_as is not None else str(path))
    for _ in reader.chunks(path):
        if reader.out:
            yield from reader.out
            reader.out.clear()
