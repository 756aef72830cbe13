"""docs/adopting.md shows what the workflows and `init` really contain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from test_policy_engine.adopt import scaffold
from test_policy_engine.cli.main import main


def section(root: Path) -> str:
    return (root / "docs" / "adopting.md").read_text(encoding="utf-8")


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def steps_in(node: Any) -> Iterator[tuple[str, str]]:
    """Every (`run` or `uses`, value) anywhere in a parsed workflow fragment."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "uses"):
                yield key, str(value).strip()
            else:
                yield from steps_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from steps_in(item)


def workflow_steps(root: Path) -> set[tuple[str, str]]:
    ci = yaml.safe_load((root / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    adopters = yaml.safe_load(scaffold.render_workflow(scaffold.detect_layout(["tests"]),
                                                       "policy.yaml"))
    return set(steps_in(ci)) | set(steps_in(adopters))


def test_every_step_the_section_shows_is_in_a_real_workflow(root):
    shown = [pair for block in blocks(section(root), "yaml")
             for pair in steps_in(yaml.safe_load(block))]
    assert len(shown) >= 8  # the audit job, the test step and its upload, a shard
    real = workflow_steps(root)
    assert [pair for pair in shown if pair not in real] == []


def test_the_audit_job_shown_is_the_job_init_writes(root):
    shown = yaml.safe_load(blocks(section(root), "yaml")[0])
    written = yaml.safe_load(scaffold.render_workflow(scaffold.detect_layout(["tests"]),
                                                      "policy.yaml"))
    assert shown == {"test-performance-audit": written["jobs"]["test-performance-audit"]}


def test_the_init_output_shown_is_what_init_prints(root, tmp_path, monkeypatch, capsys):
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "integration").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    printed = capsys.readouterr().out.splitlines()
    console = blocks(section(root), "console")[0].splitlines()
    assert console[0] == "$ test-policy init"
    for line in console[1:]:
        if line and line != "wrote rules/...":
            assert line in printed


def test_the_durations_command_shown_is_the_one_the_audit_job_runs(root):
    shown = blocks(section(root), "console")[1].strip()
    ci = (root / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    assert shown.replace("test-policy ", "python -m test_policy_engine ", 1) in ci
