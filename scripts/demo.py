"""`make demo`: the whole pipeline on the bundled example (examples/shop), step by step.

The example is copied to a temporary directory, so the demo leaves the checkout as it was.
Each step prints its heading and the command it runs; a step that ends with an exit code
other than the one it should (the example is meant to have findings) stops the demo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "shop"
ENGINE = [sys.executable, "-m", "test_policy_engine"]


def step(number: int, title: str, shown: str, command: list[str], cwd: Path,
         expected: tuple[int, ...]) -> None:
    print(f"\n=== {number}. {title} ===\n$ {shown}", flush=True)
    started = time.perf_counter()
    code = subprocess.run(command, cwd=cwd, check=False).returncode
    took = time.perf_counter() - started
    print(f"[exit code {code}, {took:.1f} s]", flush=True)
    if code not in expected:
        raise SystemExit(f"demo: step {number} ended with exit code {code}, expected {expected}")


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="test-policy-demo-") as tmp:
        shop = Path(tmp) / "shop"
        shutil.copytree(EXAMPLE, shop, ignore=shutil.ignore_patterns(
            "__pycache__", ".pytest_cache", "test-results"))
        print(f"The example project (examples/shop) is copied to {shop}.")
        step(1, "Generate the Semgrep rules from the example's policy.yaml",
             "test-policy generate", [*ENGINE, "generate"], shop, (0,))
        step(2, "pre-commit's check: Semgrep with those rules on the example's tests",
             "test-policy lint", [*ENGINE, "lint"], shop, (1,))
        print("-> the real sleep, HTTP and subprocess calls are rejected; their mocked twins "
              "pass. pre-commit would refuse this commit.")
        for variable in ("PYTEST_ADDOPTS", "TEST_POLICY_SERIAL"):  # show the default run
            os.environ.pop(variable, None)
        step(3, "The example's suite, in parallel under its policy, with JUnit output",
             "python -m pytest --junit-xml=test-results/test-results-python.xml",
             [sys.executable, "-m", "pytest", "-v", "--tb=short", "--show-capture=no",
              "-p", "no:cacheprovider",
              "--junit-xml=test-results/test-results-python.xml"], shop, (1,))
        print("-> the unit test with a real sleep ran to its end and failed its 1 s limit "
              "with one line; the rest ran on several workers at once.")
        shutil.copy(shop / "frontend" / "test-results-frontend.xml", shop / "test-results")
        step(4, "The CI audit of every job's JUnit XML (Python and the Vitest frontend)",
             "test-policy audit test-results/", [*ENGINE, "audit", "test-results/"], shop, (1,))
    print(f"""
=== What you just saw ({time.perf_counter() - started:.0f} s) ===
One file, examples/shop/policy.yaml, drove all of it:
  1. `test-policy generate` turned its banned patterns into Semgrep rules (rules/);
  2. pre-commit runs those rules: real sleeps, HTTP and subprocesses in tests are
     rejected unless the test mocks them;
  3. pytest judged every test by the limit of its category (unit 1 s, integration 5 s,
     slow 30 s) after it ran, in parallel, and wrote each test's category, limit and
     load figures into the JUnit XML;
  4. `test-policy audit` read every job's JUnit XML and failed the build on the tests over
     their limit, with warnings for those above 80 % of it.
Next: `test-policy init` in your own repository writes a starter policy.yaml, the
pre-commit config and the CI workflow. The README explains every field and escape hatch.""")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
