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

WRITTEN = ("policy.yaml", ".pre-commit-config.yaml", ".github/workflows/test-policy.yml",
           ".semgrepignore")
ROOT = Path(__file__).resolve().parents[3]


def make(root: Path, *dirs: str) -> Path:
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    return root


def init(root: Path, *extra: str) -> int:
    return main(["init", "--dir", str(root), *extra])


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `root`: its bytes and modification time."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


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
    assert "no tests/, test/, testing/ or src/<package>/tests/ directory" in capsys.readouterr().out
    assert load_policy(tmp_path / "policy.yaml").default_category == "unit"


def test_init_says_what_it_wrote(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    for name in WRITTEN:
        assert (tmp_path / name).is_file()
        assert f"wrote {tmp_path / name}" in out


def test_init_keeps_an_existing_policy_and_workflow_and_says_how_to_merge(tmp_path, capsys):
    make(tmp_path, "tests/unit", ".github/workflows")
    (tmp_path / "policy.yaml").write_text((ROOT / "policy.yaml").read_text())
    (tmp_path / ".github/workflows/test-policy.yml").write_text("mine too\n")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'policy.yaml'}: kept: never overwritten (--force replaces it)" in out
    assert "test-policy.yml: kept: it differs from what init writes" in out
    assert "`test-policy init --dry-run --force`" in out
    assert (tmp_path / "policy.yaml").read_text() == (ROOT / "policy.yaml").read_text()
    assert (tmp_path / ".github/workflows/test-policy.yml").read_text() == "mine too\n"
    assert (tmp_path / ".pre-commit-config.yaml").is_file(), "the missing files are still written"


def test_a_broken_existing_policy_stops_init_with_its_own_error(tmp_path, capsys):
    (tmp_path / "policy.yaml").write_text("version: 1\ncategories: {}\n")
    assert init(tmp_path) == 2
    assert "policy.yaml:" in capsys.readouterr().err
    assert not (tmp_path / ".pre-commit-config.yaml").exists(), "wrote despite the error"


def test_rules_of_the_users_own_are_kept_beside_the_generated_ones(tmp_path, capsys):
    make(tmp_path, "rules")
    (tmp_path / "rules" / "custom.yaml").write_text("rules: []\n")
    assert init(tmp_path) == 0
    assert "custom.yaml: kept (not generated by test-policy)" in capsys.readouterr().out
    assert (tmp_path / "rules" / "custom.yaml").read_text() == "rules: []\n"
    assert (tmp_path / "rules" / "real-sleep.yaml").is_file()


def test_force_replaces_the_policy_and_says_how_much_of_it_goes(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / "policy.yaml").write_text("# mine\n" + (ROOT / "policy.yaml").read_text())
    lines = len((tmp_path / "policy.yaml").read_text().splitlines())
    assert init(tmp_path, "--force") == 0
    out = capsys.readouterr().out
    assert f"policy.yaml: replaced (--force: your {lines} lines are gone, unless committed)" in out
    assert load_policy(tmp_path / "policy.yaml").categories["unit"].paths == ("tests/unit/**",)


def test_a_second_init_changes_no_file_and_says_so(tmp_path, capsys):
    make(tmp_path, "tests/unit", "tests/integration")
    assert init(tmp_path) == 0
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert init(tmp_path) == 0
    assert "nothing to change: this repository is set up" in capsys.readouterr().out
    assert snapshot(tmp_path) == before


def test_a_second_init_does_not_call_the_list_of_generated_rules_the_users_own(tmp_path,
                                                                               capsys):
    make(tmp_path, "tests/unit")
    assert init(tmp_path) == 0
    capsys.readouterr()
    assert init(tmp_path) == 0
    assert "not generated by test-policy" not in capsys.readouterr().out


