"""`test-policy init`: layout detection, the files it writes, and what it refuses to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from test_policy_engine.adopt import scaffold
from test_policy_engine.cli.generate import MANIFEST
from test_policy_engine.cli.main import main
from test_policy_engine.policy.categories import Classifier
from test_policy_engine.policy.loader import load_policy, parse_policy

WRITTEN = ("policy.yaml", ".pre-commit-config.yaml", ".github/workflows/test-policy.yml")


def make(root: Path, *dirs: str) -> Path:
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    return root


def init(root: Path, *extra: str) -> int:
    return main(["init", "--dir", str(root), *extra])


def category_of(root: Path, relpath: str) -> str:
    return Classifier(load_policy(root / "policy.yaml")).by_path(relpath).category


def test_unit_and_integration_directories_become_path_categories(tmp_path, capsys):
    make(tmp_path, "tests/unit", "tests/integration")
    assert init(tmp_path) == 0
    assert category_of(tmp_path, "tests/unit/test_parse.py") == "unit"
    assert category_of(tmp_path, "tests/integration/test_db.py") == "integration"
    assert category_of(tmp_path, "tests/unit/test_disintegration.py") == "unit"
    assert "layout: tests/unit/, tests/integration/" in capsys.readouterr().out


def test_a_singular_test_directory_is_found_and_linted(tmp_path, capsys):
    make(tmp_path, "test/unit", "test/functional")
    assert init(tmp_path) == 0
    capsys.readouterr()
    policy = load_policy(tmp_path / "policy.yaml")
    assert policy.categories["unit"].paths == ("test/unit/**",)
    assert policy.categories["integration"].paths == ("test/functional/**",)
    assert "test/**" in policy.lint.paths


def test_a_flat_tests_directory_puts_every_test_in_unit_unless_marked(tmp_path, capsys):
    make(tmp_path, "tests")
    assert init(tmp_path) == 0
    capsys.readouterr()
    classifier = Classifier(load_policy(tmp_path / "policy.yaml"))
    assert classifier.by_path("tests/test_api.py").category == "unit"
    assert classifier.classify("tests/test_api.py", ["integration"]).category == "integration"
    assert classifier.classify("tests/test_api.py", ["slow"]).category == "slow"


def test_an_e2e_directory_gets_a_30_second_category_of_its_own(tmp_path, capsys):
    make(tmp_path, "tests/unit", "tests/e2e")
    assert init(tmp_path) == 0
    capsys.readouterr()
    policy = load_policy(tmp_path / "policy.yaml")
    assert policy.categories["e2e"].limit == 30
    assert category_of(tmp_path, "tests/e2e/test_checkout_flow.py") == "e2e"


def test_a_repository_without_tests_still_gets_a_policy_that_loads(tmp_path, capsys):
    assert init(tmp_path) == 0
    assert "no tests/ or test/ directory" in capsys.readouterr().out
    assert load_policy(tmp_path / "policy.yaml").default_category == "unit"


def test_init_says_what_it_wrote(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    for name in WRITTEN:
        assert (tmp_path / name).is_file()
        assert f"wrote {tmp_path / name}" in out


MY_POLICY = "version: 1\ncategories:\n  quick: {limit: 2, default: true}\n"


def test_an_existing_policy_and_workflow_are_kept_and_the_policy_is_used(tmp_path, capsys):
    make(tmp_path, "tests/unit", ".github/workflows")
    (tmp_path / "policy.yaml").write_text(MY_POLICY)
    (tmp_path / ".github/workflows/test-policy.yml").write_text("mine too\n")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'policy.yaml'}: exists, kept" in out
    assert f"{tmp_path / '.github/workflows/test-policy.yml'}: exists, kept" in out
    assert (tmp_path / "policy.yaml").read_text() == MY_POLICY
    assert (tmp_path / ".github/workflows/test-policy.yml").read_text() == "mine too\n"
    assert (tmp_path / ".pre-commit-config.yaml").is_file()


def test_a_users_own_file_in_rules_is_kept(tmp_path, capsys):
    make(tmp_path, "rules")
    (tmp_path / "rules" / "custom.yaml").write_text("rules: []\n")
    assert init(tmp_path) == 0
    assert (tmp_path / "rules" / "custom.yaml").read_text() == "rules: []\n"


def test_force_replaces_the_policy_and_says_so(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / "policy.yaml").write_text(MY_POLICY)
    assert init(tmp_path, "--force") == 0
    assert f"replaced {tmp_path / 'policy.yaml'}" in capsys.readouterr().out
    assert load_policy(tmp_path / "policy.yaml").categories["unit"].paths == ("tests/unit/**",)


USER_CONFIG = """\
# our hooks: keep them
default_language_version:
  python: python3
repos:
# formatting first
- repo: local
  hooks:
  - id: fmt
    name: fmt  # trailing comment
    entry: true
    language: system

# the end of the list
ci:
  autofix_prs: false
