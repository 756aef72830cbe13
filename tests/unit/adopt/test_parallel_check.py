"""`init --check-parallel`'s pure part: which tests fail only in parallel, and the policy edit."""

from __future__ import annotations

import pytest
from test_policy_engine.adopt import scaffold
from test_policy_engine.adopt.parallel_check import (
    GROUP,
    Failure,
    Outcome,
    add_group,
    files_of,
    parallel_only,
    read_outcomes,
    switch_off,
)
from test_policy_engine.policy.loader import parse_policy

PORT_ERROR = Failure("tests/test_a.py::test_get", "tests/test_a.py", "error",
                     "OSError: [Errno 98] Address already in use")
STARTER = scaffold.render_policy(scaffold.detect_layout(["tests"]))


def outcomes(**tests: str) -> dict[str, Outcome]:
    return {f"tests/test_{name}.py::t": Outcome(f"tests/test_{name}.py::t",
                                                 f"tests/test_{name}.py", outcome)
            for name, outcome in tests.items()}


def groups(text: str) -> dict[str, tuple[str, ...]]:
    return dict(parse_policy(text.encode(), "policy.yaml").parallel.groups)


def test_only_tests_that_passed_serially_and_broke_in_parallel_are_counted():
    serial = outcomes(a="passed", b="passed", c="failed", d="passed", e="passed")
    parallel = outcomes(a="error", b="passed", c="failed", e="failed")
    found = parallel_only(serial, parallel)
    assert [(f.file, f.outcome) for f in found] == [
        ("tests/test_a.py", "error"), ("tests/test_d.py", "not run"), ("tests/test_e.py", "failed")]


def test_outcome_lines_are_read_by_node_id_and_broken_lines_are_skipped():
    text = ('{"nodeid": "t.py::a", "file": "t.py", "outcome": "error", "message": "boom"}\n'
            'not json\n{"nodeid": 3}\n')
    assert read_outcomes(text) == {"t.py::a": Outcome("t.py::a", "t.py", "error", "boom")}


def test_the_starter_policy_gains_one_group_with_a_comment_and_keeps_every_other_line():
    edited = add_group(STARTER, ["tests/test_a.py"], [PORT_ERROR])
    assert edited is not None
    assert groups(edited) == {GROUP: ("tests/test_a.py",)}
    assert ("#   tests/test_a.py::test_get: error (OSError: [Errno 98] Address already in use)"
            in edited)
    removed = [line for line in STARTER.splitlines() if line not in edited.splitlines()]
    assert removed == []


def test_a_user_group_is_kept_and_the_group_is_added_beside_it():
    text = STARTER.replace("  dist: loadgroup\n",
                           "  dist: loadgroup\n  groups:\n    db: [\"tests/db/**\"]  # one db\n")
    edited = add_group(text, ["tests/test_a.py"], [PORT_ERROR])
    assert edited is not None
    assert groups(edited) == {"db": ("tests/db/**",), GROUP: ("tests/test_a.py",)}
    assert '    db: ["tests/db/**"]  # one db\n' in edited


def test_a_second_check_adds_its_files_to_the_group_of_the_first_on_the_same_line():
    first = add_group(STARTER, ["tests/test_a.py"], [PORT_ERROR])
    assert first is not None
    second = add_group(first, ["tests/test_b.py"], [PORT_ERROR])
    assert second is not None
    assert groups(second) == {GROUP: ("tests/test_a.py", "tests/test_b.py")}
    assert len(second.splitlines()) == len(first.splitlines())
    assert add_group(second, ["tests/test_a.py"], [PORT_ERROR]) == second


def test_a_policy_without_a_parallel_section_gains_one_at_its_end():
    text = "version: 1\ncategories:\n  unit: {limit: 1, default: true}"
    edited = add_group(text, ["tests/test_a.py"], [PORT_ERROR])
    assert edited is not None
    assert edited.startswith(text + "\n")
    assert groups(edited) == {GROUP: ("tests/test_a.py",)}


def test_a_flow_style_parallel_section_is_not_rewritten():
    text = "version: 1\ncategories:\n  unit: {limit: 1, default: true}\nparallel: {dist: load}\n"
    assert add_group(text, ["tests/test_a.py"], [PORT_ERROR]) is None


@pytest.mark.parametrize("parallel", ["parallel:\n  enabled: true  # fast\n  workers: 2\n",
                                      "parallel:\n  workers: 2\n", ""])
def test_switching_parallel_off_sets_enabled_false_with_the_reason(parallel):
    text = f"version: 1\ncategories:\n  unit: {{limit: 1, default: true}}\n{parallel}"
    edited = switch_off(text, [PORT_ERROR])
    assert edited is not None
    policy = parse_policy(edited.encode(), "policy.yaml")
    assert policy.parallel.enabled is False
    assert "a group of their files did not make them pass" in edited
    assert ("workers: 2" in edited) == ("workers: 2" in text)


def test_a_file_no_glob_can_name_is_left_out_of_the_group():
    odd = Failure("tests\\x.py::t", "tests\\x.py", "failed", "")
    assert files_of([PORT_ERROR, odd, PORT_ERROR]) == ["tests/test_a.py"]
