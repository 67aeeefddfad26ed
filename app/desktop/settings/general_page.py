"""Settings → General: the window (theme, latency line, tray), the agent's prompt, its tools."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.config.settings import Settings
from app.desktop.settings.widgets import named


class GeneralPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = QComboBox(self)
        self.theme.addItem("Follow the system", "system")
        self.theme.addItem("Light", "light")
        self.theme.addItem("Dark", "dark")
        self.show_latency = QCheckBox("Show &latency under each reply", self)
        self.close_to_tray = QCheckBox("&Closing the window keeps Harken in the tray", self)
        self.system_prompt = QPlainTextEdit(self)
        self.system_prompt.setPlaceholderText("Leave empty for the built-in prompt")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setMaximumHeight(110)
        self.clipboard_read = QCheckBox("Let the assistant &read the clipboard", self)
        self.clipboard_write = QCheckBox("Let the assistant &write to the clipboard", self)

        form = QFormLayout()
        form.addRow("&Theme:", named(self.theme, "Theme"))
        form.addRow("", named(self.show_latency, "Show latency"))
        form.addRow("", named(self.close_to_tray, "Close to tray"))
        form.addRow("System &prompt:", named(self.system_prompt, "System prompt"))
        form.addRow("Tools:", named(self.clipboard_read, "Allow clipboard read"))
        form.addRow("", named(self.clipboard_write, "Allow clipboard write"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

    def fill(self, s: Settings) -> None:
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.ui.theme)))
        self.show_latency.setChecked(s.ui.show_latency)
        self.close_to_tray.setChecked(s.ui.close_to_tray)
        self.system_prompt.setPlainText(s.agent.system_prompt)
        self.clipboard_read.setChecked(s.tools.allow_clipboard_read)
        self.clipboard_write.setChecked(s.tools.allow_clipboard_write)

    def read(self, s: Settings) -> None:
        s.ui.theme = str(self.theme.currentData())
        s.ui.show_latency = self.show_latency.isChecked()
        s.ui.close_to_tray = self.close_to_tray.isChecked()
        s.agent.system_prompt = self.system_prompt.toPlainText().strip()
        s.tools.allow_clipboard_read = self.clipboard_read.isChecked()
        s.tools.allow_clipboard_write = self.clipboard_write.isChecked()
