"""The text box for typed turns: Enter sends, Shift+Enter starts a new line.

It grows with its content up to a few lines, then scrolls.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy, QWidget

MAX_LINES = 6


class MessageBox(QPlainTextEdit):
    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBox")
        self.setPlaceholderText("Type a message…  (Enter sends, Shift+Enter for a new line)")
        self.setAccessibleName("Message")
        self.setAccessibleDescription("Type a message; Enter sends it, Shift+Enter adds a line.")
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().contentsChanged.connect(self.updateGeometry)
        self.document().setDocumentMargin(6)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.clear()
            self.submitted.emit(text)

    def sizeHint(self) -> QSize:
        lines = max(1, min(MAX_LINES, self.document().lineCount()))
        line_h = self.fontMetrics().lineSpacing()
        margins = self.contentsMargins()
        doc_margin = int(self.document().documentMargin() * 2)
        height = lines * line_h + doc_margin + margins.top() + margins.bottom() + 2
        return QSize(300, height)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()
