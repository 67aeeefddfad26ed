#!/usr/bin/env bash
# Build Harken as an app: a one-folder bundle in dist/harken/ (run it as dist/harken/harken).
# One command from a clone; it sets up .venv (scripts/setup.sh), installs PyInstaller
# into it, builds from packaging/harken.spec, strips debug info, and smoke-tests the
# result. Install it for your user afterwards with packaging/install.sh.
#   packaging/build.sh            # build into dist/harken
#   HARKEN_DIST=/tmp/out packaging/build.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dist="${HARKEN_DIST:-$root/dist}"
work="$root/build/pyinstaller"
started=$(date +%s)

"$root/scripts/setup.sh" app

# PyInstaller's dependency analysis and strip_debug.py need binutils (objdump, strip).
if ! command -v objdump >/dev/null 2>&1 || ! command -v strip >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build: installing binutils" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >&2 \
      || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -qq --no-install-recommends binutils >&2; }
  else
    echo "build: binutils is missing; install it with: sudo apt-get install -y binutils" >&2
    exit 1
  fi
fi

py="$root/.venv/bin/python"
if ! "$py" -c 'import PyInstaller, sys; sys.exit(int(PyInstaller.__version__.split(".")[0]) != 6)' \
    2>/dev/null; then
  echo "build: installing PyInstaller into .venv" >&2
  "$py" -m pip install -q "pyinstaller>=6.10,<7" >&2
fi

echo "build: PyInstaller $("$py" -m PyInstaller --version) → $dist/harken" >&2
rm -rf "$dist/harken"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" "$root/packaging/harken.spec"
"$py" "$root/packaging/strip_debug.py" "$dist/harken"

# Smoke test: the bundle starts and knows its version (the full check is --self-test).
version="$("$dist/harken/harken" --version)" || {
  echo "build: FAILED: the bundle does not start ($dist/harken/harken --version)" >&2
  exit 1
}
size="$(du -sh "$dist/harken" | cut -f1)"
echo "build: $version in $dist/harken ($size unpacked) in $(( $(date +%s) - started )) s"
echo "build: check it with: QT_QPA_PLATFORM=offscreen $dist/harken/harken --self-test"
