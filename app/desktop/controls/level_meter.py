"""A live microphone level meter, driven by ``InputLevel`` events.

The bar jumps up at once and falls back smoothly (a peak-meter ballistic),
animated by a timer that runs only while the bar is moving. The accessible
description is updated in 10 % steps, not on every block, so screen readers
are not flooded.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.agent import events as ev
from app.desktop.window.theme import colors, mix

FALL_PER_S = 1.6  # full scale to zero in ~0.6 s
FRAME_MS = 33


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Microphone level")
        self.setAccessibleDescription("0 %")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._target = 0.0
        self._level = 0.0
        self._last = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._step)
        self._announced = 0

    @property
    def level(self) -> float:
        """What the bar shows now, 0..1."""
        return self._level

    def sizeHint(self) -> QSize:
        return QSize(160, 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, 8)

    def handle_event(self, event: object) -> None:
        if isinstance(event, ev.InputLevel):
            self.set_level(event.normalised)

    def set_level(self, value: float) -> None:
        self._target = min(1.0, max(0.0, value))
        if self._target >= self._level:
            self._level = self._target
            self._changed()
        if not self._timer.isActive():
            self._last = time.monotonic()
            self._timer.start()

    def _step(self) -> None:
        now = time.monotonic()
        fall = FALL_PER_S * (now - self._last)
        self._last = now
        self._level = max(self._target, self._level - fall)
        self._changed()
        if self._level <= self._target:
            self._timer.stop()

    def _changed(self) -> None:
        step = round(self._level * 10)
        if step != self._announced:
            self._announced = step
            self.setAccessibleDescription(f"{step * 10} %")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        c = colors(self.palette())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = r.height() / 2
        p.setBrush(mix(c.base, c.text, 0.12))
        p.drawRoundedRect(r, radius, radius)
        if self._level > 0.002:
            filled = QRectF(r.left(), r.top(), max(r.height(), r.width() * self._level), r.height())
            gradient = QLinearGradient(r.topLeft(), r.topRight())
            gradient.setColorAt(0.0, c.ok)
            gradient.setColorAt(0.7, c.ok)
            gradient.setColorAt(0.85, c.warn)
            gradient.setColorAt(1.0, QColor(c.danger))
            p.setBrush(gradient)
            p.drawRoundedRect(filled, radius, radius)
        p.end()
