#!/usr/bin/env bash
# Fast parallel test run with a timing report.
#
#   scripts/test-fast.sh [TARGET] [WORKERS] [extra pytest args...]
#
# TARGET   what to run (default: tests/unit/)
# WORKERS  "policy" (default): let policy.yaml decide (its worker count, `auto` = the
#          CPUs this process may use, cgroup quota included, and its dist mode);
#          a number or "auto": passed to pytest-xdist as `-n WORKERS`;
#          0: serial (same as TEST_POLICY_SERIAL=1).
# The per-category time limits apply either way; --durations=10 lists the slowest.
set -euo pipefail

TARGET="${1:-tests/unit/}"
WORKERS="${2:-policy}"
shift $(( $# < 2 ? $# : 2 ))

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

if [[ "$WORKERS" == "policy" ]]; then
  echo "Running $TARGET (workers: as policy.yaml says)"
  exec "$PYTHON" -m pytest --durations=10 "$TARGET" "$@"
fi
if [[ "$WORKERS" == "0" ]]; then
  echo "Running $TARGET serially"
else
  echo "Running $TARGET in parallel (workers: $WORKERS)"
fi
exec "$PYTHON" -m pytest -n "$WORKERS" --durations=10 "$TARGET" "$@"
