"""The minimal policy on the README's front door is a valid policy."""

from __future__ import annotations

import re

from test_policy_engine.policy.loader import parse_policy


def test_the_readmes_minimal_policy_loads(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    assert block is not None
    policy = parse_policy(block.group(1).encode(), "README.md")
    assert set(policy.categories) == {"unit", "integration", "slow"}
    assert policy.kill_after == 10
