"""A closed qasync loop leaves no Qt timer behind for another thread to free."""

from __future__ import annotations

import asyncio
import gc
import threading

import qasync
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.desktop.gui import close_loop


def test_pending_timers_die_with_the_loop_on_the_gui_thread(qtbot: QtBot) -> None:
    for _ in range(3):
        loop = qasync.QEventLoop(QApplication.instance())
        loop.call_later(0.2, lambda: None)  # still pending when the loop closes
        loop.run_until_complete(asyncio.sleep(0))
        timer = loop._timer
        close_loop(loop)
        assert not shiboken6.isValid(timer)  # freed here, its timers unregistered
        del loop, timer
        # Whatever is left is collected on a worker thread, as any thread may collect.
        collector = threading.Thread(target=gc.collect)
        collector.start()
        collector.join()
    # Qt fires timers in the order they fall due: once a timer due after the loops' ones
    # has fired, their due time has passed in the event loop and nothing fired into freed
    # memory (it would have crashed the process).
    after_theirs = QTimer()
    after_theirs.setSingleShot(True)
    with qtbot.waitSignal(after_theirs.timeout, timeout=5000):
        after_theirs.start(300)
