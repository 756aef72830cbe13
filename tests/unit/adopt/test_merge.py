"""Adding the engine's hooks to an existing pre-commit config, and reading pytest's settings."""

from __future__ import annotations

import yaml
from test_policy_engine.adopt import merge, pytest_config, scaffold

ENTRY = scaffold.render_hooks_entry(scaffold.detect_layout(["tests"]), "policy.yaml")


def ids(text: str) -> list[str]:
    return [h["id"] for r in yaml.safe_load(text)["repos"] for h in r["hooks"]]


def test_the_entry_goes_after_the_last_item_and_before_the_next_top_level_key():
    existing = ("repos:\n  - repo: meta\n    hooks:\n      - id: identity\n\n"
                "# settings\nci:\n  skip: []\n")
    merged = merge.add_entry(existing, ENTRY).text
    assert merged is not None
    assert merged.startswith("repos:\n  - repo: meta\n    hooks:\n      - id: identity\n"
                             "  # test-policy-engine: added by `test-policy init`\n"
                             "  - repo: local\n")
    assert merged.endswith("\n\n# settings\nci:\n  skip: []\n")
    assert ids(merged) == ["identity", "test-policy-rules-in-sync", "test-policy-semgrep"]


def test_the_entry_is_set_apart_by_a_blank_line_where_the_files_items_are():
    existing = ("repos:\n  - repo: meta\n    hooks:\n      - id: identity\n\n"
                "  - repo: local\n    hooks:\n      - id: mine\n")
    merged = merge.add_entry(existing, ENTRY).text
    assert merged is not None
    assert merged.startswith(existing + "\n  # test-policy-engine: added by `test-policy init`\n")
    assert ids(merged) == ["identity", "mine", "test-policy-rules-in-sync", "test-policy-semgrep"]


def test_a_file_without_a_final_newline_or_with_crlf_lines_stays_as_it_was_around_the_entry():
    merged = merge.add_entry("repos:\r\n- repo: meta\r\n  hooks:\r\n  - id: identity", ENTRY).text
    assert merged is not None
    assert merged.startswith("repos:\r\n- repo: meta\r\n  hooks:\r\n  - id: identity\r\n# test-")
    assert "\n" not in merged.replace("\r\n", "")
    assert ids(merged)[-1] == "test-policy-semgrep"


def test_a_config_that_has_the_hooks_is_left_alone_and_says_so():
    once = merge.add_entry("repos:\n- repo: meta\n  hooks:\n  - id: identity\n", ENTRY).text
    assert once is not None
    again = merge.add_entry(once, ENTRY)
    assert again.text is None
    assert again.reason.startswith("already has the engine's hooks")


def test_a_flow_style_repos_list_is_not_rewritten():
    result = merge.add_entry("repos: [{repo: meta, hooks: [{id: identity}]}]\n", ENTRY)
    assert result.text is None
    assert "not a block" in result.reason


def test_pytest_ini_is_read_before_pyproject_as_pytest_does():
    files = {"pytest.ini": "[pytest]\ntimeout = 5\n",
             "pyproject.toml": "[tool.pytest.ini_options]\ntimeout = 120\n"}
    found = pytest_config.find(files.get)
    assert found is not None
    assert found.where == "pytest.ini [pytest]"
    assert pytest_config.notes(found)[0].startswith("timeout = 5: replaced by the policy")


def test_a_pyproject_without_a_pytest_table_is_not_a_pytest_config():
    found = pytest_config.find({"pyproject.toml": "[project]\nname = 'x'\n",
                                "setup.cfg": "[tool:pytest]\naddopts = -p no:xdist\n"}.get)
    assert found is not None
    assert found.where == "setup.cfg [tool:pytest]"
    assert pytest_config.notes(found) == [
        "addopts -p no:xdist: the run stays serial whatever `parallel:` says"]
