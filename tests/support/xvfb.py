"""A private X server (Xvfb) for tests that show the real window on a real display.

``xvfb_display`` (fixture; ``pytest_plugins = ["tests.support.xvfb"]``) starts
``Xvfb`` on a display number it picks itself (``-displayfd``: the first free
one, so parallel test runs never collide) and yields ``":N"``; it skips, with
the reason, when Xvfb is not installed or does not start. The server is
stopped by its process id at the end.

- ``screenshot(display, path, window="Harken") -> bool``: ImageMagick's
  ``import`` grabs the named window (the whole screen when no such window);
  False when ``import`` is not installed.

(PYTEST_DONT_REWRITE: test modules import this before registering it as a plugin.)
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCREEN = "1280x800x24"


@pytest.fixture
def xvfb_display(tmp_path: Path) -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")  # closed below
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    os.close(write_fd)
    try:
        number = b""
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], 20)
            chunk = os.read(read_fd, 16) if ready else b""
            if not chunk:
                break
            number += chunk
        if not number.strip().isdigit():
            proc.terminate()
            proc.wait(timeout=5)
            log.close()
            reason = (tmp_path / "xvfb.log").read_text(errors="replace").strip()[-300:]
            pytest.skip(f"Xvfb did not start: {reason or 'no display number reported'}")
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()


def screenshot(display: str, path: Path, window: str = "Harken") -> bool:
    """Save ``window`` (or, failing that, the whole screen) on ``display`` as ``path``."""
    if shutil.which("import") is None:
        return False
    env = {**os.environ, "DISPLAY": display}
    for target in (window, "root"):
        done = subprocess.run(
            ["import", "-window", target, str(path)], env=env, capture_output=True, timeout=30
        )
        if done.returncode == 0 and path.exists():
            return True
    raise AssertionError(f"import could not grab the screen: {done.stderr.decode()[-300:]}")
