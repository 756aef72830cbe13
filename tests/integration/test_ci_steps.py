"""Every `run:` step of .github/workflows/ci.yml is a command this suite runs.

A workflow only really runs on GitHub, so a broken step is found after the push. Here each
step's command is accounted for in STEPS, keyed by its exact text, in one of two ways:

- SANDBOX: the step's literal text runs under bash (as the runner runs it: `bash --noprofile
  --norc -eo pipefail`) in a small project in a temporary directory that has what the step
  expects: `tests/unit`, `tests/integration`, this repository's policy.yaml, and the
  environment the workflow gives the step (`GROUP`, `PY`, `GITHUB_ACTIONS`, ...). Together
  these steps are the pipeline in miniature: two pytest-split shards and the integration run
  write their JUnit files where the upload steps look for them, the files are merged into
  test-results/ as `download-artifact` with `merge-multiple` does, and the audit step reads them.
- EQUIVALENT: steps that install from PyPI or build environments (`pip install`, `make tools`,
  `pre-commit run`) are too slow or need the network. Each names what runs the same thing here
  and a check that it does: `make install` installs the `test` extra through `dev`; the tools
  `make tools` builds are the ones on this run's PATH; the pre-commit config validates and its
  hooks' commands exist (the hooks themselves are tested end to end with real git and
  pre-commit next to the rules).

A step added or edited without an entry here fails `test_every_run_step_is_accounted_for`,
and so does an entry whose step is gone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
SANDBOX, EQUIVALENT = "sandbox", "equivalent"


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def run_steps() -> list[tuple[str, str, str]]:
    """(job id, step name, command) for every `run:` step."""
    return [(job_id, step.get("name", ""), step["run"])
            for job_id, job in workflow()["jobs"].items()
            for step in job["steps"] if "run" in step]


def step(job_id: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in workflow()["jobs"][job_id]["steps"]
                                 if s.get("name") == name)
    return found


# ----- the equivalents ---------------------------------------------------------------------

def installs_the_test_extra() -> None:
    """`make install` runs `pip install -e '.[dev]'`, and `dev` includes `test`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m pip install" in makefile
    assert "-e '.[dev]'" in makefile
    with (ROOT / "pyproject.toml").open("rb") as handle:
        extras = tomllib.load(handle)["project"]["optional-dependencies"]
    assert "test-policy-engine[test]" in extras["dev"]
    for module in ("pytest_split", "pre_commit", "hypothesis", "junitparser", "test_policy_engine"):
        __import__(module)  # what `.[test]` brings is what this suite runs with


def builds_the_tools() -> None:
    """`make tools` is what put the checkers this suite runs on PATH."""
    for name in ("semgrep", "check-jsonschema", "zizmor"):
        assert f"$(TOOLS)/bin/{name}:" in (ROOT / "Makefile").read_text(encoding="utf-8")
        assert shutil.which(name), f"{name} not on PATH: run `make tools`"


def runs_pre_commit() -> None:
    config = ROOT / ".pre-commit-config.yaml"
    result = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(config)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for repo in yaml.safe_load(config.read_text(encoding="utf-8"))["repos"]:
        for hook in repo.get("hooks", []):
            if hook.get("language") == "system":
                command = hook["entry"].split()[0]
                assert shutil.which(command), f"hook {hook['id']}: {command} not on PATH"


#: Step command -> (SANDBOX, the test that runs it) or (EQUIVALENT, the check of what does).
STEPS: dict[str, tuple[str, str | Callable[[], None]]] = {
    "python -m pip install -e '.[test]'": (EQUIVALENT, installs_the_test_extra),
    "python -m pip install -e .": (EQUIVALENT, installs_the_test_extra),
    "make tools": (EQUIVALENT, builds_the_tools),
    "pre-commit run --all-files --show-diff-on-failure": (EQUIVALENT, runs_pre_commit),
    'python -m pytest tests/unit --splits 2 --group "$GROUP" --splitting-algorithm least_duration '
    '--junit-xml="test-results-unit-py$PY-$GROUP.xml" --durations=20':
        (SANDBOX, "test_the_sharded_unit_step_runs_every_test_exactly_once"),
    'PATH="$PWD/.tools/bin:$PATH" python -m pytest tests/integration '
    "--junit-xml=test-results-integration.xml --durations=20":
        (SANDBOX, "test_the_integration_step_writes_the_file_its_upload_step_uploads"),
    "python -m test_policy_engine audit test-results/ --durations-out .test_durations":
        (SANDBOX, "test_the_audit_step_reads_every_uploaded_file_and_writes_durations"),
}


