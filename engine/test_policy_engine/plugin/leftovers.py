"""Processes a test stopped at its kill point leaves behind (Linux).

A test stopped while it starts a server (werkzeug's suite: a fixture killed half-way
through starting one, so its finalizer never ran) leaves the server running after the
run. After the teardown of a test that was stopped, the plugin looks for processes
descended from this one that started while the test ran and are still alive, but for
those alive when the setup of a fixture broader than the function ended during this
test (a session server started there belongs to the tests after it too), terminates
them (SIGTERM, SIGKILL after a grace period) and says so: a `test_policy.leftovers`
property and a line of the terminal summary. Only then: a test that was not stopped
costs nothing here. Read from `/proc/<pid>/stat` (parent, state, start time in clock
ticks since boot) and `/proc/<pid>/task/<tid>/children`; where there is no `/proc`
nothing is done. A process that detached itself (a double fork: its parent is no longer
in this tree) is not found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    state: str  # one letter: R, S, D, Z (a zombie: ended, not yet reaped), ...
    started: float  # seconds since boot


def parse_stat(text: str, ticks_per_second: float) -> Process | None:
    """One `/proc/<pid>/stat` line (the command name in parentheses may itself hold
    spaces and parentheses: the fields after it are split from the last `)`)."""
    head, sep, tail = text.rpartition(")")
    fields = tail.split()
    if not sep or len(fields) < 20:
        return None
    try:
        pid = int(head.split("(", 1)[0])
        return Process(pid, int(fields[1]), fields[0], int(fields[19]) / ticks_per_second)
    except ValueError:
        return None


def descendants(root: int, processes: Iterable[Process]) -> list[Process]:
    """Every process below `root`, parents before their children."""
    children: dict[int, list[Process]] = {}
    for process in processes:
        children.setdefault(process.ppid, []).append(process)
    found: list[Process] = []
    todo = [root]
    while todo:
        for child in sorted(children.get(todo.pop(), []), key=lambda p: p.pid):
            found.append(child)
            todo.append(child.pid)
    return found


def left_behind(found: Sequence[Process], since: float, kept: Set[int]) -> list[Process]:
    """The live processes started at or after `since` (seconds since boot) but for those
    in `kept` (alive when a broad fixture's setup ended)."""
    return [p for p in found if p.state not in ("Z", "X") and p.started >= since
            and p.pid not in kept]


def descendant_pids(root: int) -> set[int]:
    """The processes below `root`, from `/proc/<pid>/task/<tid>/children` (cheap: a file
    per thread of each process in the tree; empty where the kernel has no such file)."""
    found: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(PROC / str(pid) / "task")
        except OSError:
            continue
        for task in tasks:
            try:
                text = (PROC / str(pid) / "task" / task / "children").read_text()
            except OSError:
                continue
            for child in text.split():
                if child.isdigit() and int(child) not in found:
                    found.add(int(child))
                    todo.append(int(child))
    return found


def _read_all(ticks: float) -> list[Process]:
    processes = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text(errors="replace")
            except OSError:
                continue  # it ended meanwhile
            process = parse_stat(text, ticks)
            if process is not None:
                processes.append(process)
    return processes


def _command(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    shown = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    return shown if len(shown) <= 200 else shown[:197] + "..."


def boot_clock() -> float | None:
    """Seconds since boot, in the clock of `/proc/<pid>/stat` start times."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    return None if clock is None else time.clock_gettime(clock)


def stop_left_behind(since: float, kept: Set[int], grace: float = GRACE_SECONDS) -> list[str]:
    """Terminate what the stopped test left running; one line per process, as said."""
    if not (PROC / "self" / "stat").exists():
        return []
    ticks = float(os.sysconf("SC_CLK_TCK"))
    # Start times are whole clock ticks (10 ms), rounded down: a process started in the
    # tick the test started in counts as the test's.
    found = left_behind(descendants(os.getpid(), _read_all(ticks)), since - 1 / ticks, kept)
    if not found:
        return []
    said = [f"pid {p.pid} ({_command(p.pid)})" for p in found]
    for process in reversed(found):  # children first: a parent may restart them
        _signal(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = [p.pid for p in found]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [pid for pid in alive if _alive(pid)]
    for pid in alive:
        _signal(pid, signal.SIGKILL)
    return said


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(OSError):  # it ended meanwhile
        os.kill(pid, signum)


def _alive(pid: int) -> bool:
    try:
        text = (PROC / str(pid) / "stat").read_text(errors="replace")
    except OSError:
        return False
    process = parse_stat(text, 100.0)
    return process is not None and process.state not in ("Z", "X")
