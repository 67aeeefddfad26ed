"""The system clipboard for the clipboard tools, safe to call from their worker threads.

Tools run in worker threads, but ``QClipboard`` may only be touched on the
GUI thread. Calls from another thread are handed to the GUI thread through
a queued signal and waited for (with a timeout, so a busy or closing window
cannot hang a tool).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication

from app.agent.tools.registry import ToolError

WAIT_S = 3.0


class QtClipboard(QObject):
    """Implements ``app.agent.tools.registry.Clipboard``; create it on the GUI thread."""

    _call = Signal(object, object)  # (function, Future), delivered on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._gui_thread = threading.current_thread()
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def read_text(self) -> str:
        return str(self._on_gui_thread(lambda: QGuiApplication.clipboard().text()))

    def write_text(self, text: str) -> None:
        self._on_gui_thread(lambda: QGuiApplication.clipboard().setText(text))

    def _on_gui_thread(self, func: Callable[[], Any]) -> Any:
        if threading.current_thread() is self._gui_thread:
            return func()
        future: Future[Any] = Future()
        self._call.emit(func, future)
        try:
            return future.result(timeout=WAIT_S)
        except FutureTimeout:
            raise ToolError("The clipboard did not answer; try again.") from None

    def _run(self, func: Callable[[], Any], future: Future[Any]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(func())
        except Exception as exc:
            future.set_exception(exc)
