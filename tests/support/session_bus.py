"""A private D-Bus session bus and the fake desktop portal on it, as pytest fixtures.

``session_bus`` (fixture; ``pytest_plugins = ["tests.support.session_bus"]``)
starts ``dbus-daemon --session`` (Debian package ``dbus``) and yields its
address; it skips, with the reason, when dbus-daemon is not installed. The
daemon is stopped by its process id at the end.

``start_fake_portal(bus, *flags)`` runs ``tests.support.fake_portal`` on it
and returns the process once it owns the portal's name; ``stop(proc)`` ends
it. ``wayland_session(monkeypatch, bus)`` makes this process look like a
Wayland session whose session bus is ``bus``.

(PYTEST_DONT_REWRITE: test modules import this before registering it as a plugin.)
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _read_line(proc: subprocess.Popen[bytes], timeout_s: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout_s)
        chunk = os.read(fd, 256) if ready else b""
        if not chunk:
            break
        line += chunk
    return line.decode().strip()


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture
def session_bus() -> Iterator[str]:
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        address = _read_line(proc, 20)
        if not address.startswith("unix:"):
            pytest.skip(f"dbus-daemon did not start ({address!r})")
        yield address
    finally:
        stop(proc)


def start_fake_portal(bus: str, *flags: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_portal", "--bus", bus, *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    line = _read_line(proc, 20)
    if line != "READY":
        stop(proc)
        raise AssertionError(f"the fake portal did not start: {line!r}")
    return proc


def wayland_session(monkeypatch: pytest.MonkeyPatch, bus: str) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus)
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-harken-test")
    monkeypatch.delenv("DISPLAY", raising=False)
