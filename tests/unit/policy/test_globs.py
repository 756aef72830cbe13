import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_policy_engine.policy.globs import _matches, compile_glob, glob_problem, matches, parse


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


@pytest.mark.parametrize(
    ("glob", "problem"),
    [
        ("][", "a ']' without its '['"),
        ("x]y[z", "a ']' without its '['"),
        ("tests/[]x.py", "an empty '[...]' matches nothing"),
        ("tests/[!]x.py", "an empty '[...]' matches nothing"),
        ("tests/[z-a].py", "the range 'z-a' is reversed; write 'a-z'"),
        ("tests/[ab.py", "a '[' without its ']'"),
    ],
)
def test_a_bracket_the_matcher_cannot_read_is_refused_by_the_same_parser(glob, problem):
    assert glob_problem(glob) == problem
    assert matches(glob, "tests/a.py") is False  # never an exception, never a loop


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("tests/[a-c]x.py", "tests/bx.py", True),
        ("tests/[a-c]x.py", "tests/dx.py", False),
        ("tests/[-.]x.py", "tests/.x.py", True),
        ("tests/[^]x.py", "tests/^x.py", True),
        ("tests/*a*b*.py", "tests/xaybz.py", True),
        ("tests/*a*b*.py", "tests/xbyaz.py", False),
        ("tests/*.py", "tests/.py", True),
        ("tests/a*", "tests/a", True),
        ("tests/**", "tests", False),
        ("a/**/b", "a/b", True),
        ("a/**/**/b", "a/x/y/b", True),
        ("**", "any/thing.py", True),
    ],
)
def test_character_classes_stars_and_double_stars_match_as_documented(glob, path, expected):
    assert matches(glob, path) is expected


def test_many_double_star_segments_answer_without_backtracking():
    glob = "/".join(["**", "a"] * 15) + "/z.py"
    path = "/".join(["a"] * 40) + "/y.py"  # almost matches: every split would be tried
    assert glob_problem(glob) is None
    assert matches(glob, path) is False
    assert matches(glob, "/".join(["a"] * 40) + "/z.py") is True


def test_a_segment_with_many_stars_against_a_long_name_answers_at_once():
    assert matches("tests/" + "*a" * 20 + "*b", "tests/" + "a" * 50_000) is False
    assert matches("tests/" + "*a" * 20 + "*b", "tests/" + "a" * 50_000 + "b") is True


SEGMENTS = ["a", "b", "*", "?", "[ab]", "[!a]", "**", "a*", "*b", "a*b", "[a-b]*", "*a*b*"]


@given(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4),
       st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab"]), min_size=1, max_size=6))
def test_the_fast_regex_and_the_set_of_states_matcher_agree(glob_parts, path_parts):
    glob = "/".join(glob_parts)
    assume(glob_problem(glob) is None)
    path = "/".join(path_parts)
    assert compile_glob(glob)(path) is _matches(parse(glob), path)
