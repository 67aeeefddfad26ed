#!/usr/bin/env bash
# One command from a fresh clone: set up everything, lint, type-check and run
# the whole test suite. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh test
export PATH="$root/.venv/bin:$PATH"
echo "== ruff" && ruff check . && ruff format --check .
echo "== mypy" && mypy
echo "== pytest" && exec python -m pytest -p no:cacheprovider "$@"
