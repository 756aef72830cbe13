#!/usr/bin/env bash
# The suite while the machine is busy with other work, as on a shared CI runner.
#
#   scripts/test-under-load.sh [HOGS] [pytest args...]
#
# HOGS  how many CPU-bound processes run beside the suite (default: the number of CPUs).
# They are stopped when the run ends, however it ends. The exit code is pytest's.
set -euo pipefail

HOGS="${1:-$(nproc)}"
shift $(( $# < 1 ? $# : 1 ))
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
# The tools `make` puts on PATH (Semgrep, check-jsonschema, zizmor, the CLI): some tests run them.
export PATH="$ROOT/.tools/bin:$ROOT/.venv/bin:$PATH"

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop EXIT
for _ in $(seq 1 "$HOGS"); do
  "$PYTHON" -c 'while True: pass' &
  pids+=("$!")
done
echo "Running the suite beside $HOGS CPU-bound processes"
cd "$ROOT"
"$PYTHON" -m pytest "$@"