"""


def test_an_existing_pre_commit_config_keeps_every_byte_and_gains_the_hooks(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / ".pre-commit-config.yaml").write_text(USER_CONFIG)
    assert init(tmp_path) == 0
    assert f"added the hooks to {tmp_path / '.pre-commit-config.yaml'}" in capsys.readouterr().out
    merged = (tmp_path / ".pre-commit-config.yaml").read_text()
    head, tail = USER_CONFIG.split("\n# the end of the list\n")
    assert merged.startswith(head)
    assert merged.endswith("\n# the end of the list\n" + tail)
    config = yaml.safe_load(merged)
    assert [h["id"] for r in config["repos"] for h in r["hooks"]] == [
        "fmt", "test-policy-rules-in-sync", "test-policy-semgrep"]
    assert config["ci"] == {"autofix_prs": False}


def test_init_twice_changes_nothing_the_second_time(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / ".pre-commit-config.yaml").write_text(USER_CONFIG)
    assert init(tmp_path) == 0
    first = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == first
    assert "already has the test-policy hooks" in out
    assert f"{tmp_path / 'policy.yaml'}: unchanged" in out


def test_dry_run_prints_the_diffs_and_writes_nothing(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / ".pre-commit-config.yaml").write_text(USER_CONFIG)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert init(tmp_path, "--dry-run") == 0
    out = capsys.readouterr().out
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert f"--- /dev/null\n+++ {tmp_path / 'policy.yaml'}" in out
    assert "+  - repo: local" not in out  # indented as the user's entries are
    assert "+- repo: local" in out
    assert "(dry run: nothing written" in out


def test_a_config_that_cannot_be_merged_is_left_alone_with_the_lines_to_add(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    flow = "repos: [{repo: local, hooks: []}]\n"
    (tmp_path / ".pre-commit-config.yaml").write_text(flow)
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    assert (tmp_path / ".pre-commit-config.yaml").read_text() == flow
    assert "left as it is: its `repos:` is not a block list" in out
    assert "- id: test-policy-semgrep" in out


def test_a_semgrepignore_is_written_so_semgrep_scans_the_tests_and_an_existing_one_kept(
        tmp_path, capsys):
    make(tmp_path, "tests/unit")
    assert init(tmp_path) == 0
    written = (tmp_path / ".semgrepignore").read_text()
    assert "tests" not in written.replace("scan tests", "").replace("skips tests/", "")
    (tmp_path / ".semgrepignore").write_text("vendor/\n")
    assert init(tmp_path) == 0
    assert (tmp_path / ".semgrepignore").read_text() == "vendor/\n"


def test_a_missing_directory_is_a_usage_error(tmp_path, capsys):
    assert init(tmp_path / "nowhere") == 2
    assert "no such directory" in capsys.readouterr().err


def test_the_policy_name_given_with_policy_is_the_file_written_and_checked(tmp_path, capsys):
    make(tmp_path, "tests")
    assert main(["init", "--dir", str(tmp_path), "--policy", "test-policy.yaml"]) == 0
    capsys.readouterr()
    load_policy(tmp_path / "test-policy.yaml")
    hooks = (tmp_path / ".pre-commit-config.yaml").read_text()
    assert "generate --check --policy test-policy.yaml" in hooks
    workflow = (tmp_path / ".github/workflows/test-policy.yml").read_text()
    assert "audit test-results/ --policy test-policy.yaml" in workflow


def test_the_semgrep_hook_scans_the_files_the_policy_lints(tmp_path, capsys):
    make(tmp_path, "test/unit")
    assert init(tmp_path) == 0
    capsys.readouterr()
    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    hook = next(h for r in config["repos"] for h in r["hooks"] if h["id"] == "test-policy-semgrep")
    files = re.compile(hook["files"])
    for linted in ("test/unit/test_a.py", "test/helpers.py", "pkg/test_x.py", "conftest.py",
                   "src/app/thing_test.py"):
        assert files.search(linted), linted
    for not_linted in ("src/app/models.py", "tests_helpers.py", "docs/testing.py"):
        assert not files.search(not_linted), not_linted


def test_the_starter_policy_bans_what_this_repositorys_policy_bans(root):
    text = scaffold.render_policy(scaffold.detect_layout(["tests"]))
    starter = parse_policy(text.encode(), "starter policy.yaml")
    ours = load_policy(root / "policy.yaml").banned
    # allowed_paths is this repository's own choice (its integration tests spawn processes)
    assert starter.banned == tuple(p.model_copy(update={"allowed_paths": ()}) for p in ours)


def test_both_workflows_pin_the_same_action_releases(root):
    """ci.yml and the workflow init writes use one set of pins (scaffold.ACTIONS)."""
    ci = (root / ".github/workflows/ci.yml").read_text()
    uses = set(re.findall(r"uses: (\S+ # \S+)", ci))
    assert uses == {scaffold.pinned(action) for action in scaffold.ACTIONS}
    for action, (sha, _) in scaffold.ACTIONS.items():
        assert re.fullmatch(r"[0-9a-f]{40}", sha), action


def test_a_template_placeholder_without_a_value_is_an_error_not_a_blank():
    with pytest.raises(KeyError, match="python"):
        scaffold.fill("python-version: @@python@@", {})


def test_init_generates_the_rules_for_the_policy_it_wrote(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    written = sorted(p for p in (tmp_path / "rules").iterdir() if p.name != MANIFEST)
    assert written
    for path in written:
        assert f"wrote {path}" in out


def test_init_with_a_policy_in_a_subdirectory_writes_the_rules_generate_checks(tmp_path, capsys,
                                                                              monkeypatch):
    make(tmp_path, "tests/unit")
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--policy", "conf/policy.yaml"]) == 0
    assert (tmp_path / "conf" / "rules").is_dir()
    capsys.readouterr()
    assert main(["generate", "--check", "--policy", "conf/policy.yaml"]) == 0
