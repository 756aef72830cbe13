"""A typical commit (1 to 10 test files): the hook's Semgrep run, standard CLI vs --experimental.

Prints the median wall time of each and their ratio, and checks the findings are identical.
Run: .venv/bin/python benchmarks/bench_semgrep_hook.py [RUNS]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from _semgrep_project import BASE, make_project, semgrep, timed


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    exe = semgrep()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        paths = make_project(where, 10)
        print(f"{'files':>5}  {'standard':>9}  {'experimental':>12}  ratio")
        for count in (1, 5, 10):
            chosen = paths[:count]
            results = {}
            medians = {}
            for mode, extra in (("standard", []), ("experimental", ["--experimental"])):
                command = [exe, *BASE, *extra, "--json", "--config", "rules", *chosen]
                medians[mode], out = timed(command, where, runs)
                found = json.loads(out)["results"]
                results[mode] = sorted((r["path"], r["start"]["line"], r["check_id"])
                                       for r in found)
            same = "same findings" if results["standard"] == results["experimental"] else "DIFFER"
            print(f"{count:>5}  {medians['standard']:>8.2f}s  {medians['experimental']:>11.2f}s  "
                  f"{medians['standard'] / medians['experimental']:.1f}x  {same}")


if __name__ == "__main__":
    main()
