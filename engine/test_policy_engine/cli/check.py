"""`test-policy check`: validate the policy and summarise what it enforces."""

from __future__ import annotations

import argparse
import sys

from test_policy_engine.policy.loader import load_policy
from test_policy_engine.policy.model import Policy

HELP = "validate policy.yaml and print what it enforces"

GROUPING_DISTS = ("loadgroup", "loadscope", "loadfile")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options beyond --policy


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    print(summary(policy, args.policy))
    for warning in warnings(policy):
        print(f"{args.policy}: warning: {warning}", file=sys.stderr)
    return 0


def warnings(policy: Policy) -> list[str]:
    """Valid but risky combinations."""
    found = []
    if (policy.timeout_method == "thread" and policy.parallel.enabled
            and policy.parallel.dist in GROUPING_DISTS):
        found.append(
            f"timeout_method 'thread' with dist '{policy.parallel.dist}' can hang the run once "
            "a test times out (pytest-xdist #1371); the plugin runs with '--dist load' instead. "
            "Use 'timeout_method: signal' to keep the grouping"
        )
    return found


def _seconds(value: float) -> str:
    return f"{value:g} s"


def summary(policy: Policy, name: str) -> str:
    lines = [f"{name}: valid policy (version {policy.version})", "", "categories:"]
    width = max(len(n) for n in policy.categories)
    for cat_name, category in policy.categories.items():
        how = []
        if category.default:
            how.append("default")
        if category.markers:
            how.append("markers " + ", ".join(category.markers))
        if category.paths:
            how.append("paths " + ", ".join(category.paths))
        limit = _seconds(category.limit)
        if category.audit_limit is not None:
            limit += f" (audit {_seconds(category.audit_limit)})"
        lines.append(f"  {cat_name:<{width}}  {limit:>8}  {'; '.join(how)}")
    lines.append("")
    lines.append(
        f"timeouts: {policy.timeout_method} method; warnings above "
        f"{policy.warn_ratio * 100:g} % of a limit"
    )
    par = policy.parallel
    if par.enabled:
        lines.append(f"parallel: -n {par.workers} --dist {par.dist}"
                     + (f"; groups {', '.join(sorted(par.groups))}" if par.groups else ""))
    else:
        lines.append("parallel: off")
    lines.append(f"banned patterns ({len(policy.banned)}):")
    for pattern in policy.banned:
        calls = ", ".join(pattern.calls[:3]) + (", ..." if len(pattern.calls) > 3 else "")
        lines.append(f"  {pattern.id} [{pattern.severity}]: {calls}")
    lines.append("lint paths: " + ", ".join(policy.lint.paths))
    return "\n".join(lines)
