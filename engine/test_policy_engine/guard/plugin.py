"""The guard's pytest plugin object, registered by the test_policy plugin when some
category of the policy has a `forbid:`.

What is guarded: the setup of a test's function-scoped fixtures and the test itself.
The setup of broader fixtures (a session fixture starting a local server, made in the
setup of the first test that needs it) is not: it does not belong to the test. Nor is
teardown, where pytest also finalizes broader fixtures without saying which is which.
A forbidden call raises `GuardViolation` in `strict` mode and is recorded in any mode,
so a test that swallows the exception still fails, with the first violation's line.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Generator, Mapping
from pathlib import Path

import pytest

from test_policy_engine.guard import hook
from test_policy_engine.guard.rules import (
    KINDS,
    KNOWN_MODE,
    MODE_PROPERTY,
    PROPERTY_PREFIX,
    GuardViolation,
    Rules,
    Violation,
    allowed_by_marks,
    hints_for,
    rules_for,
)
from test_policy_engine.plugin.cache import PluginPolicy
from test_policy_engine.plugin.summary import strip_group_suffix
from test_policy_engine.policy.timeouts import CATEGORY_PROPERTY

ALLOW_MARKER = "allow"

_SEEN: pytest.StashKey[list[Violation]] = pytest.StashKey()


class GuardWarning(UserWarning):
    """A forbidden call in a category whose `forbid:` has `mode: warn`."""


class GuardPlugin:
    def __init__(self, rules: dict[str, Rules], worker: bool,
                 known: Mapping[str, frozenset[str]] | None = None,
                 baseline: str = "") -> None:
        self.rules = rules  # category -> its rules (only categories that guard something)
        self.worker = worker
        self.known = known or {}  # node id -> kinds the baseline lists for it
        self.baseline = baseline  # the baseline file, as shown
        self.cache: dict[tuple[str, tuple[str, ...], frozenset[str]], Rules | None] = {}
        self.counts: dict[str, Counter[str]] = {}  # category -> kind -> tests

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers",
            f"{ALLOW_MARKER}(*kinds): let this test do what its category's `forbid:` "
            f"forbids: {', '.join(repr(k) for k in KINDS)} [test-policy: runtime guard]",
        )

    def _rules_of(self, item: pytest.Item) -> Rules | None:
        category = None
        for name, value in item.user_properties:
            if name == CATEGORY_PROPERTY:
                category = str(value)
                break
        if category is None or category not in self.rules:
            return None
        allowed, _ = allowed_by_marks([m.args for m in item.iter_markers(ALLOW_MARKER)])
        known = (self.known.get(strip_group_suffix(item.nodeid), frozenset())
                 if self.known else frozenset())
        key = (category, tuple(sorted(set(allowed))), known)
        if key not in self.cache:
            rules = self.rules[category].without(allowed)
            self.cache[key] = None if rules is None else rules.knowing(known)
        return self.cache[key]

    def _guarded(self, item: pytest.Item) -> Generator[None, object, object]:
        rules = self._rules_of(item)
        if rules is None:
            return (yield)
        stop = hook.start(rules)
        try:
            return (yield)
        finally:
            seen = stop()
            if seen:
                self._record(item, rules, seen)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        result = yield from self._guarded(item)
        _, unknown = allowed_by_marks([m.args for m in item.iter_markers(ALLOW_MARKER)])
        if unknown:
            pytest.fail(f"@pytest.mark.{ALLOW_MARKER}: unknown kind (got {unknown[0]!r}); "
                        f"hint: use one of {', '.join(KINDS)}", pytrace=False)
        return result

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        return (yield from self._guarded(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:  # after the fixtures' finalizers: a monkeypatch undone
            hook.tidy()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[object]
                             ) -> Generator[None, object, object]:
        if fixturedef.scope == "function":
            return (yield)
        paused = hook.pause()
        try:
            return (yield)
        finally:
            hook.resume(paused)

    def _record(self, item: pytest.Item, rules: Rules, seen: list[Violation]) -> None:
        known = item.stash.setdefault(_SEEN, [])
        kinds = {v.kind for v in known}
        if all(name != MODE_PROPERTY for name, _ in item.user_properties):
            mode = "strict" if rules.strict else "warn"
            if rules.strict and all(v.kind in rules.known for v in seen):
                mode = KNOWN_MODE  # the audit counts it as known debt, not a failure
            item.user_properties.append((MODE_PROPERTY, mode))
        for violation in seen:
            if violation.kind not in kinds:
                kinds.add(violation.kind)
                message = violation.message
                if violation.kind in rules.known:
                    message += f" [known: {self.baseline}]"
                item.user_properties.append((PROPERTY_PREFIX + violation.kind, message))
                if not rules.strict:  # `warn` (a known one is recorded, not warned of)
                    warnings.warn(GuardWarning(message), stacklevel=1)
            known.append(violation)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        seen = item.stash.get(_SEEN, None)
        if not seen or call.when == "teardown":
            return report
        rules = self._rules_of(item)
        failing = [] if rules is None else [v for v in seen if rules.fails(v.kind)]
        if not failing:
            return report
        first = failing[0].message
        if report.passed or (call.excinfo is not None
                             and isinstance(call.excinfo.value, GuardViolation)):
            # One line, also where the code under test caught the GuardViolation.
            report.outcome = "failed"
            report.longrepr = first
        elif report.failed:  # failed for a reason of its own: keep it, and say this too
            report.sections.append(("test policy guard", first))
        item.stash[_SEEN] = []  # reported once, in the phase it happened
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.worker or report.when != "teardown":
            return
        category = None
        kinds = []
        for name, _ in report.user_properties:
            if name == CATEGORY_PROPERTY:
                category = str(_)
            elif name.startswith(PROPERTY_PREFIX):
                kinds.append(name[len(PROPERTY_PREFIX):])
        if kinds and category is not None:
            self.counts.setdefault(category, Counter()).update(kinds)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.counts:
            return
        terminalreporter.write_sep("=", "test policy: runtime guard")
        for category, counts in self.counts.items():
            parts = ", ".join(f"{kind} {counts[kind]}" for kind in KINDS if kind in counts)
            terminalreporter.write_line(
                f"{category}: tests that did what the category forbids: {parts}")


def make_plugin(policy: PluginPolicy, policy_name: str, root: Path, worker: bool,
                known: Mapping[str, frozenset[str]] | None = None, baseline: str = ""
                ) -> GuardPlugin | None:
    """The plugin object, None when no category guards anything (then nothing, not even
    the audit hook, is installed)."""
    forbidding: dict[str, set[str]] = {}
    markers: dict[str, str] = {}
    plain: dict[str, Rules] = {}
    for name, category in policy.categories.items():
        if category.markers:
            markers[name] = category.markers[0]
        found = rules_for(name, category.forbid, {})
        if found is not None:
            plain[name] = found
            for kind in found.kinds:
                forbidding.setdefault(kind, set()).add(name)
    if not plain:
        return None
    rules = {
        name: Rules(r.category, r.kinds, r.strict, r.loopback, r.hosts, r.networks,
                    r.sleep_over, hints_for(name, forbidding, markers, policy_name))
        for name, r in plain.items()
    }
    hook.install(str(root))
    return GuardPlugin(rules, worker, known, baseline)
