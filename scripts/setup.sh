#!/usr/bin/env bash
# Sets up Harken in this checkout: Debian packages (installed when missing and
# we are root, otherwise the exact apt-get line is printed), a virtual
# environment in .venv, and the Python packages. Idempotent and quick when
# nothing changed.
#   scripts/setup.sh app    - what running the app needs
#   scripts/setup.sh test   - plus what the test suite needs
set -euo pipefail
mode="${1:-app}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

app_debs=(libportaudio2 espeak-ng libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
          libxcb-shape0 libxcb-xinerama0 libxcb-randr0)
test_debs=(pulseaudio pulseaudio-utils libasound2-plugins xvfb xdotool dbus)
debs=("${app_debs[@]}")
[ "$mode" = test ] && debs+=("${test_debs[@]}")

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "setup: these Debian packages are missing; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
fi
extra=""
[ "$mode" = test ] && extra="[dev,local]"
# The `local` extra (llama-cpp-python, in-process replies) is compiled from source. Its default
# build targets the build machine's CPU (-march=native) and crashes on some processors in the
# AMX kernels; these flags build a portable AVX2 library instead (4-6 min on 2 cores).
llama_cmake_args="${HARKEN_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF}"
stamp=".venv/.setup-stamp-$mode"
llama_in_stamp=""
[ "$mode" = test ] && llama_in_stamp="$llama_cmake_args"
want="$({ cat pyproject.toml; echo "$extra"; echo "$llama_in_stamp"; } | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages (harken$extra)" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  if [ "$mode" = test ]; then
    # pip's wheel cache does not know the CMAKE_ARGS a cached llama-cpp-python wheel was built
    # with, so it is built here, uncached, whenever its version spec or the flags change.
    llama_spec="$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["local"][0])')"
    llama_stamp=".venv/.llama-build"
    llama_want="$llama_spec $llama_cmake_args"
    if [ ! -f "$llama_stamp" ] || [ "$(cat "$llama_stamp")" != "$llama_want" ]; then
      echo "setup: building $llama_spec (CMAKE_ARGS=$llama_cmake_args); this takes a few minutes" >&2
      CMAKE_ARGS="$llama_cmake_args" .venv/bin/python -m pip install -q --no-cache-dir \
        --force-reinstall --no-deps "$llama_spec" >&2
      echo "$llama_want" > "$llama_stamp"
    fi
  fi
  CMAKE_ARGS="$llama_cmake_args" .venv/bin/python -m pip install -q -e ".$extra" >&2
  echo "$want" > "$stamp"
fi

# The end-of-turn audio model (Smart Turn v3.2, BSD-2-Clause) comes out of the pipecat-ai
# wheel into assets/models/ (the bundle takes all of assets/). Without it Harken still runs.
.venv/bin/python scripts/fetch_smart_turn.py \
  || echo "setup: the end-of-turn model could not be fetched; pauses are judged by the words alone" >&2
