"""`make demo` works: every step runs and shows what the README promises.

It also shows the seed's success criteria on the bundled example: the CI audit catches
the slow tests, Semgrep catches the real sleep / HTTP / subprocess, and the too-slow unit
test is stopped at its 1 s limit by a run on several workers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"),
                                   os.path.dirname(sys.executable), env.get("PATH", "")])
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run([sys.executable, "scripts/demo.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=110)


@pytest.mark.slow
@pytest.mark.timeout(120)  # the demo runs a whole parallel pytest session and Semgrep
def test_the_demo_runs_every_step_and_exits_0(demo):
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    headings = re.findall(r"^=== (\d)\. ", demo.stdout, flags=re.M)
    assert headings == ["1", "2", "3", "4"]
    assert "=== What you just saw" in demo.stdout


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_demo_shows_semgrep_rejecting_real_calls_but_not_their_mocked_twins(demo):
    lint = demo.stdout.split("=== 2.", 1)[1].split("=== 3.", 1)[0]
    for rule in ("test-policy.real-sleep", "test-policy.real-urllib",
                 "test-policy.real-subprocess"):
        assert rule in lint
    assert "[exit code 1," in lint


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_demo_stops_the_slow_unit_test_at_one_second_on_several_workers(demo):
    # The README's criteria table names this test; it now checks the verdict (the test
    # runs to its end and fails its 1 s limit with one line), not an interruption.
    run = demo.stdout.split("=== 3.", 1)[1].split("=== 4.", 1)[0]
    assert re.search(r"^created: [2-9] workers?", run, flags=re.M) or "[gw1]" in run
    assert re.search(r"^over its unit limit: took 2\.\d\d s, limit 1 s \(tests/unit/\*\* "
                     r"-> unit\)", run, flags=re.M)
    assert "1 failed, 11 passed" in run


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_demo_audit_fails_the_build_on_python_and_vitest_results(demo):
    audit = demo.stdout.split("=== 4.", 1)[1].split("=== What", 1)[0]
    assert "=== TEST PERFORMANCE AUDIT ===" in audit
    assert "test_retry_gives_up_after_three_attempts_real_sleep: 2.0s (limit: 1.0s)" in audit
    assert "Checkout > retries a failed payment: 1.4s (limit: 1.0s) [unit]" in audit
    assert "Summary: 2 failures, 2 warnings" in audit
    assert "[exit code 1," in audit
