"""Shared by the Semgrep benchmarks: a throw-away project with the shipped policy's rules."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from test_policy_engine.policy.loader import load_policy  # noqa: E402
from test_policy_engine.rules.semgrep import render_rules  # noqa: E402

BASE = ("scan", "--error", "--metrics=off", "--disable-version-check", "--quiet")

VIOLATION = '''

def test_real_sleep_{n}():
    time.sleep(2)
'''

PURE_FILE = '''import pytest


@pytest.fixture
def numbers_{n}():
    return list(range({n} % 7 + 3))


def test_sum_{n}(numbers_{n}):
    assert sum(numbers_{n}) > 0


@pytest.mark.parametrize("x", [1, 2, 3])
def test_param_{n}(x):
    assert x * 2 == x + x
'''

TEST_FILE = '''import pytest
import time
import requests
import subprocess


def test_mocked_sleep_{n}(mocker):
    mocker.patch("time.sleep")
    time.sleep(1)


def test_pure_{n}():
    assert sum(range({n} % 7 + 3)) > 0


def test_with_fake_process_{n}(fp):
    subprocess.run(["git", "status"])


@pytest.mark.parametrize("x", [1, 2, 3])
def test_param_{n}(x):
    assert x * 2 == x + x
'''

#: One trivial rule: a call pattern that never matches (time.sleep takes one argument).
#: Every benchmark file mentions `time.sleep`, so Semgrep's prefilter lets it through and it
#: parses and matches every file, as the real rules must, without printing findings (output
#: of many findings costs more than matching). A rule whose text appears in no file would
#: be skipped without parsing.
TRIVIAL_RULE = """rules:
- id: trivial
  languages: [python]
  severity: ERROR
  message: never matches
  pattern: time.sleep($A, $B, $C, $D)
"""

def semgrep() -> str:
    found = shutil.which("semgrep") or str(ROOT / ".tools" / "bin" / "semgrep")
    if not Path(found).exists():
        sys.exit("semgrep not found: run `make tools` first")
    return found


def make_project(where: Path, files: int, mix: str = "worst") -> list[str]:
    """`worst`: every file mocks a sleep, a subprocess and imports requests (every rule runs
    on every file). `typical`: 1 file in 10 does, the rest are plain tests. In both, 1 file
    in 50 has a real sleep."""
    (where / "rules").mkdir(parents=True)
    (where / "trivial").mkdir()
    (where / "trivial" / "trivial.yaml").write_text(TRIVIAL_RULE)
    for name, text in render_rules(load_policy(ROOT / "policy.yaml")).items():
        if name.endswith(".yaml"):
            (where / "rules" / name).write_text(text)
    tests = where / "tests"
    tests.mkdir()
    paths = []
    for n in range(files):
        path = tests / f"test_module_{n:04d}.py"
        body = TEST_FILE if mix == "worst" or n % 10 == 0 else PURE_FILE
        text = body + (VIOLATION if n % 50 == 0 else "")
        if "import time" not in text:
            text = "import time\n" + text
        path.write_text(text.format(n=n))
        paths.append(str(path.relative_to(where)))
    return paths


def interleaved(first: list[str], second: list[str], cwd: Path,
                runs: int) -> tuple[float, float, float]:
    """Medians of both commands run in turn (the machine is shared: both see the same load),
    and the median of the per-turn ratios first/second."""
    a, b, ratios = [], [], []
    for _ in range(runs):
        one, _ = timed(first, cwd, 1)
        two, _ = timed(second, cwd, 1)
        a.append(one)
        b.append(two)
        ratios.append(one / two)
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


def timed(command: list[str], cwd: Path, runs: int) -> tuple[float, bytes]:
    times = []
    out = b""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-500:]!r}")
        out = done.stdout
    return statistics.median(times), out


BLOCK = '''

@pytest.mark.parametrize("value", [1, 2, 3])
def test_block_{n}_{b}(value, mocker):
    mocker.patch("time.sleep")
    time.sleep(value)
    assert sum(range(value + {b})) >= 0


class TestBlock{n}x{b}:
    def test_method(self, fp):
        subprocess.run(["git", "status"])
        assert {b} + 1 > {b}
'''


def make_suite(where: Path, files: int = 80, total_bytes: int = 2_000_000) -> list[str]:
    """A suite of `files` test files of about `total_bytes` in all (the issue's 2 MB, 80-file
    suite): mocked sleeps and processes throughout, so every rule parses and matches every
    file, and a real sleep in 1 file in 20."""
    make_project(where, 0)
    per_file = total_bytes // files
    tests = where / "tests"
    paths = []
    for n in range(files):
        parts = ["import subprocess\nimport time\n\nimport pytest\n"]
        size = len(parts[0])
        b = 0
        while size < per_file:
            block = BLOCK.format(n=n, b=b)
            parts.append(block)
            size += len(block)
            b += 1
        if n % 20 == 0:
            parts.append(VIOLATION.format(n=n))
        path = tests / f"test_suite_{n:03d}.py"
        path.write_text("".join(parts))
        paths.append(str(path.relative_to(where)))
    return paths
