"""Random mutations of a valid policy end in a valid policy or located errors, never a crash."""

from __future__ import annotations

import os
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import parse_policy
from test_policy_engine.policy.model import Policy

from tests.conftest import ROOT

SHIPPED = (ROOT / "policy.yaml").read_text()
#: More with FUZZ_EXAMPLES=600 when changing the loader; the default keeps the test fast.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
LOCATED = re.compile(r"^policy\.yaml(:\d+(:\d+)?)?: \S.*$")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["auto", "tests/**", "time.sleep", "", "/x", "**a"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6,
)


def outcome(text: str | bytes) -> Policy | list[str]:
    data = text.encode() if isinstance(text, str) else text
    try:
        return parse_policy(data, "policy.yaml")
    except UserError as exc:
        return str(exc).split("\n")


def assert_valid_or_located(result: Policy | list[str]) -> None:
    if isinstance(result, Policy):
        return
    assert result, "an error without a message"
    for line in result:
        assert LOCATED.match(line), line


def paths_of(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths_of(value, (*prefix, index))
    return found


def replace_at(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[head] = replace_at(copy[head], rest, value)
    return copy


#: The shipped policy as data, read once: every example replaces one value of a copy.
SHIPPED_TREE = yaml.safe_load(SHIPPED)
SHIPPED_PATHS = paths_of(SHIPPED_TREE)[1:]

FAST = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(st.data())
def test_replacing_any_value_gives_a_policy_or_located_errors(data):
    path = data.draw(st.sampled_from(SHIPPED_PATHS))
    mutated = replace_at(SHIPPED_TREE, path, data.draw(values))  # copies along the path
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    assert_valid_or_located(outcome(yaml.dump(mutated, Dumper=dumper, sort_keys=False)))


@FAST
@given(st.integers(0, len(SHIPPED) - 1), st.integers(1, 40), st.text(max_size=6))
def test_cutting_or_splicing_the_text_gives_a_policy_or_located_errors(start, length, insert):
    mutated = SHIPPED[:start] + insert + SHIPPED[start + length:]
    assert_valid_or_located(outcome(mutated))


@FAST
@given(st.binary(max_size=64))
def test_arbitrary_bytes_give_a_policy_or_located_errors(blob):
    assert_valid_or_located(outcome(blob))
