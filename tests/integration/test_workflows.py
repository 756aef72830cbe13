"""The workflows pass check-jsonschema (structure) and zizmor (security), with no findings.

Both checkers come from `make tools` (each in its own environment, linked into .tools/bin,
which the Makefile puts on PATH). zizmor runs offline with the pedantic persona, the strictest
that needs no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_policy_engine.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: run `make tools` (it installs .tools/bin/{name}) "
                    "and run the tests through `make test`, or put .tools/bin on PATH")
    return found


def check_workflows(directory: Path) -> None:
    workflows = sorted(str(p) for p in directory.glob("*.yml"))
    assert workflows, f"no workflow in {directory}"
    schema = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows],
        capture_output=True, text=True, check=False,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = subprocess.run(
        [tool("zizmor"), "--offline", "--persona", "pedantic", "--no-progress", str(directory)],
        capture_output=True, text=True, check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings to report" in audit.stdout, audit.stdout


def test_this_repositorys_workflows_pass_check_jsonschema_and_zizmor():
    check_workflows(ROOT / ".github" / "workflows")


def test_zizmor_finds_an_unpinned_action_so_the_check_above_can_fail(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    pinned = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
    assert pinned in text
    (workflows / "ci.yml").write_text(text.replace(pinned, "actions/checkout@v4"),
                                      encoding="utf-8")
    with pytest.raises(AssertionError, match="unpinned-uses"):
        check_workflows(workflows)


def test_the_workflow_init_writes_passes_check_jsonschema_and_zizmor(tmp_path, capsys):
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    assert main(["init", "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    check_workflows(tmp_path / ".github" / "workflows")


def test_the_pre_commit_config_init_writes_is_valid(tmp_path, capsys):
    (tmp_path / "tests").mkdir()
    assert main(["init", "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config",
         str(tmp_path / ".pre-commit-config.yaml")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
