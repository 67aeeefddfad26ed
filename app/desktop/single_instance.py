"""One Harken per user: a second launch brings the running window forward and exits."""

from __future__ import annotations

import getpass
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket


def _name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    return f"harken-{user}"


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
    """Listens for later launches; ``on_activate`` shows the window."""

    def __init__(self, on_activate: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_activate = on_activate
        self._server = QLocalServer(self)
        QLocalServer.removeServer(_name())  # a stale socket left by a crash
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
