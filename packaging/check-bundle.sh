#!/usr/bin/env bash
# Build the app bundle and check it from the outside, as CI does after the test suite:
# `harken --self-test` run from dist/harken offscreen (models, speech, streaming, folders),
# the bundle's size against its budget, and the start-up time. Fails loudly on any of them.
#   packaging/check-bundle.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
max_mb="${HARKEN_BUNDLE_MAX_MB:-700}"
started=$(date +%s)

echo "== bundle: build"
packaging/build.sh
bundle="$root/dist/harken"

echo "== bundle: self-test (QT_QPA_PLATFORM=offscreen, private folders)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if ! env QT_QPA_PLATFORM=offscreen TMPDIR="$tmp" XDG_CONFIG_HOME="$tmp/config" \
    XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache" \
    timeout 600 "$bundle/harken" --self-test; then
  echo "== bundle: FAILED: dist/harken/harken --self-test (see the report above)" >&2
  exit 1
fi

size_mb=$(( $(du -sk "$bundle" | cut -f1) / 1024 ))
echo "== bundle: size $size_mb MiB unpacked (budget $max_mb MiB), $(find "$bundle" -type f | wc -l) files"
if [ "$size_mb" -gt "$max_mb" ]; then
  echo "== bundle: FAILED: $size_mb MiB is over the $max_mb MiB budget; see packaging/README.md" >&2
  exit 1
fi

echo "== bundle: start-up"
.venv/bin/python packaging/measure_startup.py --exe "$bundle/harken" --runs 3
echo "== bundle: built and checked in $(( $(date +%s) - started )) s"
