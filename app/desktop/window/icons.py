"""SVG icons from ``assets/icons``, drawn at whatever size and pixel ratio is asked for.

Line icons use ``currentColor``; it is replaced with the palette's text
colour (or a given colour), so they read well on light and dark palettes.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtSvg import QSvgRenderer

from app.config.paths import resource_path

STATE_ICONS = {
    "loading": "state-idle",
    "idle": "state-idle",
    "listening": "state-listening",
    "transcribing": "state-thinking",
    "thinking": "state-thinking",
    "replying": "state-speaking",
    "speaking": "state-speaking",
}


class SvgIconEngine(QIconEngine):
    def __init__(self, svg: bytes) -> None:
        super().__init__()
        self._svg = svg
        self._renderer = QSvgRenderer(QByteArray(svg))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.save()
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)
        self._renderer.render(painter, QRectF(rect))
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pixmap = QPixmap(size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> QIconEngine:
        return SvgIconEngine(self._svg)


@cache
def _svg(name: str) -> bytes:
    return resource_path(f"icons/{name}.svg").read_bytes()


def icon(name: str, color: QColor | None = None) -> QIcon:
    """A line icon (``mic``, ``stop``, ``send``, ``new``, ``settings``, ``hands-free``,
    ``timer``, ``hint``)."""
    if color is None:
        color = QGuiApplication.palette().color(QPalette.ColorRole.ButtonText)
    svg = _svg(name).replace(b"currentColor", color.name().encode())
    return QIcon(SvgIconEngine(svg))


def app_icon() -> QIcon:
    return QIcon(SvgIconEngine(_svg("harken")))


def state_icon(state: str) -> QIcon:
    """The tray icon for a display state (see ``state_indicator.DisplayState``)."""
    return QIcon(SvgIconEngine(_svg(STATE_ICONS.get(state, "state-idle"))))


def icon_image(name: str, color: QColor, size_px: int, ratio: float = 1.0) -> QImage:
    """A line icon drawn in ``color`` as an image of ``size_px`` logical pixels (for text
    documents, which show images but not ``QIcon``s)."""
    svg = _svg(name).replace(b"currentColor", color.name().encode())
    side = max(1, round(size_px * ratio))
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(QByteArray(svg)).render(painter, QRectF(0, 0, side, side))
    painter.end()
    image.setDevicePixelRatio(ratio)
    return image
