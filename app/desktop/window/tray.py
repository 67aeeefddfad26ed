"""The system-tray icon: shows the assistant's state and keeps Harken reachable when hidden.

Its icon and tooltip follow the window's ``StateTracker``; the menu shows or
hides the window, toggles push-to-talk (first click starts recording, the
second sends), toggles hands-free, and quits. When the tray exists and the
setting is on, closing the window hides it here instead of quitting.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.desktop.controls.state_indicator import LABELS, DisplayState
from app.desktop.window.icons import state_icon


class Tray(QObject):
    def __init__(self, window: Any, parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        window.tray = self
        self._recording = False
        self._told_hidden = False
        self.icon = QSystemTrayIcon(state_icon("idle"), self)
        self.menu = QMenu()
        self.show_action = QAction("Hide Harken", self.menu)
        self.show_action.triggered.connect(self.toggle_window)
        self.talk_action = QAction("Push to talk", self.menu)
        self.talk_action.setCheckable(True)
        self.talk_action.triggered.connect(self.toggle_talk)
        self.hands_free_action = QAction("Hands-free", self.menu)
        self.hands_free_action.setCheckable(True)
        self.hands_free_action.setChecked(window.hands_free.isChecked())
        self.hands_free_action.triggered.connect(window.set_hands_free)
        window.hands_free.toggled.connect(self._hands_free_changed)
        self.quit_action = QAction("Quit Harken", self.menu)
        self.quit_action.triggered.connect(window.quit)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.talk_action)
        self.menu.addAction(self.hands_free_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.menu.aboutToShow.connect(self._sync_show_text)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        window.tracker.changed.connect(self._state_changed)
        self._state_changed(window.tracker.state)
        if self.available():
            self.icon.show()

    def available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    @property
    def tooltip(self) -> str:
        return self.icon.toolTip()

    def toggle_window(self) -> None:
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.ptt.debouncer.cancel()
            self.window.hide()
        else:
            self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()
        self._sync_show_text()

    def toggle_talk(self) -> None:
        if self._recording:
            self._recording = False
            self.window.bridge.push_to_talk_release()
        else:
            self._recording = True
            self.window.bridge.push_to_talk_press()
        self.talk_action.setChecked(self._recording)
        self.talk_action.setText("Stop and send" if self._recording else "Push to talk")

    def notify_hidden(self) -> None:
        """The window was closed to the tray: say so, once per session."""
        if not self._told_hidden and self.icon.supportsMessages():
            self._told_hidden = True
            self.icon.showMessage(
                "Harken is still running",
                "It stays in the tray. Use its menu to show the window or quit.",
                QSystemTrayIcon.MessageIcon.Information,
                4000,
            )
        self._sync_show_text()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    def _sync_show_text(self) -> None:
        visible = self.window.isVisible() and not self.window.isMinimized()
        self.show_action.setText("Hide Harken" if visible else "Show Harken")

    def _hands_free_changed(self, on: bool) -> None:
        self.hands_free_action.setChecked(on)
        self.talk_action.setEnabled(not on)

    def _state_changed(self, state: DisplayState) -> None:
        self.icon.setIcon(state_icon(state.value))
        self.icon.setToolTip(f"Harken: {LABELS[state]}")
