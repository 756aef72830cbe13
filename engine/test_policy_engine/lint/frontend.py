"""Which Semgrep command line runs the rules, and running it.

Semgrep's pip package installs a Python `semgrep` script that either runs the standard
(Python) command line or, with `--experimental`, execs its native `semgrep-core` binary
under the name `osemgrep` (the OCaml command line). `benchmarks/bench_semgrep_hook.py`
measures the three ways on 1-10 files: the standard CLI 2-7 s, `semgrep --experimental`
0.5-0.8 s, `semgrep-core` run as `osemgrep` directly 0.3-0.6 s (no Python start), with the
same findings on every rule test and regression sample
(tests/integration/test_semgrep_rules.py checks that on each run). So `lint` runs
`semgrep-core` as `osemgrep` when it finds the binary in the package beside the `semgrep`
on PATH (or `semgrep-core` on PATH, as Homebrew and the Docker image install it), else
`semgrep scan --experimental`; `TEST_POLICY_SEMGREP_CLI=standard` forces the standard CLI.

How the OCaml front end runs in parallel matters as much as the rules (measured on the
benchmark suite, 80 files, 2 MB, `benchmarks/bench_semgrep_scan.py`; 2 shared CPUs, load
2.5-3.5): its default, one thread per CPU (`-j2`), 28 s; `-j1` 15 s; `--x-parmap -j2`
(forked worker processes) 15 s under load and the fastest when the machine is idle; on the
10 files of a commit `-j1` 1.5 s, `--x-parmap -j2` 1.6 s, `-j2` 3.9 s. So a batch of
`PARMAP_MIN` files or more runs with `--x-parmap -j <CPUs>`, a smaller one with `-j1`; a
Semgrep that rejects `--x-parmap` (exit 2) is run again without it.

With what a run passes Semgrep trimmed to what its files can trigger (`plan`, `prune`;
docs/rules.md "What a run passes Semgrep"), idle: on 1-10 staged files `lint` 0.18-0.21 s,
`pre-commit run` 0.32-0.33 s, 0.07-0.13x the standard `semgrep scan` (both bars met); on
the 80-file suite `lint` 1.46 s (the 2 s bar met), `--x-parmap -j2` with every rule 2.05 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FRONTENDS = ("osemgrep", "experimental", "standard")
#: Offline, quiet, no telemetry: the version check retries for minutes without a network.
FLAGS = ("--json", "--quiet", "--metrics=off", "--disable-version-check")
ENV_CLI = "TEST_POLICY_SEMGREP_CLI"
#: From this many files on, the OCaml front end forks workers (`--x-parmap`); below, one job.
PARMAP_MIN = 30


class SemgrepFailed(Exception):
    """Semgrep exited with an error or printed no JSON; the message says what it printed."""


@dataclass(frozen=True)
class Frontend:
    name: str  # one of FRONTENDS
    semgrep: str  # the `semgrep` script (standard, experimental) or semgrep-core (osemgrep)

    def command(self, config: Path, files: list[str],
                parallel: bool = True) -> tuple[list[str], str]:
        """argv (argv[0] as the program sees it) and the executable to run; with `parallel`,
        the OCaml front ends get the jobs flags `jobs` chooses."""
        jobs = list(self.jobs(len(files))) if parallel else []
        if self.name == "osemgrep":
            return ["osemgrep", "scan", "--experimental", *jobs, *FLAGS, "--config",
                    str(config), *files], self.semgrep
        extra = ["--experimental", *jobs] if self.name == "experimental" else []
        return [self.semgrep, "scan", *extra, *FLAGS, "--config", str(config), *files], \
            self.semgrep

    def jobs(self, count: int) -> tuple[str, ...]:
        """`-j1` for a small batch, `--x-parmap -j <CPUs>` from `PARMAP_MIN` files on (OCaml
        front ends only; the standard CLI chooses its own)."""
        if self.name == "standard":
            return ()
        if count < PARMAP_MIN:
            return ("-j", "1")
        return ("--x-parmap", "-j", str(cpus()))


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def core_beside(semgrep: str) -> str | None:
    """The `semgrep-core` binary of the pip package whose `semgrep` script this is."""
    env = Path(semgrep).resolve().parent.parent
    patterns = ("lib/python3*/site-packages/semgrep/bin/semgrep-core",
                "Lib/site-packages/semgrep/bin/semgrep-core.exe")
    for pattern in patterns:
        for found in sorted(env.glob(pattern)):
            if os.access(found, os.X_OK):
                return str(found)
    return None


def find(environ: dict[str, str] | os._Environ[str] = os.environ) -> Frontend | None:
    """The fastest front end installed, or the one `TEST_POLICY_SEMGREP_CLI` names; None
    when there is no Semgrep."""
    wanted = environ.get(ENV_CLI, "")
    semgrep = shutil.which("semgrep", path=environ.get("PATH"))
    if wanted in ("standard", "experimental"):
        return Frontend(wanted, semgrep) if semgrep else None
    core = core_beside(semgrep) if semgrep else None
    if core is None:
        core = shutil.which("semgrep-core", path=environ.get("PATH"))
    if core is not None:
        return Frontend("osemgrep", core)
    return Frontend("experimental", semgrep) if semgrep else None


def run(frontend: Frontend, config: Path, files: list[str], cwd: Path) -> dict[str, Any]:
    """Semgrep's JSON output for `files` (relative to `cwd`); SemgrepFailed on an error."""
    env = dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off")
    env.setdefault("NO_COLOR", "1")
    argv, executable = frontend.command(config, files)
    done = subprocess.run(argv, executable=executable, cwd=cwd, env=env, check=False,
                          stdin=subprocess.DEVNULL, capture_output=True)
    if done.returncode == 2 and "--x-parmap" in argv:
        # an older or newer Semgrep without the flag: its own parallelism, same findings
        argv, executable = frontend.command(config, files, parallel=False)
        done = subprocess.run(argv, executable=executable, cwd=cwd, env=env, check=False,
                              stdin=subprocess.DEVNULL, capture_output=True)
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode not in (0, 1):
        raise SemgrepFailed(f"{frontend.name} exited {done.returncode}: "
                            f"{stderr[-2000:] or '(no output)'}")
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise SemgrepFailed(f"{frontend.name} printed no JSON: {stderr[-2000:]}") from None
    if not isinstance(data, dict):
        raise SemgrepFailed(f"{frontend.name} printed unexpected JSON")
    if stderr and os.environ.get("TEST_POLICY_DEBUG"):
        print(stderr, file=sys.stderr)
    return data