def test_every_run_step_is_accounted_for():
    commands = {command.strip() for _, _, command in run_steps()}
    missing = sorted(commands - STEPS.keys())
    assert not missing, f"ci.yml steps with no entry in STEPS: {missing}"
    stale = sorted(STEPS.keys() - commands)
    assert not stale, f"STEPS entries for steps no longer in ci.yml: {stale}"
    for kind, what in STEPS.values():
        if kind == SANDBOX:
            assert callable(globals().get(str(what))), f"no test named {what}"


@pytest.mark.parametrize("command", [c for c, (kind, _) in STEPS.items() if kind == EQUIVALENT])
def test_an_equivalent_of_the_step_runs_here(command):
    _, check = STEPS[command]
    assert callable(check)
    check()


def test_every_uploaded_artifact_is_one_the_audit_job_downloads():
    jobs = workflow()["jobs"]
    pattern = step("test-performance-audit", "Download test results")["with"]["pattern"]
    assert pattern == "test-results-*"
    assert set(jobs["test-performance-audit"]["needs"]) == {"unit-tests", "integration-tests"}
    names = []
    for job_id in ("unit-tests", "integration-tests"):
        matrix = jobs[job_id].get("strategy", {}).get("matrix", {})
        upload = step(job_id, "Upload test results")
        assert upload["if"] == "always()"
        for python in matrix.get("python-version", [None]):
            for group in matrix.get("group", [None]):
                names.append(expand(upload["with"]["name"], python, group))
    assert all(name.startswith("test-results-") for name in names)
    assert len(names) == len(set(names)) == 4 * 2 + 1, names


def expand(text: str, python: str | None, group: int | None) -> str:
    text = text.replace("${{ matrix.python-version }}", str(python))
    return text.replace("${{ matrix.group }}", str(group))


# ----- the sandbox: the pipeline in miniature ---------------------------------------------

UNIT_TESTS = [f"test_unit_{i}" for i in range(6)]


def command_of(job_id: str, name: str) -> str:
    command: str = step(job_id, name)["run"].strip()
    assert STEPS[command][0] == SANDBOX
    return command


