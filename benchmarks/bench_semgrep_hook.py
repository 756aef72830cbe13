"""A typical commit (1 to 10 staged test files): the pre-commit hook against plain Semgrep.

Side by side, interleaved (the machine is shared: every command sees the same load), for 1,
5 and 10 files of the benchmark project:
- `semgrep scan` (standard CLI) and `semgrep scan --experimental`: plain Semgrep with the
  generated rules/ on the same files, the baseline the bars are measured against;
- `osemgrep`: semgrep-core run under that name directly (what `lint` runs);
- `semgrep-core -targets`: the core engine's internal mode, the floor of any front end;
- `test-policy lint FILES`: the hook's command, with its plan cache warm;
- `pre-commit run --verbose`: the whole hook as a commit runs it (git, pre-commit, lint), and
  the hook's own `duration` pre-commit prints (its wall time less pre-commit's start-up).
Prints the median wall time of each, its ratio to `semgrep scan`, whether every front end
gave the same findings, and the three figures of the hook side by side: pre-commit's
duration, the wall time of `pre-commit run` and of `test-policy lint FILES`.
Bars (issue 11): hook <= 0.5 s and <= 0.3x `semgrep scan`.

With `--breakdown`: where the hook's time goes, as differences of medians of commands run in
turn: Python's start (`python -c pass`), our CLI's own share (`test-policy lint FILES` with a
stub in place of Semgrep that prints no findings: imports, plan cache, file selection,
report), Semgrep's start and parse (`osemgrep` with one trivial rule on the same files) and
the rules' matching (the rules less the trivial rule).

Run: .venv/bin/python benchmarks/bench_semgrep_hook.py [RUNS] [--breakdown]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _semgrep_project import BASE, ROOT, make_project, semgrep
from test_policy_engine.lint import frontend, plan

HOOKS = """repos:
  - repo: local
    hooks:
      - id: test-policy-semgrep
        name: slow-test patterns (test-policy lint)
        entry: test-policy lint
        language: system
        require_serial: true
        types: [python]
