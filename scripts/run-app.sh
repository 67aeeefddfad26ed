#!/usr/bin/env bash
# One command from a fresh clone: set up everything, then start Harken.
# Arguments are passed to `harken` (e.g. --headless --say "hello").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" app
exec "$root/.venv/bin/harken" "$@"
