"""build_desktop: window + tray + hotkey + earcons wired to a bridge, start-up messages shown."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config.first_run import Offer
from app.config.secrets import SecretStore
from app.config.settings import Settings, load_settings
from app.desktop.conversation.conversation_view import ConversationView
from app.desktop.earcons import EarconPlayer
from app.desktop.wiring import build_desktop
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


def click_link(qtbot: QtBot, view: ConversationView, label: str) -> None:
    doc = view.document()
    found = doc.find(label)
    probe = QTextCursor(doc)
    while True:
        assert not found.isNull(), f"no link {label!r}"
        probe.setPosition(found.selectionStart() + 1)
        if probe.charFormat().isAnchor():
            break
        found = doc.find(label, found.selectionEnd())
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(probe).center()
    )


def test_first_run_offers_can_be_used_with_one_click(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    saved: list[Settings] = []
    offers = [
        Offer(
            "ollama",
            "Ollama at localhost:11434 (2 models)",
            "openai",
            "http://localhost:11434/v1",
            ("llama3.2", "qwen2.5"),
        ),
        Offer(
            "anthropic",
            "Anthropic (key from ANTHROPIC_API_KEY)",
            "anthropic",
            "https://api.anthropic.com",
            (),
            "ANTHROPIC_API_KEY",
        ),
    ]
    desktop = build_desktop(
        app,
        ScriptedBridge(),
        Settings(),
        first_run_offers=offers,
        on_settings_saved=saved.append,
        earcons=EarconPlayer(sounddevice=SilentSoundDevice()),
    )
    qtbot.addWidget(desktop.window)
    try:
        view = desktop.window.view
        view.resize(900, 600)
        text = view.toPlainText()
        assert "💡 Found Ollama at localhost:11434 (2 models).  Use it" in text
        assert "Found Anthropic (key from ANTHROPIC_API_KEY)." in text
        click_link(qtbot, view, "Use it")
        assert len(saved) == 1
        p = saved[0].provider
        assert (p.preset, p.kind, p.base_url, p.model) == (
            "ollama",
            "openai",
            "http://localhost:11434/v1",
            "llama3.2",
        )
        assert load_settings().settings.provider.base_url == "http://localhost:11434/v1"
        assert "Now using Ollama" in desktop.window.status_label.text()
    finally:
        desktop.close()


def test_first_run_with_nothing_found_says_what_to_do(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    desktop = build_desktop(
        app,
        ScriptedBridge(),
        Settings(),
        first_run_offers=[],
        earcons=EarconPlayer(sounddevice=SilentSoundDevice()),
    )
    qtbot.addWidget(desktop.window)
    try:
        opened: list[bool] = []
        desktop.window.view.settings_requested.connect(lambda: opened.append(True))
        assert "Harken needs a language model" in desktop.window.view.toPlainText()
        click_link(qtbot, desktop.window.view, "Open Settings")
        assert opened == [True]
    finally:
        if desktop.window.settings_dialog is not None:
            desktop.window.settings_dialog.close()
        desktop.close()


def test_a_plaintext_keyring_is_refused_and_the_window_says_the_key_is_for_this_session(
    qtbot: QtBot,
) -> None:
    file_backend = pytest.importorskip(
        "keyrings.alt.file", reason="keyrings.alt is not installed: nothing plain to refuse"
    )
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    secrets = SecretStore(backend=file_backend.PlaintextKeyring())
    assert secrets.get("openai", "https://api.openai.com/v1") is None  # what start-up asks
    desktop = build_desktop(
        app,
        ScriptedBridge(),
        Settings(),
        secrets=secrets,
        earcons=EarconPlayer(sounddevice=SilentSoundDevice()),
    )
    qtbot.addWidget(desktop.window)
    try:
        text = desktop.window.view.toPlainText()
        assert "would store the API key unencrypted" in text
        assert "only until it quits" in text
    finally:
        desktop.close()


def test_the_earcons_follow_an_output_device_flag_that_is_never_saved(qtbot: QtBot) -> None:
    """The window holds the saved settings; what this run overrides is laid over them."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)

    def effective(s: Settings) -> Settings:
        import copy

        s = copy.deepcopy(s)
        s.audio.output_device = "Flag Speaker"
        return s

    desktop = build_desktop(
        app,
        ScriptedBridge(),
        Settings(),
        earcons=EarconPlayer(sounddevice=SilentSoundDevice()),
        overridden=frozenset({"audio.output_device"}),
        effective=effective,
    )
    qtbot.addWidget(desktop.window)
    try:
        desktop.window.toggle_latency()
        assert load_settings().settings.audio.output_device == ""  # the flag was not saved
        desktop.window.settings_saved(Settings())
        assert desktop.earcons is not None and desktop.earcons.device == "Flag Speaker"
    finally:
        desktop.close()
