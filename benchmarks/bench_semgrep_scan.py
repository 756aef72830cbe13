"""A full scan of 1,000 test files: all generated rules vs one trivial rule (target ratio <= 1.3).

Medians of wall time; the machine is shared, so run it more than once. Two corpora: `typical`
(1 file in 10 touches a banned module) and `worst` (every file does, so every rule parses
and matches every file).

Run: .venv/bin/python benchmarks/bench_semgrep_scan.py [RUNS] [FILES]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _semgrep_project import BASE, interleaved, make_project, semgrep


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    exe = semgrep()
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


if __name__ == "__main__":
    main()