def test_a_dry_run_prints_diffs_and_writes_nothing(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos:\n  - repo: local\n    hooks: []\n")
    before = snapshot(tmp_path)
    assert init(tmp_path, "--dry-run") == 0
    out = capsys.readouterr().out
    assert snapshot(tmp_path) == before
    assert "--- /dev/null\n+++ b/policy.yaml\n" in out
    assert "--- a/.pre-commit-config.yaml\n+++ b/.pre-commit-config.yaml\n" in out
    assert "+  - repo: local\n+    hooks:\n" in out
    assert f"would write {tmp_path / '.semgrepignore'}" in out
    assert "dry run: nothing written" in out


def test_a_repository_without_rule_tests_gets_the_rules_only(tmp_path, capsys):
    make(tmp_path, "tests")
    assert init(tmp_path) == 0
    capsys.readouterr()
    assert load_policy(tmp_path / "policy.yaml").lint.rule_tests is False
    assert {p.suffix for p in (tmp_path / "rules").iterdir() if p.name != MANIFEST} == {".yaml"}
    assert main(["generate", "--check", "--policy", str(tmp_path / "policy.yaml")]) == 0


def test_the_semgrepignore_written_lets_semgrep_scan_the_tests(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    assert init(tmp_path) == 0
    capsys.readouterr()
    ignore = (tmp_path / ".semgrepignore").read_text()
    assert scaffold.ignores_tests(ignore, scaffold.detect_layout(["tests"])) == []
    assert ".venv/" in ignore.splitlines()


def test_an_existing_semgrepignore_that_skips_tests_is_kept_and_named(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / ".semgrepignore").write_text("docs/\n/tests/\n")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    assert ".semgrepignore: kept, but it lists /tests/: Semgrep skips those test files" in out
    assert (tmp_path / ".semgrepignore").read_text() == "docs/\n/tests/\n"


def test_a_testing_directory_is_a_test_root(tmp_path, capsys):
    make(tmp_path, "testing")
    assert init(tmp_path) == 0
    assert "layout: testing/ (flat)" in capsys.readouterr().out
    assert category_of(tmp_path, "testing/test_hooks.py") == "unit"
    assert "testing/**" in load_policy(tmp_path / "policy.yaml").lint.paths


def test_tests_inside_a_src_package_are_found_by_category(tmp_path, capsys):
    make(tmp_path, "src/shop/tests/unit", "src/shop/tests/integration")
    assert init(tmp_path) == 0
    capsys.readouterr()
    assert category_of(tmp_path, "src/shop/tests/integration/test_db.py") == "integration"
    assert category_of(tmp_path, "src/shop/tests/unit/test_cart.py") == "unit"
    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    hook = next(h for r in config["repos"] for h in r["hooks"] if h["id"] == "test-policy-semgrep")
    assert re.search(hook["files"], "src/shop/tests/integration/helpers.py")
    assert not re.search(hook["files"], "src/shop/models.py")


def test_init_says_which_pytest_settings_the_policy_replaces(tmp_path, capsys):
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    (tmp_path / "tox.ini").write_text(
        "[pytest]\ntimeout = 120\naddopts = -ra -n auto --dist loadscope --timeout=300\n")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    assert "pytest config (tox.ini [pytest]), with the policy in force:" in out
    assert "  timeout = 120: replaced by the policy's category limits" in out
    assert "  addopts -n auto: pytest-xdist keeps it" in out
    assert "  addopts --dist loadscope: pytest-xdist keeps it" in out
    assert "  addopts --timeout=300: overrides every category limit of the policy" in out


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
    assert "entry: test-policy lint --policy test-policy.yaml" in hooks
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


def test_check_parallel_without_a_policy_says_to_run_init_first_and_runs_nothing(
        tmp_path, capsys):
    make(tmp_path, "tests")
    assert init(tmp_path, "--check-parallel") == 2
    err = capsys.readouterr().err
    assert "policy.yaml: no policy to check against" in err
    assert "hint: run `test-policy init` first" in err
    assert list(tmp_path.iterdir()) == [tmp_path / "tests"]


@pytest.mark.parametrize(("extra", "message"), [
    (("--write",), "--write: only with --check-parallel"),
    (("--check-parallel", "--workers", "1"), "--workers: a parallel run needs 2 or more (got 1)"),
])
def test_check_parallel_options_out_of_place_are_refused_in_one_line(tmp_path, capsys, extra,
                                                                    message):
    make(tmp_path, "tests")
    (tmp_path / "policy.yaml").write_text(
        "version: 1\ncategories:\n  unit: {limit: 1, default: true}\n")
    assert init(tmp_path, *extra) == 2
    assert message in capsys.readouterr().err


def test_pytest_mypy_plugins_cases_get_a_typecheck_category_by_their_file_name(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / "tests" / "unit" / "test_mypy.yml").write_text("- case: one\n  main: 'x = 1'\n")
    assert init(tmp_path) == 0
    assert "pytest-mypy-plugins cases (test_*.yml): category typecheck" in capsys.readouterr().out
    assert category_of(tmp_path, "tests/unit/test_mypy.yml") == "typecheck"
    assert category_of(tmp_path, "tests/unit/test_api.py") == "unit"
    text = (tmp_path / "policy.yaml").read_text()
    assert "# pytest-mypy-plugins runs mypy, in a process of its own" in text


def test_hypothesis_tests_get_a_property_category_by_the_marker_hypothesis_adds(tmp_path,
                                                                               capsys):
    make(tmp_path, "tests/unit", "tests/integration")
    (tmp_path / "tests" / "unit" / "test_props.py").write_text(
        "from hypothesis import given, strategies as st\n")
    assert init(tmp_path) == 0
    assert "Hypothesis tests (marker hypothesis): category property, 10 s" in (
        capsys.readouterr().out)
    classifier = Classifier(load_policy(tmp_path / "policy.yaml"))
    assert classifier.classify("tests/unit/test_props.py", ["hypothesis"]).category == "property"
    assert classifier.classify("tests/integration/t.py", ["hypothesis"]).category == "property"
    assert classifier.classify("tests/unit/test_props.py", []).category == "unit"
    assert "# Hypothesis marks each @given test `hypothesis`" in (
        tmp_path / "policy.yaml").read_text()


def test_a_repository_without_yaml_cases_or_hypothesis_gets_neither_category(tmp_path, capsys):
    make(tmp_path, "tests/unit")
    (tmp_path / "tests" / "unit" / "test_a.py").write_text("# hypothesis is a word here\n")
    (tmp_path / "tests" / "unit" / "data.yml").write_text("a: 1\n")
    assert init(tmp_path) == 0
    capsys.readouterr()
    assert set(load_policy(tmp_path / "policy.yaml").categories) == {"unit", "integration", "slow"}


@pytest.mark.parametrize("config", [
    # pluggy 1.7.0's tox.ini: the doctest options are commented out
    "[pytest]\ntestpaths = testing\n#--pyargs --doctest-modules --ignore=.tox\naddopts=-r a\n",
    "[pytest]\naddopts = -r a\n  ; --doctest-glob='*.md' was too slow\n",
    "[tool.pytest.ini_options]\n# addopts = \"--doctest-modules\"\naddopts = \"-ra\"\n",
])
def test_doctest_options_in_a_comment_give_no_doctest_category(tmp_path, capsys, config):
    make(tmp_path, "tests/unit", "src/pkg")
    name = "pyproject.toml" if config.startswith("[tool") else "tox.ini"
    (tmp_path / name).write_text(config)
    assert init(tmp_path) == 0
    assert "doctests (" not in capsys.readouterr().out
    assert "doctest" not in load_policy(tmp_path / "policy.yaml").categories


@pytest.mark.parametrize(("config", "paths"), [
    ("[pytest]\naddopts = --doctest-modules\n", ("src/**",)),
    ("[pytest]\naddopts = --doctest-glob='*.md'\n", ("*.md",)),
    ("[pytest]\naddopts = --doctest-modules --doctest-glob\n", ("src/**", "*.md", "*.rst",
                                                                  "test*.txt")),
])
def test_doctests_get_a_category_for_the_files_pytest_collects_them_from(tmp_path, capsys,
                                                                        config, paths):
    make(tmp_path, "tests/unit", "src/pkg/tests/unit")
    (tmp_path / "tox.ini").write_text(config)
    assert init(tmp_path) == 0
    assert "doctests (" in capsys.readouterr().out
    policy = load_policy(tmp_path / "policy.yaml")
    assert policy.categories["doctest"].paths == paths
    assert policy.categories["doctest"].forbid is None
    classifier = Classifier(policy)
    assert classifier.by_path("tests/unit/test_a.py").category == "unit"
    assert classifier.by_path("src/pkg/tests/unit/test_a.py").category == "unit"
    if "src/**" in paths:
        assert classifier.by_path("src/pkg/mod.py").category == "doctest"


def test_every_job_of_the_workflow_installs_the_engine_pinned_to_this_release(tmp_path, capsys):
    import importlib.metadata

    make(tmp_path, "tests")
    assert init(tmp_path) == 0
    capsys.readouterr()
    workflow = yaml.safe_load((tmp_path / scaffold.WORKFLOW).read_text())
    installs = [step["run"] for job in workflow["jobs"].values() for step in job["steps"]
                if step.get("name") == "Install"]
    pin = f'"test-policy-engine=={importlib.metadata.version("test-policy-engine")}"'
    assert len(installs) == 3
    assert all(pin in run for run in installs), installs


def _test_job_install(root: Path) -> str:
    workflow = yaml.safe_load((root / scaffold.WORKFLOW).read_text())
    (run,) = [step["run"] for step in workflow["jobs"]["tests"]["steps"]
              if step.get("name") == "Install"]
    return str(run)


@pytest.mark.parametrize(("files", "expected"), [
    ({"pyproject.toml": '[project]\nname = "x"\n[project.optional-dependencies]\n'
                        'docs = ["sphinx"]\ntesting = ["pytest-mock"]\n'}, '-e ".[testing]"'),
    ({"requirements/tests.txt": "pytest-mock\n", "requirements/docs.txt": "sphinx\n"},
     "-e . -r requirements/tests.txt"),
    ({"pyproject.toml": '[dependency-groups]\ndev = ["pre-commit"]\ntesting = ["pytest"]\n'},
     '--upgrade "pip>=25.1" && python -m pip install -e . --group testing'),
    ({"pyproject.toml": "[project\nbroken"}, "-e ."),
    ({}, "-e ."),
], ids=["extra", "requirements-file", "dependency-group", "unparsable-pyproject", "neither"])
def test_the_workflow_installs_the_project_with_its_test_extra_or_requirements(
        tmp_path, capsys, files, expected):
    make(tmp_path, "tests")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert init(tmp_path) == 0
    capsys.readouterr()
    assert _test_job_install(tmp_path).startswith(f"python -m pip install {expected} ")
