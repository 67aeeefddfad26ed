"""The clipboard tools' clipboard: real QClipboard, used from a worker thread like a tool."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.config.settings import Settings, tool_permissions
from app.desktop.clipboard import QtClipboard


def test_read_and_write_from_a_worker_thread(qtbot: QtBot) -> None:
    clipboard = QtClipboard()
    QGuiApplication.clipboard().setText("before")
    writers: list[bool] = []  # was QClipboard touched on the GUI thread?
    QGuiApplication.clipboard().dataChanged.connect(
        lambda: writers.append(threading.current_thread() is threading.main_thread()),
        Qt.ConnectionType.DirectConnection,
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        read = pool.submit(clipboard.read_text)
        qtbot.waitUntil(read.done, timeout=3000)  # the GUI thread answers while we wait
        assert read.result() == "before"
        write = pool.submit(clipboard.write_text, "from a tool")
        qtbot.waitUntil(write.done, timeout=3000)
        write.result()
    assert QGuiApplication.clipboard().text() == "from a tool"
    assert writers == [True]
    assert clipboard.read_text() == "from a tool"  # and directly on the GUI thread


def test_permissions_follow_the_settings() -> None:
    s = Settings()
    assert tool_permissions(s) == frozenset()
    s.tools.allow_clipboard_read = True
    assert tool_permissions(s) == {"clipboard_read"}
    s.tools.allow_clipboard_write = True
    assert tool_permissions(s) == {"clipboard_read", "clipboard_write"}
