"""Help → About: what Harken is, its version, and every keyboard shortcut."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from app.desktop.window.icons import app_icon
from app.version import app_version

SHORTCUTS = (
    ("Space (hold)", "Push to talk"),
    ("Esc", "Stop the reply"),
    ("Enter / Shift+Enter", "Send / new line"),
    ("Ctrl+N", "New conversation"),
    ("Ctrl+L", "Type a message"),
    ("Ctrl+,", "Settings"),
    ("F2 / Del", "Rename / delete the selected conversation"),
    ("Ctrl+B", "Show or hide the conversation list"),
    ("F1 or ?", "This help"),
    ("Ctrl+Q", "Quit"),
)


def about_box(parent: QWidget | None) -> QMessageBox:
    rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    box = QMessageBox(parent)
    box.setWindowTitle("About Harken")
    box.setIconPixmap(app_icon().pixmap(64, 64))
    box.setText(
        f"<h3>Harken {app_version()}</h3>"
        "<p>A desktop voice assistant you can talk over: local Whisper speech recognition, "
        "streamed replies, and instant barge-in.</p>"
    )
    box.setInformativeText(f"<table>{rows}</table>")
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box
