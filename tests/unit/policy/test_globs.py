import pytest
from test_policy_engine.policy.globs import glob_problem, matches


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("tests/unit/**", "tests/unit/test_a.py", True),
        ("tests/unit/**", "tests/unit/deep/er/test_a.py", True),
        ("tests/unit/**", "tests/unitary/test_a.py", False),
        ("tests/integration/**", "tests/unit/test_disintegration.py", False),
        ("tests/integration/**", "src/tests/integration/test_a.py", False),
        ("**/integration/**", "src/tests/integration/test_a.py", True),
        ("test_*.py", "tests/unit/test_a.py", True),
        ("test_*.py", "tests/unit/a_test.py", False),
        ("*_test.py", "pkg/a_test.py", True),
        ("conftest.py", "tests/conftest.py", True),
        ("tests/*.py", "tests/unit/test_a.py", False),
        ("tests/test_?.py", "tests/test_a.py", True),
        ("tests/test_[ab].py", "tests/test_b.py", True),
        ("tests/test_[!ab].py", "tests/test_b.py", False),
        ("tests/a+b.py", "tests/a+b.py", True),
    ],
)
def test_globs_match_whole_path_segments_not_substrings(glob, path, expected):
    assert matches(glob, path) is expected


@pytest.mark.parametrize(
    "glob", ["", " tests/**", "/tests/**", "C:/tests", "./tests/**", "tests/", "tests//a",
             "tests/../x", "tests/**x", "tests/[ab.py", "tests\\unit"],
)
def test_globs_that_cannot_match_a_relative_path_are_refused(glob):
    assert glob_problem(glob) is not None


@pytest.mark.parametrize("glob", ["tests/**", "**/test_*.py", "conftest.py", "t/[ab]/*.py"])
def test_ordinary_globs_are_accepted(glob):
    assert glob_problem(glob) is None
