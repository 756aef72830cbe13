"""Which files `test-policy lint PATH...` scans: the policy's globs, relative to its directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_policy_engine.cli.lint import select
from test_policy_engine.lint.formats import Skipped
from test_policy_engine.policy.model import Lint

LINT = Lint(paths=("tests/**", "test_*.py", "conftest.py"), exclude=("tests/fixtures/**",))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name in ("tests/lib/local_repos.py", "tests/lib/README.txt", "tests/test_a.py",
                 "tests/fixtures/data.py", "src/pkg/mod.py", "test_top.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    return tmp_path


def lines(files: list[Path], skipped: list[Skipped]) -> tuple[list[Path], list[str]]:
    return files, [s.line() for s in skipped]


def rel(root: Path, files: list[Path]) -> list[str]:
    return [path.relative_to(root).as_posix() for path in files]


def test_a_directory_yields_every_python_file_the_globs_select_below_it(root: Path):
    files, skipped = lines(*select(root, [str(root / "tests")], LINT))
    assert rel(root, files) == ["tests/lib/local_repos.py", "tests/test_a.py"]
    assert skipped == []


def test_a_helper_directory_is_matched_relative_to_the_policy_not_to_itself(
        root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(root / "tests")
    files, skipped = lines(*select(root, ["lib", "test_a.py"], LINT))
    assert rel(root, files) == ["tests/lib/local_repos.py", "tests/test_a.py"]
    assert skipped == []


def test_a_named_file_no_glob_selects_is_reported_with_the_reason(
        root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(root / "src")
    files, skipped = lines(*select(root, ["pkg/mod.py", "../tests/fixtures/data.py",
                                   "../tests/lib/README.txt", "../src"], LINT))
    assert files == []
    assert skipped == [
        "not scanned: pkg/mod.py (lint.paths selects no such file"
        " (relative to the policy: src/pkg/mod.py))",
        "not scanned: ../tests/fixtures/data.py (excluded by lint.exclude 'tests/fixtures/**')",
        "not scanned: ../tests/lib/README.txt (not a Python file)",
        "not scanned: ../src (lint.paths selects no file in it)",
    ]


def test_paths_outside_the_policys_directory_or_missing_are_reported(root: Path,
                                                                      tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "test_x.py").write_text("")
    files, skipped = lines(*select(root, [str(elsewhere / "test_x.py"), str(elsewhere),
                                   str(root / "tests" / "gone.py")], LINT))
    assert files == []
    assert skipped == [
        f"not scanned: {elsewhere / 'test_x.py'} (outside the policy's directory {root})",
        f"not scanned: {elsewhere} (outside the policy's directory {root})",
        f"not scanned: {root / 'tests' / 'gone.py'} (no such file or directory)",
    ]


def test_a_file_named_twice_or_inside_a_named_directory_is_scanned_once(root: Path):
    files, _ = select(root, [str(root / "tests/test_a.py"), str(root / "tests"),
                             str(root / "test_top.py"), str(root / "tests/test_a.py")], LINT)
    assert rel(root, files) == ["test_top.py", "tests/lib/local_repos.py", "tests/test_a.py"]


def test_a_fifo_named_like_a_test_is_never_opened_and_a_named_one_is_reported(root: Path):
    import os

    fifo = root / "tests" / "test_pipe.py"
    os.mkfifo(fifo)
    files, skipped = lines(*select(root, [str(root / "tests")], LINT))
    assert rel(root, files) == ["tests/lib/local_repos.py", "tests/test_a.py"]
    files, skipped = lines(*select(root, [str(fifo)], LINT))
    assert files == []
    (line,) = skipped
    assert "not a regular file" in line
