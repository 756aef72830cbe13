"""How a test's category and limit are decided: the pure precedence rules."""

import pytest
from test_policy_engine.policy.categories import Classifier, Resolution
from test_policy_engine.policy.loader import parse_policy

POLICY = parse_policy(
    b"""
version: 1
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 5, paths: ["tests/integration/**"], markers: [integration]}
  slow: {limit: 30, markers: [slow]}
  db: {limit: 10, paths: ["tests/integration/db/**"]}
""",
    "policy.yaml",
)


@pytest.fixture
def classifier():
    return Classifier(POLICY)


@pytest.mark.parametrize(
    ("path", "markers", "expected"),
    [
        ("tests/unit/test_a.py", [], Resolution("unit", 1.0, "path tests/unit/**")),
        ("tests/unit/test_disintegration.py", [], Resolution("unit", 1.0, "path tests/unit/**")),
        ("tests/integration/test_a.py", [],
         Resolution("integration", 5.0, "path tests/integration/**")),
        ("tests/integration/test_a.py", ["slow"], Resolution("slow", 30.0, "marker slow")),
        ("tests/unit/test_a.py", ["integration"],
         Resolution("integration", 5.0, "marker integration")),
        ("elsewhere/test_a.py", ["integration"],
         Resolution("integration", 5.0, "marker integration")),
        ("tests/unit/test_a.py", ["integration", "slow"], Resolution("slow", 30.0, "marker slow")),
        ("tests/integration/db/test_a.py", [],
         Resolution("db", 10.0, "path tests/integration/db/**")),
        ("elsewhere/test_a.py", [], Resolution("unit", 1.0, "default")),
        ("elsewhere/test_a.py", ["parametrize", "xfail"], Resolution("unit", 1.0, "default")),
    ],
)
def test_markers_beat_paths_and_the_larger_limit_wins(classifier, path, markers, expected):
    assert classifier.resolve(path, markers) == expected


def test_an_explicit_timeout_wins_over_every_category(classifier):
    found = classifier.resolve("tests/unit/test_a.py", ["slow"], explicit_timeout=10, cli_timeout=0)
    assert found == Resolution("slow", 10, "explicit timeout")


def test_a_command_line_timeout_wins_over_the_policy(classifier):
    found = classifier.resolve("tests/integration/test_a.py", [], cli_timeout=0)
    assert found == Resolution("integration", 0, "--timeout")


def test_path_classification_is_computed_once_per_file(classifier):
    first = classifier.by_path("tests/unit/test_a.py")
    assert classifier.by_path("tests/unit/test_a.py") is first
