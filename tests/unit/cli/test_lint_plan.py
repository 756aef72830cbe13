"""The lint plan: Semgrep's results read against the policy, and the plan's cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_policy_engine.lint import plan
from test_policy_engine.lint.findings import from_semgrep
from test_policy_engine.policy.errors import UserError

POLICY = """\
version: 1
categories: {unit: {limit: 1, default: true}}
banned:
  - id: real-sleep
    calls: [time.sleep]
    why: "a real sleep waits"
    fix: "patch it"
  - id: real-subprocess
    calls: [subprocess.run]
    why: "a real process"
    fix: "fake it"
    allowed_paths: ["tests/integration/**"]
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def result(check_id: str, path: str, start: int, end: int, **extra: object) -> dict[str, object]:
    return {"check_id": check_id, "path": path,
            "start": {"line": 2, "col": 1, "offset": start},
            "end": {"line": 2, "col": 1 + end - start, "offset": end},
            "extra": {"message": "m", **extra}}


def test_the_plan_has_rules_without_paths_and_each_rules_allowed_paths(policy: Path):
    built = plan.load(policy, policy.parent / "cache").plan
    assert [r.id for r in built.rules] == ["test-policy.real-sleep", "test-policy.real-subprocess"]
    assert built.rules[1].allowed_paths == ("tests/integration/**",)
    config = json.loads(built.config())
    # a rule of several calls is run as one part per call (`lint_rules`), ids ending with its id
    assert [r["id"] for r in config["rules"]] == [r.id for r in built.rules]
    assert built.rule("subprocess-run.test-policy.real-subprocess") is built.rules[1]
    assert all("paths" not in r for r in config["rules"])


def test_a_second_load_comes_from_the_cache_and_an_edited_policy_does_not(policy: Path):
    cache = policy.parent / "cache"
    first = plan.load(policy, cache)
    second = plan.load(policy, cache)
    assert (first.cached, second.cached) == (False, True)
    assert second.plan == first.plan
    policy.write_text(POLICY.replace("a real sleep waits", "a real sleep waits long"))
    third = plan.load(policy, cache)
    assert not third.cached
    assert "a real sleep waits long" in third.plan.rules[0].message


def test_a_corrupt_cache_entry_is_rebuilt(policy: Path):
    cache = policy.parent / "cache"
    plan.load(policy, cache)
    for entry in cache.glob("lint-*.json"):
        entry.write_text("{not json")
    again = plan.load(policy, cache)
    assert not again.cached
    assert plan.load(policy, cache).cached


def test_an_unwritable_cache_still_gives_the_plan(policy: Path):
    blocker = policy.parent / "file"
    blocker.write_text("")
    loaded = plan.load(policy, blocker / "cache")
    assert not loaded.cached
    assert loaded.plan == plan.load(policy, policy.parent / "cache").plan
    with plan.config_file(loaded.plan.config()) as config:
        assert json.loads(config.read_text()) == json.loads(loaded.plan.config())
    assert not config.exists()


def test_a_run_keeps_the_rules_whose_names_some_file_spells(policy: Path):
    built = plan.load(policy, policy.parent / "cache").plan
    sleep, run = built.parts

    def ids(*texts: bytes | None) -> list[str]:
        return [part.rule["id"] for part in built.chosen(built.met(texts))]

    assert ids(b"import time\ntime.sleep(1)\n") == ["test-policy.real-sleep"]
    # every import form spells both names: the module and the call
    assert ids(b"from subprocess import run as go\n", b"x = 1\n") == [
        "test-policy.real-subprocess"]
    assert ids(b"import subprocess\nsubprocess.Popen(['x'])\n") == []
    # the names of one file: a module named in one and a call in another trigger nothing
    assert ids(b"import subprocess\n", b"run()\n") == []
    assert ids(b"x = 1\n") == []
    # a file that could not be read may trigger any rule: Semgrep reports it
    assert ids(b"x = 1\n", None) == ["test-policy.real-sleep", "test-policy.real-subprocess"]
    assert built.met([None]) is None
    assert built.chosen(built.met([None])) == [sleep, run]


def test_a_broken_policy_is_the_users_error_and_is_not_cached(policy: Path):
    policy.write_text(POLICY.replace("calls: [time.sleep]", "calls: []"))
    with pytest.raises(UserError):
        plan.load(policy, policy.parent / "cache")
    assert not list((policy.parent / "cache").glob("lint-*"))


def test_semgrep_results_become_findings_with_their_code_and_the_policys_rules(policy: Path):
    built = plan.load(policy, policy.parent / "cache").plan
    root = policy.parent
    for name in ("tests/unit/test_a.py", "tests/integration/test_b.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("import subprocess, time\ntime.sleep(2); subprocess.run(['x'])\n")
    data = {"results": [
        result("tmp.cache.test-policy.real-sleep", "tests/unit/test_a.py", 24, 37),
        result("test-policy.real-subprocess", "tests/unit/test_a.py", 39, 60),
        result("test-policy.real-subprocess", "tests/integration/test_b.py", 39, 60),
        result("test-policy.real-sleep", "tests/integration/test_b.py", 24, 37, is_ignored=True),
        result("someone-elses-rule", "tests/unit/test_a.py", 24, 37),
    ], "errors": [{"type": "Syntax error", "message": "bad\n token", "path": "tests/c.py"}]}
    findings, errors = from_semgrep(data, built, root)
    assert [(f.rule, f.path, f.code) for f in findings] == [
        ("test-policy.real-sleep", "tests/unit/test_a.py", "time.sleep(2)"),
        ("test-policy.real-subprocess", "tests/unit/test_a.py", "subprocess.run(['x'])"),
    ]
    assert [(e.path, e.message) for e in errors] == [("tests/c.py", "bad token")]


@pytest.mark.parametrize("given", [None, "debt/known.txt"])
def test_lint_looks_for_the_baseline_where_the_baseline_command_writes_it(given: str | None):
    import argparse

    from test_policy_engine.cli.baseline_file import default_path
    from test_policy_engine.cli.lint import baseline_path

    args = argparse.Namespace(policy="project/policy.yaml", baseline=given)
    assert baseline_path(args) == default_path(args)
    assert baseline_path(args) == Path(given or "project/.test-policy-baseline")


def test_a_file_semgrep_would_skip_for_its_size_is_not_read_and_one_not_readable_keeps_all(
        tmp_path: Path):
    from test_policy_engine.cli.lint import SEMGREP_MAX_BYTES, read_bytes

    large = tmp_path / "test_large.py"
    large.write_bytes(b"import time\ntime.sleep(2)\n" + b"#" * SEMGREP_MAX_BYTES)
    assert read_bytes(large) == b""  # Semgrep skips it: it triggers no rule
    small = tmp_path / "test_small.py"
    small.write_bytes(b"import time\n")
    assert read_bytes(small) == b"import time\n"
    assert read_bytes(tmp_path / "gone.py") is None
