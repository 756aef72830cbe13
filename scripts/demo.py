"""`make demo`: the main job on the bundled example, step by step."""

from __future__ import annotations

import subprocess
import sys


def step(title: str, *command: str) -> int:
    print(f"\n=== {title} ===\n$ {' '.join(command)}", flush=True)
    return subprocess.run(command, check=False).returncode


def main() -> int:
    code = step("Validate the policy and show what it enforces",
                sys.executable, "-m", "engine", "check", "--policy", "policy.yaml")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