"""


def core_targets(files: list[str], where: Path) -> Path:
    targets = ["Targets", [["CodeTarget", {"path": {"fpath": f, "ppath": "/" + f},
                                           "analyzer": "python", "products": ["sast"]}]
                           for f in files]]
    path = where / "targets.json"
    path.write_text(json.dumps(targets))
    return path


def findings(stdout: bytes) -> list[tuple[str, int, str]]:
    text = stdout.decode()
    data = json.loads(text[text.index("{"):])
    return sorted((r["path"], r["start"]["line"], r["check_id"].rsplit(".", 1)[-1])
                  for r in data["results"] if not r.get("extra", {}).get("is_ignored"))


#: Stands in for semgrep-core (run as `osemgrep`): no findings, at once.
STUB = """#!/bin/sh
echo '{"results": [], "errors": [], "paths": {"scanned": []}}'
"""
DURATION = re.compile(rb"- duration: ([0-9.]+)s")


def main() -> None:
    args = sys.argv[1:]
    breakdown = "--breakdown" in args
    args = [a for a in args if a != "--breakdown"]
    runs = int(args[0]) if args else 7
    exe = semgrep()
    env = dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", NO_COLOR="1",
               PATH=os.pathsep.join([str(Path(exe).parent), str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "")]))
    fast = frontend.find(env)
    if fast is None or fast.name != "osemgrep":
        sys.exit("semgrep-core not found beside semgrep")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        env["TEST_POLICY_CACHE_DIR"] = str(where / "cache")
        paths = make_project(where, 10)
        shutil.copy(ROOT / "policy.yaml", where / "policy.yaml")
        (where / ".pre-commit-config.yaml").write_text(HOOKS)
        git = {**env, "GIT_CONFIG_GLOBAL": os.devnull, "PRE_COMMIT_HOME": str(where / "pch")}
        for command in (["git", "init", "-q"], ["git", "add", "-A"]):
            subprocess.run(command, cwd=where, env=git, check=True)
        config = where / "lint-rules.json"  # every rule lint runs (a run may leave some out)
        config.write_text(plan.load(where / "policy.yaml", where / "cache").plan.config())
        trivial = where / "trivial" / "trivial.yaml"
        stubbed = where / "stub"
        stubbed.mkdir()
        (stubbed / "semgrep-core").write_text(STUB)
        (stubbed / "semgrep-core").chmod(0o755)
        # no `semgrep` on this PATH: lint takes the semgrep-core it finds there, the stub
        stub_env = dict(git, PATH=os.pathsep.join([str(stubbed), str(Path(sys.executable).parent),
                                                    "/usr/bin", "/bin"]))
        stub = frontend.Frontend("osemgrep", str(stubbed / "semgrep-core"))
        assert frontend.find(stub_env) == stub
        lint_argv = [sys.executable, "-m", "test_policy_engine", "lint", "--format", "json"]
        print(f"{'files':>5}  {'command':<26} {'median':>7}  {'vs scan':>7}")
        for count in (1, 5, 10):
            chosen = paths[:count]
            targets = core_targets(chosen, where)
            commands: dict[str, tuple[list[str], str | None]] = {
                "semgrep scan": ([exe, *BASE, "--json", "--config", "rules", *chosen], None),
                "semgrep scan --experimental": (
                    [exe, *BASE, "--experimental", "--json", "--config", "rules", *chosen], None),
                "osemgrep (lint's front end)": (
                    fast.command(config, chosen)[0], fast.semgrep),
                "semgrep-core -targets": (
                    [fast.semgrep, "-json", "-rules", str(config), "-targets", str(targets)],
                    None),
                "test-policy lint FILES": ([*lint_argv, *chosen], None),
                "pre-commit run (the hook)": (
                    [sys.executable, "-m", "pre_commit", "run", "--verbose",
                     "test-policy-semgrep", "--files", *chosen], None),
            }
            if breakdown:
                commands.update({
                    "python -c pass": ([sys.executable, "-c", "pass"], None),
                    "lint, Semgrep stubbed": ([*lint_argv, *chosen], None),
                    "osemgrep, trivial rule": (
                        [*fast.command(trivial, chosen)[0]], fast.semgrep),
                })
            times: dict[str, list[float]] = {name: [] for name in commands}
            durations: list[float] = []
            found: dict[str, list[tuple[str, int, str]]] = {}
            for _ in range(runs):
                for name, (argv, executable) in commands.items():
                    start = time.perf_counter()
                    done = subprocess.run(argv, executable=executable, cwd=where,
                                          env=stub_env if "stubbed" in name else git,
                                          capture_output=True, check=False)
                    times[name].append(time.perf_counter() - start)
                    if done.returncode not in (0, 1):
                        sys.exit(f"{name} failed ({done.returncode}): {done.stderr[-800:]!r}")
                    if name == "test-policy lint FILES":
                        found[name] = sorted(
                            (f["path"], f["line"], f["rule"].rsplit(".", 1)[-1])
                            for f in json.loads(done.stdout)["findings"])
                    elif name == "pre-commit run (the hook)":
                        match = DURATION.search(done.stdout)
                        if match is None:
                            sys.exit(f"no duration in pre-commit's output: {done.stdout[-800:]!r}")
                        durations.append(float(match.group(1)))
                    elif name in ("python -c pass", "lint, Semgrep stubbed",
                                  "osemgrep, trivial rule"):
                        continue
                    else:
                        found[name] = findings(done.stdout)
            base = statistics.median(times["semgrep scan"])
            medians = {name: statistics.median(measured) for name, measured in times.items()}
            for name, median in medians.items():
                print(f"{count:>5}  {name:<26} {median:>6.2f}s  {median / base:>6.2f}x")
            same = len({tuple(f) for f in found.values()}) == 1
            verdict = "the same in every front end and lint" if same else "DIFFER"
            print(f"{count:>5}  findings: {verdict} ({len(found['semgrep scan'])})")
            duration = statistics.median(durations)
            lint_wall = medians["test-policy lint FILES"]
            hook_wall = medians["pre-commit run (the hook)"]
            print(f"{count:>5}  the hook: pre-commit's duration {duration:.2f}s"
                  f" ({duration / base:.2f}x scan), `pre-commit run` {hook_wall:.2f}s,"
                  f" `test-policy lint FILES` {lint_wall:.2f}s"
                  f" (bars 0.5 s, 0.3x: duration {_bars(duration, base)},"
                  f" lint {_bars(lint_wall, base)}, pre-commit run {_bars(hook_wall, base)})")
            if breakdown:
                python = medians["python -c pass"]
                own = medians["lint, Semgrep stubbed"]
                parse = medians["osemgrep, trivial rule"]
                rules = medians["osemgrep (lint's front end)"]
                print(f"{count:>5}  breakdown of lint {lint_wall:.2f}s: Python start {python:.2f}s,"
                      f" our CLI's own {own - python:.2f}s, Semgrep start and parse {parse:.2f}s,"
                      f" matching the rules {rules - parse:.2f}s,"
                      f" rest {lint_wall - own - rules:.2f}s")


def _bars(seconds: float, scan: float) -> str:
    met = seconds <= 0.5 and seconds <= 0.3 * scan
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
