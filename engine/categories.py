"""Which category a test belongs to, and the time limit it gets: pure functions.

The precedence (documented in the README, shown by `test-policy explain`):
1. an explicit `timeout` marker anywhere on the test's chain wins untouched;
2. a `--timeout` given on the command line wins over the policy;
3. a category marker beats a path match; among several matches the larger limit wins;
4. path globs match the test file's path relative to the rootdir;
5. otherwise the default category.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.globs import first_match
from engine.policy import Policy


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
    """Classifies tests under one policy; path matches are cached per file."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._by_path: dict[str, Classification] = {}
        #: Every marker that puts a test in a category.
        self.markers = frozenset(m for c in policy.categories.values() for m in c.markers)

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
        for name, category in self.policy.categories.items():
            glob = first_match(category.paths, relpath)
            if glob is not None and category.limit > best_limit:
                best, best_limit = Classification(name, f"path {glob}"), category.limit
        if best is None:
            return Classification(self.policy.default_category, "default")
        return best

    def classify(self, relpath: str, markers: Iterable[str]) -> Classification:
        """The category of a test from its markers, then its file's path."""
        best: Classification | None = None
        best_limit = -1.0
        for marker in markers:
            owner = self.policy.marker_owner(marker)
            if owner is None:
                continue
            limit = self.policy.categories[owner].limit
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
            return Resolution(found.category, explicit_timeout, "explicit timeout")
        if cli_timeout is not None:
            return Resolution(found.category, cli_timeout, "--timeout")
        return Resolution(found.category, self.policy.categories[found.category].limit,
                          found.reason)
