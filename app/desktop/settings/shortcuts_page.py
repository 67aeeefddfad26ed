"""Settings → Shortcuts: the global push-to-talk hotkey, whether it works, and the window's keys.

The status comes from ``HotkeyService`` and follows it while the page is
open (the desktop portal answers asynchronously, and the user may change
the trigger in the desktop's own settings). With the portal backend the
trigger shown is the one the desktop assigned, and "Change…" opens the
desktop's shortcut editor when its portal has one (GlobalShortcuts ≥ 2).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config.settings import Settings
from app.desktop.settings.widgets import hint, named

BACKENDS = {
    "portal": "the desktop portal (Wayland)",
    "x11": "the keyboard (X11)",
}

# The window's own keys (menus.py and key_router.py), listed for reference.
WINDOW_KEYS = (
    ("Space (hold)", "Talk, while no text field has the focus"),
    ("Esc", "Stop the reply"),
    ("Enter", "Send the typed message"),
    ("Ctrl+L", "Type a message"),
    ("Ctrl+N", "New conversation"),
    ("Ctrl+B", "Show or hide the conversation list"),
    ("F2", "Rename the conversation"),
    ("Ctrl+,", "Settings"),
    ("F1 or ?", "About and shortcuts"),
    ("Ctrl+Q", "Quit"),
)


class ShortcutsPage(QWidget):
    configure_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hotkey_enabled = QCheckBox("&Global push-to-talk hotkey (works in other apps)", self)
        self.hotkey = QLineEdit(self)
        self.hotkey.setPlaceholderText("<ctrl>+<alt>+space")
        self.state = QLabel(self)
        self.state.setObjectName("hotkeyState")
        self.trigger = QLabel(self)
        self.trigger.setObjectName("hotkeyTrigger")
        self.configure = QPushButton("C&hange…", self)
        self.configure.setToolTip("Open your desktop's editor for Harken's shortcut")
        self.configure.clicked.connect(self.configure_requested)
        self.configure.hide()
        self.hotkey_note = hint("", self)
        trigger_row = QHBoxLayout()
        trigger_row.addWidget(self.trigger, 1)
        trigger_row.addWidget(self.configure)

        box = QGroupBox("Global hotkey", self)
        form = QFormLayout()
        form.addRow("", named(self.hotkey_enabled, "Global hotkey enabled"))
        form.addRow("&Preferred keys:", named(self.hotkey, "Global hotkey"))
        form.addRow("Status:", named(self.state, "Global hotkey status"))
        form.addRow("Keys to hold:", trigger_row)
        box_layout = QVBoxLayout(box)
        box_layout.addLayout(form)
        box_layout.addWidget(self.hotkey_note)  # outside the form, so it wraps to full width

        keys = QGroupBox("In the Harken window", self)
        grid = QGridLayout(keys)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(4)
        self.window_keys: list[tuple[QLabel, QLabel]] = []
        for row, (key, does) in enumerate(WINDOW_KEYS):
            key_label = QLabel(f"<b>{key}</b>", keys)
            does_label = QLabel(does, keys)
            grid.addWidget(key_label, row, 0)
            grid.addWidget(does_label, row, 1)
            self.window_keys.append((key_label, does_label))

        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(keys)
        layout.addStretch(1)

    def fill(self, s: Settings, status: Any = None) -> None:
        self.hotkey_enabled.setChecked(s.hotkey.enabled)
        self.hotkey.setText(s.hotkey.global_hotkey)
        self.show_status(status)

    def read(self, s: Settings) -> None:
        s.hotkey.enabled = self.hotkey_enabled.isChecked()
        s.hotkey.global_hotkey = self.hotkey.text().strip() or s.hotkey.global_hotkey

    def show_status(self, status: Any) -> None:
        """A ``HotkeyStatus`` (None: not started in this window, e.g. a test)."""
        if status is None:
            self.state.setText("Not started")
            self.trigger.setText("—")
            self.hotkey_note.setText(
                "Hold the combination anywhere to talk; Space still works in this window."
            )
            self.configure.hide()
            return
        via = BACKENDS.get(status.backend, "")
        if status.active:
            self.state.setText(f"✓ Active, through {via}" if via else "✓ Active")
        else:
            self.state.setText("Off" if status.backend == "off" else "Not available")
        self.trigger.setText(status.trigger or "—")
        self.hotkey_note.setText(status.message)
        self.configure.setVisible(bool(status.can_configure))
