"""build_desktop: window + tray + hotkey + earcons wired to a bridge, start-up messages shown."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.earcons import EarconPlayer
from app.secrets import SecretStore
from app.settings import Settings
from app.ui.desktop import build_desktop
from tests.support.scripted_bridge import ScriptedBridge


class SilentSoundDevice:
    def __init__(self) -> None:
        self.played: list[object] = []

    def play(self, data: object, samplerate: int, device: object = None) -> None:
        self.played.append(device)


def test_build_desktop(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # no X: the global hotkey must explain itself
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    bridge = ScriptedBridge()
    saved: list[Settings] = []
    desktop = build_desktop(
        app,
        bridge,
        Settings(),
        secrets=SecretStore(),
        startup_messages=["Your settings file was damaged, so Harken started with defaults."],
        on_settings_saved=saved.append,
        earcons=EarconPlayer(sounddevice=SilentSoundDevice()),
    )
    qtbot.addWidget(desktop.window)
    try:
        assert desktop.window.isVisible()
        assert desktop.tray.window is desktop.window and desktop.window.tray is desktop.tray
        assert desktop.hotkey is None
        assert desktop.hotkey_status[0] is False and "X display" in desktop.hotkey_status[1]
        assert desktop.window.hotkey_status == desktop.hotkey_status
        text = desktop.window.view.toPlainText()
        assert "⚠ Your settings file was damaged" in text and "Open Settings" in text

        changed = Settings()
        changed.audio.output_device = "USB Headset"
        desktop.window.settings_saved(changed)  # what Settings → Save calls
        assert saved == [changed]
        assert desktop.earcons is not None and desktop.earcons.device == "USB Headset"
    finally:
        desktop.close()
