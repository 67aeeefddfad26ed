"""What an empty conversation shows: the app icon and how to start, centred in the view."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.desktop.window.icons import app_icon
from app.desktop.window.theme import colors


class Welcome(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.icon = QLabel(self)
        self.icon.setPixmap(app_icon().pixmap(72, 72))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel("Talk to Harken", self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.hint = QLabel(self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.icon)
        layout.addSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addStretch(2)
        self.restyle()

    def restyle(self) -> None:
        dim = colors(self.palette()).dim.name()
        self.hint.setText(
            f"<p style='color:{dim}; line-height:140%'>Hold <b>Space</b> or the <b>Talk</b> "
            "button while you speak, or type below.<br>Talk over a reply at any time to "
            "interrupt it.</p>"
        )
