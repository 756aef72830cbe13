"""Which category a test belongs to, and the time limit it gets: pure functions.

The precedence (documented in docs/limits.md, shown by `test-policy explain`):
1. an explicit `timeout` marker anywhere on the test's chain is the test's limit
   (the verdict at N; the plugin's kill point at N x kill_after);
2. a `--timeout` given on the command line wins over the policy;
3. a category marker beats a path match; among several matches the larger limit wins;
4. path globs match the test file's path relative to the rootdir;
5. otherwise the default category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from test_policy_engine.policy.globs import first_match


class CategoryRules(Protocol):
    """What classification reads of a category: `policy.model.Category`, or the plain
    copy the pytest plugin keeps (`plugin.cache`)."""

    @property
    def limit(self) -> float: ...
    @property
    def default(self) -> bool: ...
    @property
    def paths(self) -> tuple[str, ...]: ...
    @property
    def markers(self) -> tuple[str, ...]: ...


class Categories(Protocol):
    """A validated policy's categories (a `Policy`, or the plugin's plain copy), in order."""

    @property
    def categories(self) -> Mapping[str, CategoryRules]: ...


#: Resolution reasons when a limit does not come from the policy (the audit reads them).
EXPLICIT_REASON = "explicit timeout"
CLI_REASON = "--timeout"


@dataclass(frozen=True)
class Classification:
    category: str
    reason: str  # "marker slow", "path tests/integration/**", "default"


@dataclass(frozen=True)
class Resolution:
    category: str
    limit: float  # seconds; 0 means no timeout
    reason: str  # Classification.reason, "explicit timeout" or "--timeout"


class Classifier:
    """Classifies tests under one validated policy; path matches are cached per file."""

    def __init__(self, policy: Categories) -> None:
        self._categories = policy.categories
        self._limits = {name: category.limit for name, category in self._categories.items()}
        self._default = next(name for name, cat in self._categories.items() if cat.default)
        self._owners: dict[str, str] = {}
        for name, category in self._categories.items():
            for marker in category.markers:
                self._owners.setdefault(marker, name)
        self._by_path: dict[str, Classification] = {}
        #: Every marker that puts a test in a category.
        self.markers = frozenset(self._owners)

    def by_path(self, relpath: str) -> Classification:
        """The category of a test file by its path alone (no markers)."""
        found = self._by_path.get(relpath)
        if found is None:
            found = self._classify_path(relpath)
            self._by_path[relpath] = found
        return found

    def _classify_path(self, relpath: str) -> Classification:
        best: Classification | None = None
        best_limit = -1.0
        for name, category in self._categories.items():
            glob = first_match(category.paths, relpath)
            if glob is not None and category.limit > best_limit:
                best, best_limit = Classification(name, f"path {glob}"), category.limit
        if best is None:
            return Classification(self._default, "default")
        return best

    def classify(self, relpath: str, markers: Iterable[str]) -> Classification:
        """The category of a test from its markers, then its file's path."""
        best: Classification | None = None
        best_limit = -1.0
        for marker in markers:
            owner = self._owners.get(marker)
            if owner is None:
                continue
            limit = self._limits[owner]
            if limit > best_limit:
                best, best_limit = Classification(owner, f"marker {marker}"), limit
        return best if best is not None else self.by_path(relpath)

    def resolve(
        self,
        relpath: str,
        markers: Iterable[str],
        explicit_timeout: float | None = None,
        cli_timeout: float | None = None,
    ) -> Resolution:
        """The test's category and its effective limit, with the reason for the limit."""
        found = self.classify(relpath, markers)
        if explicit_timeout is not None:
            return Resolution(found.category, explicit_timeout, EXPLICIT_REASON)
        if cli_timeout is not None:
            return Resolution(found.category, cli_timeout, CLI_REASON)
        return Resolution(found.category, self._limits[found.category], found.reason)
