"""Whether a pytest run goes parallel, and on how many workers: pure functions.

`usable_cpus` counts the CPUs this process may really use: its CPU affinity,
capped by the cgroup CPU quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us`) of its own
cgroup and every ancestor. pytest-xdist's `-n auto` counts the host's cores
instead, which oversubscribes a container limited to 2 CPUs on a 64-core host.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: Set to 1 (or true/yes/on) to run serially without touching the command line.
SERIAL_ENV = "TEST_POLICY_SERIAL"
#: pytest-xdist's own override of the `auto` worker count; honoured for `workers: auto`.
XDIST_AUTO_ENV = "PYTEST_XDIST_AUTO_NUM_WORKERS"
#: What starting the workers costs a run (seconds, measured: 1-3 s on 2 shared CPUs) until
#: a parallel run has measured it (`history.startup_cost`); a run goes parallel only when
#: the previous run's time saved exceeds it.
STARTUP_SECONDS = 2.0
#: Dist modes that pin tests to workers; with `thread` timeouts they can hang (xdist #1371).
GROUPING_DISTS = frozenset({"loadgroup", "loadscope", "loadfile"})


# --- CPU count -------------------------------------------------------------------------


def quota_v2(cpu_max: str) -> float | None:
    """CPUs allowed by a cgroup v2 `cpu.max` ("max 100000" or "200000 100000")."""
    parts = cpu_max.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    return _ratio(parts[0], parts[1])


def quota_v1(cfs_quota_us: str, cfs_period_us: str) -> float | None:
    """CPUs allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: none)."""
    return _ratio(cfs_quota_us.strip(), cfs_period_us.strip())


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    if q <= 0 or p <= 0:
        return None
    return q / p


def cgroup_dirs(proc_self_cgroup: str) -> tuple[str | None, str | None]:
    """(v2 path, v1 cpu-controller path) of this process from /proc/self/cgroup."""
    v2 = v1 = None
    for line in proc_self_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            v2 = path
        elif "cpu" in controllers.split(","):
            v1 = path
    return v2, v1


def _ancestors(mount: Path, cgroup_path: str) -> list[Path]:
    """The cgroup's directory and its parents up to the mount (inside a container the
    path may not exist below the mount: then only the mount itself counts)."""
    parts = [p for p in cgroup_path.split("/") if p]
    dirs = [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]
    return [d for d in dirs if d.is_dir()] or [mount]


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path = Path("/")) -> float | None:
    """The tightest CPU quota on this process's cgroup chain, or None when unlimited."""
    text = _read(root / "proc/self/cgroup")
    if text is None:
        return None
    v2, v1 = cgroup_dirs(text)
    limits: list[float] = []
    if v2 is not None:
        for directory in _ancestors(root / "sys/fs/cgroup", v2):
            found = _read(directory / "cpu.max")
            limit = quota_v2(found) if found else None
            if limit is not None:
                limits.append(limit)
    if v1 is not None:
        for mount_name in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
            mount = root / "sys/fs/cgroup" / mount_name
            if not mount.is_dir():
                continue
            for directory in _ancestors(mount, v1):
                quota = _read(directory / "cpu.cfs_quota_us")
                period = _read(directory / "cpu.cfs_period_us")
                limit = quota_v1(quota, period) if quota and period else None
                if limit is not None:
                    limits.append(limit)
            break
    return min(limits) if limits else None


def affinity_cpus() -> int:
    """CPUs in this process's affinity mask (os.cpu_count() where that is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def usable_cpus(affinity: int, quota: float | None) -> int:
    """CPUs this process may keep busy: affinity capped by the quota, rounded up, >= 1."""
    count = affinity if quota is None else min(affinity, math.ceil(quota))
    return max(1, count)


def count_cpus(root: Path = Path("/")) -> int:
    return usable_cpus(affinity_cpus(), cgroup_cpu_limit(root))


# --- the decision ----------------------------------------------------------------------


class ParallelSettings(Protocol):
    """The policy's `parallel` section as the decision reads it: `policy.model.Parallel`,
    or the pytest plugin's plain copy (`plugin.cache`)."""

    @property
    def enabled(self) -> bool: ...
    @property
    def workers(self) -> int | str: ...
    @property
    def dist(self) -> str: ...


