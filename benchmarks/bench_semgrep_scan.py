"""`test-policy lint` on a whole suite: 80 test files, 2 MB (bar: <= 2 s), beside plain Semgrep.

Interleaved medians of wall time (the machine is shared) of `test-policy lint` (no PATH: every
file the lint globs select, its plan cache warm), `semgrep scan --config rules tests` and the
same with `--experimental`, their ratios, and whether the findings are the same.

With `--cost [FILES]`: the older study of what the rules cost, all generated rules against
one trivial rule on FILES (default 1,000) test files, `typical` and `worst` corpora.

Run: .venv/bin/python benchmarks/bench_semgrep_scan.py [RUNS] [--cost [FILES]]
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


def suite(runs: int, exe: str) -> None:
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
        times: dict[str, list[float]] = {name: [] for name in commands}
        found: dict[str, set[tuple[str, int]]] = {}
        for _ in range(runs):
            for name, argv in commands.items():
                start = time.perf_counter()
                done = subprocess.run(argv, cwd=where, env=env, capture_output=True, check=False)
                times[name].append(time.perf_counter() - start)
                if done.returncode not in (0, 1):
                    sys.exit(f"{name} failed ({done.returncode}): {done.stderr[-800:]!r}")
                data = json.loads(done.stdout)
                if name == "test-policy lint":
                    found[name] = {(f["path"], f["line"]) for f in data["findings"]}
                else:
                    found[name] = {(r["path"], r["start"]["line"]) for r in data["results"]}
        base = statistics.median(times["semgrep scan"])
        for name, measured in times.items():
            median = statistics.median(measured)
            bar = f"  (bar 2 s: {'met' if median <= 2 else 'MISSED'})" if "lint" in name else ""
            print(f"{name:<28} median {median:6.2f}s  {median / base:5.2f}x semgrep scan{bar}")
        same = len({frozenset(f) for f in found.values()}) == 1
        print(f"findings: {'the same' if same else 'DIFFER'} ({len(found['test-policy lint'])})")


def main() -> None:
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 5
    exe = semgrep()
    if args and args[0] == "--cost":
        cost(runs, int(args[1]) if len(args) > 1 else 1000, exe)
    else:
        suite(runs, exe)


if __name__ == "__main__":
    main()
