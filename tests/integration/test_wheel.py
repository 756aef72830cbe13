"""The built wheel, installed beside a project that has a top-level `engine` package of its
own: the project's pytest runs with the plugin, and nothing of ours answers to `engine`.

The wheel is built from this checkout and installed with `--no-deps` into a fresh virtual
environment; its dependencies (pydantic, pytest, ...) come from this test run's own
environment through a `.pth` line, so the test needs no network beyond building the wheel.
A `.pth` line only adds a directory to `sys.path`: the editable install of this checkout
that lives there is not activated, so every `test_policy_engine` import is the wheel's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

POLICY = """\
version: 1
categories:
  unit: {limit: 1, default: true}
parallel: {enabled: false}
"""

PROJECT_TEST = """\
import engine

def test_the_projects_own_engine_is_imported():
    assert engine.WHO == "the project's engine"
"""


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # built from a copy: setuptools builds in the source tree (build/, *.egg-info), and two
    # workers building this checkout at once collided there ("File exists")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "engine", source / "engine",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                "--disable-pip-version-check", "-w", out, source, cwd=out)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("test_policy_engine-*.whl")
    return found


@pytest.fixture(scope="module")
def fresh_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    made = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
               cwd=venv).stdout.strip()
    (Path(site) / "test_run_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "-q",
                    "--no-deps", "--disable-pip-version-check", wheel, cwd=venv)
    assert installed.returncode == 0, installed.stderr
    return python


@pytest.mark.slow
def test_the_wheel_holds_only_the_test_policy_engine_package(wheel: Path) -> None:
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"test_policy_engine", wheel.name.split("-py3")[0] + ".dist-info"}
    entry_points = zipfile.ZipFile(wheel).read(
        wheel.name.split("-py3")[0] + ".dist-info/entry_points.txt").decode()
    assert "test_policy = test_policy_engine.plugin.hooks" in entry_points
    assert "test-policy = test_policy_engine.cli.main:main" in entry_points


@pytest.mark.slow
def test_a_project_with_its_own_engine_package_runs_its_pytest_with_the_plugin(
        fresh_python: Path, tmp_path: Path) -> None:
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "__init__.py").write_text('WHO = "the project\'s engine"\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_it.py").write_text(PROJECT_TEST)
    (tmp_path / "policy.yaml").write_text(POLICY)

    done = run(fresh_python, "-m", "pytest", "-v", "-p", "no:cacheprovider",
               "--junit-xml=out.xml", cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "test-policy: policy.yaml" in done.stdout
    assert "1 passed" in done.stdout
    assert 'name="test_policy.category" value="unit"' in (tmp_path / "out.xml").read_text()


@pytest.mark.slow
def test_the_fresh_environment_has_the_command_and_no_engine_module(
        fresh_python: Path, tmp_path: Path) -> None:
    probe = ("import importlib.util, json, test_policy_engine; "
             "print(json.dumps([importlib.util.find_spec('engine') is None, "
             "test_policy_engine.__file__]))")
    no_engine, origin = json.loads(run(fresh_python, "-c", probe, cwd=tmp_path).stdout)
    assert no_engine
    assert "site-packages" in origin  # the wheel's copy, not this checkout's
    version = run(fresh_python, "-m", "test_policy_engine", "--version", cwd=tmp_path)
    assert version.stdout.startswith("test-policy ")
    assert (fresh_python.parent / "test-policy").is_file()
