"""Running a project's suite once for `test-policy init --check-parallel`: a real pytest.

The suite runs in a subprocess of this Python (the one `test-policy` is installed in, with
the project's test dependencies), in its own process group so that a run over its time
bound is stopped with its xdist workers. The category limits are off: the check is about
tests that break each other, not about time, and a parallel run on a busy machine is slower.
Each test is stopped after `TEST_TIMEOUT` seconds instead (`--timeout`, and `kill_after: 1`
in the copy of the policy the runs read): a test that waits for ever in parallel (for a
server its worker could not start) fails there instead of hanging the run.
The `adopt.outcomes` plugin records each test's outcome.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from test_policy_engine.adopt.outcomes import OUTCOMES_ENV
from test_policy_engine.adopt.parallel_check import Outcome, read_outcomes
from test_policy_engine.policy.errors import UserError

#: pytest's exit codes that mean the run itself went wrong (interrupted, internal error,
#: usage error, no tests collected).
#: Seconds after which one test is stopped (and fails) in a run of the check.
TEST_TIMEOUT = 60

BROKEN = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


@dataclass(frozen=True)
class Run:
    outcomes: dict[str, Outcome]
    seconds: float


def command(paths: Sequence[str], policy: Path, workers: int, dist: str) -> list[str]:
    """The pytest command line of one run (`workers` 0: serial). `--policy=PATH` is one
    argument: pytest takes a separate path argument into its rootdir's common ancestor."""
    parallel = ["-n", str(workers), "--dist", dist] if workers else ["-n", "0"]
    return [sys.executable, "-m", "pytest", *paths, "-p", "test_policy_engine.adopt.outcomes",
            "-p", "no:cacheprovider", f"--timeout={TEST_TIMEOUT}", f"--policy={policy}", "-q",
            "--no-header", "-rN", *parallel]


def run_copy(policy_text: str) -> str:
    """The policy the runs read: `policy_text` with `kill_after: 1` (the kill at the limit)
    and no runtime guard (`forbid`): a guarded call that only a slower, parallel run reaches
    (a timeout that fires later) is load, not tests breaking each other."""
    data = yaml.safe_load(policy_text)
    if isinstance(data, dict):
        data["kill_after"] = 1
        categories = data.get("categories")
        for category in categories.values() if isinstance(categories, dict) else ():
            if isinstance(category, dict):
                category.pop("forbid", None)
    return yaml.safe_dump(data, sort_keys=False)


def run_suite(root: Path, argv: list[str], outcomes: Path, timeout: float) -> Run:
    """Run `argv` in `root`; UserError when it does not finish in `timeout` seconds or
    pytest says the run itself broke."""
    env = dict(os.environ, **{OUTCOMES_ENV: str(outcomes)})
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    outcomes.unlink(missing_ok=True)
    started = time.monotonic()
    # nosemgrep: test-policy.real-subprocess (the check runs the project's real suite)
    process = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise UserError(f"{root}: `{' '.join(argv[1:])}` did not finish in {timeout:g} s; "
                        "hint: --run-timeout SECONDS allows longer runs") from None
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    seconds = time.monotonic() - started
    if process.returncode in BROKEN or not outcomes.exists():
        tail = "\n".join(output.strip().splitlines()[-15:])
        what = BROKEN.get(process.returncode, f"exit code {process.returncode}")
        raise UserError(f"{root}: `{' '.join(argv[1:])}` stopped ({what}); hint: make "
                        f"`python -m pytest` pass serially first. Its last lines:\n{tail}")
    return Run(read_outcomes(outcomes.read_text(encoding="utf-8")), seconds)
