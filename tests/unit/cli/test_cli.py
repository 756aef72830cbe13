"""The CLI skeleton: help, version, check's summary and warnings, the schema."""

from __future__ import annotations

import json

from test_policy_engine import __version__
from test_policy_engine.cli.main import COMMANDS, main
from test_policy_engine.cli.schema import schema_text

#: The committed JSON Schema, relative to the repository root.
SCHEMA = "engine/test_policy_engine/policy/policy.schema.json"

THREAD_LOADGROUP = """\
version: 1
timeout_method: thread
categories:
  unit: {limit: 1, default: true}
parallel: {dist: loadgroup}
"""


def test_check_on_the_shipped_policy_summarises_categories_and_patterns(root, monkeypatch,
                                                                         capsys):
    monkeypatch.chdir(root)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("policy.yaml: valid policy (version 1)\n")
    assert "  unit              1 s  default; paths tests/unit/**\n" in out
    assert "  integration       5 s  markers integration; paths tests/integration/**\n" in out
    assert "  slow             30 s  markers slow\n" in out
    assert "warnings above 80 % of a limit" in out
    assert "parallel: -n auto --dist loadgroup" in out
    assert "  real-sleep [error]: time.sleep\n" in out


def test_check_warns_when_thread_timeouts_meet_a_grouping_dist_mode(tmp_path, capsys):
    policy = tmp_path / "p.yaml"
    policy.write_text(THREAD_LOADGROUP)
    assert main(["check", "--policy", str(policy)]) == 0
    err = capsys.readouterr().err
    assert "warning: timeout_method 'thread' with dist 'loadgroup' can hang the run" in err


def test_check_does_not_warn_about_signal_timeouts_with_loadgroup(root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    assert main(["check"]) == 0
    assert capsys.readouterr().err == ""


def test_help_explains_every_command_in_one_line(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"    {name} " in out


def test_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"test-policy {__version__}\n"


def test_an_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_the_committed_schema_is_the_one_the_models_generate(root):
    committed = (root / SCHEMA).read_text()
    stale = f"stale: run 'test-policy schema -o {SCHEMA}'"
    assert committed == schema_text(), stale


def test_the_policy_names_its_schema_on_its_first_line(root):
    first = (root / "policy.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA}"


def test_schema_output_writes_the_file_atomically_and_identically(tmp_path, capsys):
    target = tmp_path / "s.json"
    assert main(["schema", "-o", str(target)]) == 0
    assert target.read_text() == schema_text()
    assert json.loads(target.read_text())["title"] == "test-policy-engine policy"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_schema_rejects_what_the_loader_rejects_for_unknown_keys():
    schema = json.loads(schema_text())
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["Category"]["additionalProperties"] is False
