"""What the assistant is doing right now, shown as a coloured dot and a word.

``StateTracker`` turns controller events into one display state: idle,
listening, transcribing, thinking, replying (text only) or speaking
(replying aloud). It never lies: a failed or interrupted turn drops the
assistant-side states at once, and speaking ends with ``TtsStopped``. The
window's indicator and the tray icon share one tracker.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.agent import events as ev
from app.desktop.window.theme import colors


class DisplayState(StrEnum):
    LOADING = "loading"
    IDLE = "idle"
    LISTENING = "listening"
    TRANSCRIBING = "transcribing"
    THINKING = "thinking"
    REPLYING = "replying"
    SPEAKING = "speaking"


LABELS = {
    DisplayState.LOADING: "Loading models…",
    DisplayState.IDLE: "Ready",
    DisplayState.LISTENING: "Listening…",
    DisplayState.TRANSCRIBING: "Transcribing…",
    DisplayState.THINKING: "Thinking…",
    DisplayState.REPLYING: "Replying…",
    DisplayState.SPEAKING: "Speaking…",
}


class StateTracker(QObject):
    changed = Signal(object)  # DisplayState

    def __init__(self, parent: QObject | None = None, *, loading: bool = False) -> None:
        """``loading``: start as "Loading models…" until ``Ready`` (or any state change)."""
        super().__init__(parent)
        self._base = ev.State.IDLE
        self._speaking: set[int] = set()
        self._loading = loading
        self._state = DisplayState.LOADING if loading else DisplayState.IDLE

    @property
    def state(self) -> DisplayState:
        return self._state

    def handle_event(self, event: object) -> None:
        if isinstance(event, ev.Ready):
            self._loading = False
        elif isinstance(event, ev.StateChanged):
            self._loading = False
            self._base = event.state
        elif isinstance(event, ev.TtsStarted):
            self._speaking.add(event.turn_id)
        elif isinstance(event, ev.TtsStopped):
            self._speaking.discard(event.turn_id)
        elif isinstance(event, ev.TurnInterrupted | ev.TurnFailed):
            self._speaking.discard(event.turn_id)
            if self._base in (ev.State.THINKING, ev.State.REPLYING):
                self._base = ev.State.IDLE
        else:
            return
        self._update()

    def _update(self) -> None:
        base = self._base
        if self._loading:
            state = DisplayState.LOADING
        elif base in (ev.State.LISTENING, ev.State.TRANSCRIBING):
            state = DisplayState(base.value)
        elif self._speaking:
            state = DisplayState.SPEAKING
        else:
            state = DisplayState(base.value)
        if state != self._state:
            self._state = state
            self.changed.emit(state)


def state_color(state: DisplayState, dark: bool) -> QColor:
    return QColor(
        {
            DisplayState.LOADING: "#8a8a96",
            DisplayState.IDLE: "#8a8a96",
            DisplayState.LISTENING: "#ff5f57" if dark else "#e5484d",
            DisplayState.TRANSCRIBING: "#f5b342" if dark else "#d97706",
            DisplayState.THINKING: "#f5b342" if dark else "#d97706",
            DisplayState.REPLYING: "#3ccf91" if dark else "#059669",
            DisplayState.SPEAKING: "#3ccf91" if dark else "#059669",
        }[state]
    )


class _Dot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.color = QColor("#8a8a96")
        self.setFixedSize(QSize(12, 12))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.color)
        p.drawEllipse(QRectF(1, 1, 10, 10))
        p.end()


class StateIndicator(QWidget):
    """Dot + label, driven by a ``StateTracker``; its accessible name says the state."""

    def __init__(self, tracker: StateTracker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tracker = tracker
        self._dot = _Dot(self)
        self.label = QLabel(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._dot)
        layout.addWidget(self.label)
        tracker.changed.connect(self._show)
        self._show(tracker.state)

    def _show(self, state: DisplayState) -> None:
        self._dot.color = state_color(state, colors(self.palette()).base.lightness() < 128)
        self._dot.update()
        self.label.setText(LABELS[state])
        self.setAccessibleName(f"Assistant state: {LABELS[state].rstrip('…')}")
        self.setToolTip(LABELS[state])

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light/dark switch: recolour the dot
            self._show(self._tracker.state)