@dataclass(frozen=True)
class Request:
    """What the pytest invocation asked for, as far as parallel runs are concerned."""

    xdist: bool = True  # pytest-xdist is installed and not blocked (-p no:xdist)
    numprocesses: int | str | None = None  # -n / --numprocesses, None when not given
    dist_given: bool = False  # --dist, -d or --tx given
    debugging: bool = False  # --pdb or --trace
    collect_only: bool = False
    worker: bool = False  # this process is a pytest-xdist worker
    environ: Mapping[str, str] | None = None
    #: (tests, summed seconds) of the last complete run of this selection, if recorded
    previous: tuple[int, float] | None = None
    #: What starting the workers cost the last parallel run (seconds), if recorded
    startup: float | None = None


@dataclass(frozen=True)
class Choice:
    """workers == 0: leave pytest-xdist alone (the user's options, or serial)."""

    workers: int
    dist: str | None
    note: str  # shown in the -v header

    @property
    def parallel(self) -> bool:
        return self.workers > 0


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def safe_dist(dist: str, method: str) -> tuple[str, str]:
    """The dist mode to use with the timeout method, and a note when it was changed."""
    if method == "thread" and dist in GROUPING_DISTS:
        return "load", (f"--dist load instead of the policy's {dist}: the 'thread' timeout "
                        f"method with a grouping dist mode hangs the run after a timeout "
                        f"(pytest-xdist #1371)")
    return dist, ""


def grouping_ignored(pytest_version: str, xdist_version: str) -> bool:
    """True where pytest-xdist's loadgroup silently ignores `xdist_group` (measured with
    pytest 9.2 + pytest-xdist 3.8: xdist still writes `item._nodeid`, which pytest 9.2's
    structured node ids no longer read; pytest-xdist #1386, fix in PR #1388)."""
    return _version(pytest_version) >= (9, 2) and _version(xdist_version) <= (3, 8)


def _version(text: str) -> tuple[int, int]:
    parts = (text.split(".") + ["0", "0"])[:2]
    try:
        return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)
    except ValueError:
        return (0, 0)


def decide(
    parallel: ParallelSettings, method: str, request: Request, cpus: Callable[[], int] = count_cpus
) -> Choice:
    """Whether the plugin turns pytest-xdist on, and with what; `note` says why."""
    environ = os.environ if request.environ is None else request.environ
    if request.worker:
        return Choice(0, None, "pytest-xdist worker")
    if not parallel.enabled:
        return Choice(0, None, "serial: parallel.enabled is false in the policy")
    if not request.xdist:
        return Choice(0, None, "serial: pytest-xdist is not installed or blocked (-p no:xdist)")
    if request.numprocesses is not None or request.dist_given:
        given = "-n" if request.numprocesses is not None else "--dist"
        return Choice(0, None, f"as given on the command line ({given})")
    if request.debugging:
        return Choice(0, None, "serial: a debugger was requested (--pdb / --trace)")
    if request.collect_only:
        return Choice(0, None, "serial: collection only")
    if _truthy(environ.get(SERIAL_ENV)):
        return Choice(0, None, f"serial: {SERIAL_ENV}={environ.get(SERIAL_ENV)}")
    if parallel.workers == "auto":
        override = environ.get(XDIST_AUTO_ENV, "").strip()
        if override.isdigit():
            workers, how = int(override), f"{XDIST_AUTO_ENV}={override}"
        else:
            workers = cpus()
            how = f"auto: {workers} usable CPU{'s' if workers != 1 else ''}"
        if workers < 2:
            return Choice(0, None, f"serial: {how}")
    else:
        workers, how = int(parallel.workers), "from the policy"
    paid = pays(request.previous, workers, request.startup)
    if paid is not None:
        return Choice(0, None, f"serial: {paid}")
    dist, changed = safe_dist(parallel.dist, method)
    note = f"{workers} workers ({how}), --dist {dist}"
    if request.previous is not None:
        tests, seconds = request.previous
        note += f"; the last run of this selection took {seconds:.1f} s in {tests} tests"
    if changed:
        note += f"; {changed}"
    return Choice(workers, dist, note)


def pays(previous: tuple[int, float] | None, workers: int, startup: float | None = None
         ) -> str | None:
    """None when parallel pays (or nothing is known: a first run goes parallel), else why
    not: the time `workers` would save on the last run is under their start-up cost (as
    measured in the last parallel run, else `STARTUP_SECONDS`)."""
    if previous is None:
        return None
    tests, seconds = previous
    cost = STARTUP_SECONDS if startup is None else startup
    if tests >= workers and seconds * (1 - 1 / workers) > cost:
        return None
    shown = (f"~{cost:.0f} s" if startup is None
             else f"~{cost:.1f} s, measured in the last parallel run")
    return (f"the last run of this selection took {seconds:.1f} s in {tests} test"
            f"{'s' if tests != 1 else ''}; {workers} workers would save less than their "
            f"start-up ({shown})")
