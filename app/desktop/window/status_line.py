"""The status bar: one line of what is happening (it fades after a while), and the speech model.

``StatusLine`` words the controller's status-worthy events (models ready,
errors, a false interruption); a newer message replaces an older one, and
a message with a timeout is cleared only if nothing replaced it meanwhile.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar

from app.agent import events as ev


class StatusLine:
    def __init__(self, bar: QStatusBar) -> None:
        self.label = QLabel(bar)
        self.label.setAccessibleName("Status")
        self.model_label = QLabel(bar)
        self.model_label.setObjectName("modelLabel")
        bar.addWidget(self.label, 1)
        bar.addPermanentWidget(self.model_label)
        self._serial = 0

    def show(self, text: str, *, timeout_ms: int = 8000) -> None:
        self.label.setText(text)
        self.label.setToolTip(text)
        self._serial += 1
        serial = self._serial
        if timeout_ms:
            QTimer.singleShot(timeout_ms, self.label, lambda: self._clear(serial))

    def _clear(self, serial: int) -> None:
        if serial == self._serial:
            self.label.setText("")

    def handle_event(self, event: object, *, hands_free: bool) -> None:
        if isinstance(event, ev.Status):
            self.show(event.text)
        elif isinstance(event, ev.ErrorEvent | ev.TurnFailed):
            self.show(f"⚠ {event.message}", timeout_ms=0)
        elif isinstance(event, ev.Ready):
            self.model_label.setText(f"Speech: {event.stt_model}" if event.stt_model else "")
            how = (
                "Just start talking." if hands_free else "Hold Space or the Talk button and speak."
            )
            self.show(f"Ready. {how}")
        elif isinstance(event, ev.FalseInterruption):
            self.show("Didn't catch any words, so the reply carries on.", timeout_ms=3000)
