"""A private D-Bus session bus and the fake desktop portal on it, as pytest fixtures.

``session_bus`` (fixture; ``pytest_plugins = ["tests.support.session_bus"]``)
starts ``dbus-daemon --session`` (Debian package ``dbus``) and yields its
address; it skips, with the reason, when dbus-daemon is not installed. The
daemon is stopped by its process id at the end.

``start_fake_portal(bus, *flags)`` runs ``tests.support.fake_portal`` on it
and returns the process once it owns the portal's name; ``stop(proc)`` ends
it. ``wayland_session(monkeypatch, bus)`` makes this process look like a
Wayland session whose session bus is ``bus``.

``portal_env`` (fixture) does that for the test, with a private socket
directory for the single-instance server; ``fake_portal`` starts the fake
portal with the test's ``portal_flags`` (default none; parametrize it) and
yields a ``FakePortalClient``. ``await until_status(hotkeys, check, what)``
waits, on ``status_changed`` and never sleeping, until the app's
``HotkeyService`` status passes ``check``.

(PYTEST_DONT_REWRITE: test modules import this before registering it as a plugin.)
"""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.hotkey import HotkeyService, HotkeyStatus
from tests.support.fake_portal import FakePortalClient

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


@pytest.fixture
def portal_env(monkeypatch: pytest.MonkeyPatch, session_bus: str, tmp_path: Path) -> str:
    """This process looks like a Wayland session whose session bus is the private one."""
    wayland_session(monkeypatch, session_bus)
    monkeypatch.delenv("HARKEN_DEBUG_DUMP", raising=False)
    sockets = tmp_path / "sockets"  # the single-instance socket: never meet another Harken
    sockets.mkdir()
    monkeypatch.setenv("TMPDIR", str(sockets))
    return session_bus


@pytest.fixture
def portal_flags() -> list[str]:
    return []


@pytest.fixture
def fake_portal(portal_env: str, portal_flags: list[str]) -> Iterator[FakePortalClient]:
    proc = start_fake_portal(portal_env, *portal_flags)
    client = FakePortalClient(portal_env)
    try:
        yield client
    finally:
        client.close()
        stop(proc)


async def until_status(
    hotkeys: HotkeyService, check: Any, what: str, timeout_s: float = 10.0
) -> HotkeyStatus:
    """Wait (on ``status_changed``, never sleeping) until ``check(status)`` is true."""
    changed = asyncio.Event()

    def poke(_status: object) -> None:
        changed.set()

    hotkeys.status_changed.connect(poke)
    try:
        async with asyncio.timeout(timeout_s):
            while not check(hotkeys.status):
                changed.clear()
                await changed.wait()
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout_s} s; {hotkeys.status}") from None
    finally:
        hotkeys.status_changed.disconnect(poke)
    return hotkeys.status
