"""One Harken per user: a second launch brings the running window forward and exits.

"Am I first?" is decided by a ``QLockFile`` that the running Harken holds for its
whole life, next to its instance socket (Qt's runtime/temp directory). Checking
for the socket alone was a race: two launches at the same moment both found no
server, both started, and each deleted the other's socket (``removeServer``); a
third launch then started beside the survivor. The lock is taken atomically and
a crashed Harken's lock is recognised as stale (its process is gone) and taken
over, so only the lock's holder ever listens on (or removes) the socket.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

ACTIVATE_WAIT_S = 5.0  # how long a second launch tries to reach a first one still starting


def _name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    return f"harken-{user}"


class InstanceLock:
    """The lock the one running Harken holds (``acquire``) until it quits (``release``)."""

    def __init__(self, directory: Path | None = None) -> None:
        folder = directory or Path(QDir.tempPath())  # where QLocalServer puts the socket
        self.path = folder / f"{_name()}.lock"
        self._lock = QLockFile(str(self.path))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age

    def acquire(self) -> bool:
        return self._lock.tryLock(0)

    def release(self) -> None:
        self._lock.unlock()


def claim_or_activate(wait_s: float = ACTIVATE_WAIT_S) -> InstanceLock | None:
    """The lock when this is the first Harken; otherwise ask the running one to show its
    window (retrying while it may still be starting its server) and return None."""
    lock = InstanceLock()
    if lock.acquire():
        return lock
    deadline = time.monotonic() + wait_s
    while not activate_running() and time.monotonic() < deadline:
        time.sleep(0.05)  # the first one holds the lock but is not listening yet
    return None


def activate_running(timeout_ms: int = 500) -> bool:
    """If Harken is already running, ask it to show its window and return True."""
    socket = QLocalSocket()
    socket.connectToServer(_name())
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(b"show\n")
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for later launches; ``on_activate`` shows the window. Only the holder of
    the :class:`InstanceLock` creates one."""

    def __init__(self, on_activate: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_activate = on_activate
        self._server = QLocalServer(self)
        QLocalServer.removeServer(_name())  # a stale socket left by a crash (we hold the lock)
        self._server.listen(_name())
        self._server.newConnection.connect(self._accept)

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            conn = self._server.nextPendingConnection()
            conn.readyRead.connect(conn.readAll)
            conn.disconnected.connect(conn.deleteLater)
            self._on_activate()

    def close(self) -> None:
        self._server.close()
