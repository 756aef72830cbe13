"""`test-policy lint` on a whole suite: 80 test files, 2 MB (bar: <= 2 s), beside plain Semgrep.

Interleaved medians of wall time (the machine is shared) of `test-policy lint` (no PATH: every
file the lint globs select, its plan cache warm), `semgrep scan --config rules tests` and the
same with `--experimental`, their ratios, and whether the findings are the same. Beside them,
lint's front end (`osemgrep`) on the same files with each way to run in parallel (`-j1`,
Semgrep's default of one thread per CPU, `--x-parmap -j <CPUs>`, which `lint` uses from
`frontend.PARMAP_MIN` files on).

With `--before CHECKOUT`: also the rules another checkout of the engine generates from the
same policy (e.g. `--before /work/main`), run as lint runs them, with the before/after ratio.

With `--cost [FILES]`: the older study of what the rules cost, all generated rules against
one trivial rule on FILES (default 1,000) test files, `typical` and `worst` corpora.

With `--breakdown`: where lint's time goes on the suite, from Semgrep's own `--time`
report (medians of RUNS): each rule's matching and parsing time summed over the files (the
parts `lint_rules` splits a rule into counted as the rule; CPU seconds over both workers),
for every rule whole and for what lint passes for these files (`(lint)`: the rules and
clearing forms the files can trigger, `lint.prune`), beside the parse-only floor (one
trivial rule that every file's prefilter lets through), and the wall times of the three
(`--x-parmap -j <CPUs>`, as lint runs).

Run: .venv/bin/python benchmarks/bench_semgrep_scan.py [RUNS] [--before CHECKOUT]
     [--cost [FILES]] [--breakdown]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _semgrep_project import BASE, ROOT, interleaved, make_project, make_suite, semgrep
from test_policy_engine.lint import frontend, plan

# Every rule lint runs, whole, as the checkout makes it: `Plan.config()` (before the rules
# were pruned per run, `config` was the text itself).
RENDER = """import sys
from test_policy_engine.lint import plan
from test_policy_engine.policy.loader import load_policy
built = plan.build(load_policy(sys.argv[1]))
sys.stdout.write(built.config() if callable(built.config) else built.config)
"""


def cost(runs: int, files: int, exe: str) -> None:
    for mix in ("typical", "worst"):
        with tempfile.TemporaryDirectory() as tmp:
            where = Path(tmp)
            make_project(where, files, mix)
            for mode, extra in (("experimental", ["--experimental"]), ("standard", [])):
                rules = [exe, *BASE, *extra, "--config", "rules", "tests"]
                trivial = [exe, *BASE, *extra, "--config", "trivial", "tests"]
                all_rules, one_rule, ratio = interleaved(rules, trivial, where, runs)
                verdict = "ok" if ratio <= 1.3 else "OVER 1.3"
                print(f"{mix:>7} {mode:>12}: {files} files, all rules {all_rules:.2f}s, "
                      f"one trivial rule {one_rule:.2f}s, median ratio {ratio:.2f} ({verdict})")


def rules_of(checkout: Path, policy: Path, where: Path) -> Path:
    """The combined rules `checkout`'s engine generates from `policy` (no `paths:` matter:
    the files are named)."""
    env = dict(os.environ, PYTHONPATH=str(checkout / "engine"))
    done = subprocess.run([sys.executable, "-c", RENDER, str(policy)], env=env,
                          capture_output=True, text=True, check=True)
    path = where / "before.rules.yaml"
    path.write_text(done.stdout)
    return path


def suite(runs: int, exe: str, before: Path | None) -> None:
    env = dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", NO_COLOR="1",
               PATH=os.pathsep.join([str(Path(exe).parent), str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "")]))
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        env["TEST_POLICY_CACHE_DIR"] = str(where / "cache")
        paths = make_suite(where)
        shutil.copy(ROOT / "policy.yaml", where / "policy.yaml")
        size = sum((where / p).stat().st_size for p in paths)
        print(f"suite: {len(paths)} files, {size / 1e6:.2f} MB")
        commands = {
            "test-policy lint": [sys.executable, "-m", "test_policy_engine", "lint",
                                 "--format", "json"],
            "semgrep scan": [exe, *BASE, "--json", "--config", "rules", "tests"],
            "semgrep scan --experimental": [exe, *BASE, "--experimental", "--json",
                                            "--config", "rules", "tests"],
        }
        (where / ".semgrepignore").write_text("# scan tests/\n")
        fast = frontend.find(env)
        config = where / "lint-rules.json"  # every rule lint runs (a run may leave some out)
        config.write_text(plan.load(where / "policy.yaml", where / "cache").plan.config())
        if fast is not None and fast.name == "osemgrep":
            core = fast.command(config, paths, parallel=False)[0]
            at = core.index("--config")
            jobs = str(frontend.cpus())
            for name, flags in (("osemgrep -j1", ["-j", "1"]),
                                (f"osemgrep -j{jobs} (threads)", ["-j", jobs]),
                                (f"osemgrep --x-parmap -j{jobs}", ["--x-parmap", "-j", jobs])):
                commands[name] = [*core[:at], *flags, *core[at:]]
            if before is not None:
                old = rules_of(before, where / "policy.yaml", where)
                argv = fast.command(config, paths)[0]
                argv[argv.index(str(config))] = str(old)
                commands["osemgrep, rules before"] = argv
                commands["osemgrep, rules now"] = fast.command(config, paths)[0]
        executables = {name: fast.semgrep for name in commands if name.startswith("osemgrep")
                       } if fast is not None else {}
        times: dict[str, list[float]] = {name: [] for name in commands}
        found: dict[str, set[tuple[str, int]]] = {}
        for _ in range(runs):
            for name, argv in commands.items():
                start = time.perf_counter()
                done = subprocess.run(argv, executable=executables.get(name), cwd=where,
                                      env=env, capture_output=True, check=False)
                times[name].append(time.perf_counter() - start)
                if done.returncode not in (0, 1):
                    sys.exit(f"{name} failed ({done.returncode}): {done.stderr[-800:]!r}")
                data = json.loads(done.stdout)
                if name == "test-policy lint":
                    found[name] = {(f["path"], f["line"]) for f in data["findings"]}
                else:
                    found[name] = {(r["path"], r["start"]["line"]) for r in data["results"]}
        base = statistics.median(times["semgrep scan"])
        lint = statistics.median(times["test-policy lint"])
        for name, measured in times.items():
            median = statistics.median(measured)
            bar = f"  (bar 2 s: {'met' if median <= 2 else 'MISSED'})" if "lint" in name else ""
            print(f"{name:<34} median {median:6.2f}s  {median / base:5.2f}x semgrep scan"
                  f"  {median / lint:5.2f}x lint{bar}")
        if "osemgrep, rules before" in times:
            ratio = statistics.median(times["osemgrep, rules now"]) / statistics.median(
                times["osemgrep, rules before"])
            print(f"rules now / rules before: {ratio:.2f}x")
        same = len({frozenset(f) for f in found.values()}) == 1
        print(f"findings: {'the same' if same else 'DIFFER'} ({len(found['test-policy lint'])})")


def breakdown(runs: int, exe: str) -> None:
    env = dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", NO_COLOR="1",
               PATH=os.pathsep.join([str(Path(exe).parent), os.environ.get("PATH", "")]))
    fast = frontend.find(env)
    if fast is None or fast.name != "osemgrep":
        sys.exit("semgrep-core not found beside semgrep")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        paths = make_suite(where)
        shutil.copy(ROOT / "policy.yaml", where / "policy.yaml")
        built = plan.load(where / "policy.yaml", where / "cache").plan
        config = where / "lint-rules.json"  # every rule lint runs, every form
        config.write_text(built.config())
        passed = where / "lint-passed.json"  # what lint passes for these files
        passed.write_text(built.config(built.met((where / p).read_bytes() for p in paths)))
        configs = {"rules": config, "rules lint passes": passed,
                   "one trivial rule": where / "trivial" / "trivial.yaml"}
        suffix = {"rules": "", "rules lint passes": " (lint)", "one trivial rule": " (trivial)"}
        walls: dict[str, list[float]] = {name: [] for name in configs}
        match: dict[str, list[float]] = {}
        parse: dict[str, list[float]] = {}
        for _ in range(runs):
            for name, path in configs.items():
                argv = fast.command(path, paths)[0]
                argv.insert(argv.index("--config"), "--time")
                start = time.perf_counter()
                done = subprocess.run(argv, executable=fast.semgrep, cwd=where, env=env,
                                      capture_output=True, check=False)
                walls[name].append(time.perf_counter() - start)
                if done.returncode not in (0, 1):
                    sys.exit(f"{name} failed ({done.returncode}): {done.stderr[-800:]!r}")
                report = json.loads(done.stdout)["time"]
                ids = [rule.rsplit(".", 1)[-1] + suffix[name] for rule in report["rules"]]
                run_match: dict[str, float] = dict.fromkeys(ids, 0.0)
                run_parse: dict[str, float] = dict.fromkeys(ids, 0.0)
                for target in report["targets"]:
                    for rule, seconds in zip(ids, target["match_times"], strict=True):
                        run_match[rule] += seconds
                    for rule, seconds in zip(ids, target["parse_times"], strict=True):
                        run_parse[rule] += seconds
                for rule in run_match:
                    match.setdefault(rule, []).append(run_match[rule])
                    parse.setdefault(rule, []).append(run_parse[rule])
        size = sum((where / p).stat().st_size for p in paths)
        print(f"suite: {len(paths)} files, {size / 1e6:.2f} MB; osemgrep --x-parmap -j"
              f"{frontend.cpus()} --time, medians of {runs}")
        for name, measured in walls.items():
            print(f"  wall, {name:<18} {statistics.median(measured):6.2f}s")
        print(f"  {'rule':<26} {'matching':>9} {'parsing':>8}  (seconds summed over files)")
        for rule in sorted(match, key=lambda r: -statistics.median(match[r])):
            print(f"  {rule:<26} {statistics.median(match[rule]):8.2f}s"
                  f" {statistics.median(parse[rule]):7.2f}s")


def main() -> None:
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 5
    exe = semgrep()
    before = None
    if args and args[0] == "--before":
        before = Path(args[1]).resolve()
        args = args[2:]
    if args and args[0] == "--breakdown":
        breakdown(runs, exe)
    elif args and args[0] == "--cost":
        cost(runs, int(args[1]) if len(args) > 1 else 1000, exe)
    else:
        suite(runs, exe, before)


if __name__ == "__main__":
    main()