def bash(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a step's text as the runner does, with `python` being this interpreter."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PYTEST_", "GITHUB_", "TEST_POLICY_"))}
    clean["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{clean.get('PATH', '')}"
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
                          cwd=cwd, env=clean | env, capture_output=True, text=True,
                          check=False, timeout=120)


def names_in(junit: Path) -> list[str]:
    return [case.get("name", "") for case in ET.parse(junit).iter("testcase")]


def make_project(root: Path) -> Path:
    """A checkout in miniature: this repository's policy, a few unit and integration tests."""
    # Serial: the steps, not pytest-xdist, are under test, and the runs stay within 5 s.
    policy = (ROOT / "policy.yaml").read_text(encoding="utf-8")
    serial = policy.replace("parallel:\n  enabled: true\n", "parallel:\n  enabled: false\n")
    assert serial != policy, "policy.yaml's parallel section changed shape"
    (root / "policy.yaml").write_text(serial, encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (root / "tests" / "unit").mkdir(parents=True)
    (root / "tests" / "integration").mkdir()
    (root / "tests" / "unit" / "test_units.py").write_text(
        "".join(f"def {name}():\n    assert True\n\n\n" for name in UNIT_TESTS))
    (root / "tests" / "integration" / "test_boundary.py").write_text(
        "def test_crosses_a_boundary():\n    assert True\n")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("checkout"))


@pytest.fixture(scope="module")
def results(project: Path) -> Path:
    """The unit shards and the integration run, their files merged into test-results/."""
    merged = project / "test-results"
    merged.mkdir()
    jobs = workflow()["jobs"]
    python = jobs["unit-tests"]["strategy"]["matrix"]["python-version"][0]
    for group in jobs["unit-tests"]["strategy"]["matrix"]["group"]:
        ran = bash(command_of("unit-tests", "Run unit tests (one shard)"), project,
                   GROUP=str(group), PY=python)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        uploaded = expand(step("unit-tests", "Upload test results")["with"]["path"],
                          python, group)
        shutil.copy(project / uploaded, merged / uploaded)
    ran = bash(command_of("integration-tests", "Run integration tests"), project)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    uploaded = step("integration-tests", "Upload test results")["with"]["path"]
    shutil.copy(project / uploaded, merged / uploaded)
    return merged


@pytest.mark.slow  # the `results` fixture runs three pytest sessions first
def test_the_sharded_unit_step_runs_every_test_exactly_once(results):
    shards = sorted(results.glob("test-results-unit-*.xml"))
    assert [p.name for p in shards] == ["test-results-unit-py3.11-1.xml",
                                        "test-results-unit-py3.11-2.xml"]
    ran = [names_in(shard) for shard in shards]
    assert all(ran), "a shard ran nothing"
    assert sorted(ran[0] + ran[1]) == sorted(UNIT_TESTS)


@pytest.mark.slow  # the `results` fixture runs three pytest sessions first
def test_the_integration_step_writes_the_file_its_upload_step_uploads(results):
    assert names_in(results / "test-results-integration.xml") == ["test_crosses_a_boundary"]


@pytest.mark.slow  # the `results` fixture runs three pytest sessions first
def test_the_audit_step_reads_every_uploaded_file_and_writes_durations(project, results):
    summary = project / "summary.md"
    summary.touch()
    ran = bash(command_of("test-performance-audit", "Audit test durations"), project,
               GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "TEST PERFORMANCE AUDIT" in ran.stdout
    assert summary.read_text(encoding="utf-8").strip(), "no job summary written"
    durations = json.loads((project / ".test_durations").read_text(encoding="utf-8"))
    assert {f"tests/unit/test_units.py::{name}" for name in UNIT_TESTS} <= durations.keys()
    # The next run's shards, split by these durations, still run every test exactly once.
    again = []
    for group in (1, 2):
        rerun = bash(command_of("unit-tests", "Run unit tests (one shard)"), project,
                     GROUP=str(group), PY="next")
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "No test durations found" not in rerun.stdout
        again += names_in(project / f"test-results-unit-pynext-{group}.xml")
    assert sorted(again) == sorted(UNIT_TESTS)


ESTIMATE = re.compile(r"Running group (\d)/2 \(estimated duration: ([0-9.]+)s\)")


@pytest.mark.slow  # two sharded pytest runs and an audit: over 5 s under load
def test_shards_split_by_the_audits_durations_are_balanced(tmp_path):
    """Recorded times 0.9 ... 0.1 s: the two shards' predicted times differ by less than the
    longest test, and together they run every test once."""
    project = make_project(tmp_path)
    times = dict(zip(UNIT_TESTS, (0.9, 0.7, 0.5, 0.3, 0.2, 0.1), strict=True))
    cases = "".join(f'<testcase classname="tests.unit.test_units" name="{name}" time="{t}"/>'
                    for name, t in times.items())
    (project / "test-results").mkdir()
    (project / "test-results" / "test-results-unit.xml").write_text(
        f'<testsuites><testsuite name="pytest" tests="6">{cases}</testsuite></testsuites>')
    audit = bash(command_of("test-performance-audit", "Audit test durations"), project)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    estimates, ran = {}, []
    for group in (1, 2):
        shard = bash(command_of("unit-tests", "Run unit tests (one shard)"), project,
                     GROUP=str(group), PY="3.x")
        assert shard.returncode == 0, shard.stdout + shard.stderr
        found = ESTIMATE.search(shard.stdout)
        assert found, shard.stdout
        estimates[group] = float(found.group(2))
        ran += names_in(project / f"test-results-unit-py3.x-{group}.xml")
    assert sorted(ran) == sorted(UNIT_TESTS)
    assert estimates[1] + estimates[2] == pytest.approx(sum(times.values()), abs=0.02)
    assert abs(estimates[1] - estimates[2]) < max(times.values())
