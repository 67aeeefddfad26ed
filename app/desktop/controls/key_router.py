"""Space anywhere in the window is push-to-talk, and "?" opens help, unless the key is
needed where the focus is: in a text field, or on another button (Space presses it).
The message box counts as a text field only once it has text in it.

An application-wide event filter, so it sees the key wherever the focus is
inside the window; the push-to-talk button handles its own keys.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.desktop.controls.message_box import MessageBox
from app.desktop.controls.ptt_button import PushToTalkButton


class KeyRouter(QObject):
    def __init__(self, window: QWidget, ptt: PushToTalkButton, on_help: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self.ptt = ptt
        self.on_help = on_help
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self._window or obj is self.ptt:
            return False
        focus = QApplication.focusWidget()
        if focus is not None and obj is not focus:
            return False  # only once per key event, at the focus widget
        assert isinstance(event, QKeyEvent)
        if event.key() == Qt.Key.Key_Space:
            if kind == QEvent.Type.KeyPress and self._space_is_ptt(focus):
                return self.ptt.isEnabled() and self.ptt.key_down(event)
            if kind == QEvent.Type.KeyRelease and (
                self.ptt.held or self.ptt.debouncer.release_pending
            ):
                return self.ptt.key_up(event)
        elif kind == QEvent.Type.KeyPress and event.text() == "?" and self._space_is_ptt(focus):
            self.on_help()
            return True
        return False

    def _space_is_ptt(self, focus: QWidget | None) -> bool:
        """Space is push-to-talk unless it types a space or presses another button."""
        if focus is None:
            return True
        if isinstance(focus, QTextEdit):
            return focus.isReadOnly()
        if isinstance(focus, MessageBox):
            return not focus.toPlainText()  # a leading space is useless: talk instead
        return not isinstance(
            focus, QLineEdit | QPlainTextEdit | QAbstractSpinBox | QComboBox | QAbstractButton
        )
