"""The settings dialog: presets, saving what was edited, the key in the keyring, live probes."""

from __future__ import annotations

import keyring
from pytestqt.qtbot import QtBot

from app.config.audio_devices import Device
from app.config.secrets import SecretStore
from app.config.settings import HotkeySettings, Settings
from app.desktop.gui import close_loop
from app.desktop.hotkey import HotkeyService
from app.desktop.settings.audio_page import DEFAULT_DEVICE, NO_MIC
from app.desktop.settings.settings_dialog import SettingsDialog
from tests.support.models_server import ModelsServer

DEVICES = [
    Device(0, "Built-in Microphone", 2, 0),
    Device(1, "USB Headset (hw:2,0)", 1, 2),
    Device(2, "HDMI Output", 0, 8),
]


def make(
    qtbot: QtBot, settings: Settings | None = None, **kwargs: object
) -> tuple[SettingsDialog, list[Settings]]:
    kwargs.setdefault("devices", lambda: DEVICES)
    dialog = SettingsDialog(settings or Settings(), SecretStore(), **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    saved: list[Settings] = []
    dialog.saved.connect(saved.append)
    dialog.show()
    return dialog, saved


def test_saves_what_was_edited(qtbot: QtBot) -> None:
    dialog, saved = make(qtbot)
    p, a, g = dialog.provider, dialog.audio, dialog.general
    p.preset.setCurrentIndex(p.preset.findData("ollama"))
    assert p.base_url.text() == "http://localhost:11434/v1"
    p.model.setEditText("llama3.2")
    a.input_device.setCurrentIndex(a.input_device.findText("USB Headset (hw:2,0)"))
    a.output_device.setCurrentIndex(a.output_device.findText("HDMI Output"))
    a.hands_free.setChecked(True)
    a.barge_in.setChecked(False)
    a.hangover.setValue(750)
    assert a.adaptive_hangover.isChecked() and a.hangover_min.isEnabled()
    a.hangover_min.setValue(1500)  # the bounds the wrong way round are sorted on save
    a.hangover_max.setValue(450)
    a.speech_output.setChecked(False)
    assert a.echo_cancellation.isChecked()  # on by default
    a.echo_cancellation.setChecked(False)  # a headset
    a.voice.setCurrentIndex(a.voice.findData("system"))
    g.theme.setCurrentIndex(g.theme.findData("dark"))
    g.show_latency.setChecked(False)
    g.close_to_tray.setChecked(False)
    g.system_prompt.setPlainText("Answer like a pirate.")
    dialog.shortcuts.hotkey.setText("<ctrl>+<shift>+h")
    g.clipboard_read.setChecked(True)
    dialog.buttons.accepted.emit()
    assert len(saved) == 1
    s = saved[0]
    assert (s.provider.preset, s.provider.kind) == ("ollama", "openai")
    assert (s.provider.base_url, s.provider.model) == ("http://localhost:11434/v1", "llama3.2")
    assert s.audio.input_device == "USB Headset (hw:2,0)"
    assert s.audio.output_device == "HDMI Output"
    assert s.audio.input_mode == "hands_free"
    assert (s.audio.barge_in, s.audio.hangover_ms, s.audio.speech_output) == (False, 750, False)
    assert s.audio.voice == "system"
    assert s.audio.echo_cancellation is False
    assert (s.audio.adaptive_hangover, s.audio.hangover_min_ms, s.audio.hangover_max_ms) == (
        True,
        450,
        1500,
    )
    assert (s.ui.theme, s.ui.show_latency, s.ui.close_to_tray) == ("dark", False, False)
    assert s.agent.system_prompt == "Answer like a pirate."
    assert s.hotkey.global_hotkey == "<ctrl>+<shift>+h"
    assert s.tools.allow_clipboard_read and not s.tools.allow_clipboard_write
    assert not dialog.isVisible()


def test_cancel_saves_nothing(qtbot: QtBot) -> None:
    dialog, saved = make(qtbot)
    dialog.general.show_latency.setChecked(False)
    dialog.reject()
    assert saved == []


def test_api_keys_go_to_the_keyring_per_preset(qtbot: QtBot) -> None:
    keyring.set_password("harken", "anthropic", "ant-old")  # saved by an earlier version
    dialog, _ = make(qtbot)
    p = dialog.provider
    assert p.api_key.echoMode() == p.api_key.EchoMode.Password
    p.api_key.setText("sk-openai-new")
    p.preset.setCurrentIndex(p.preset.findData("anthropic"))
    assert p.api_key.text() == "ant-old"  # each preset shows its own key
    assert p.base_url.text() == "https://api.anthropic.com"
    p.api_key.setText("ant-new")
    dialog.save()
    assert keyring.get_password("harken", "openai https://api.openai.com/v1") == "sk-openai-new"
    assert keyring.get_password("harken", "anthropic https://api.anthropic.com") == "ant-new"
    assert keyring.get_password("harken", "anthropic") is None


def test_a_stored_key_stays_with_its_base_url(qtbot: QtBot) -> None:
    """Changing the base URL does not carry the stored key along: the field shows the key
    saved for the new URL (none), and saving stores nothing for it. A key the user types
    is saved for the URL they give."""
    keyring.set_password("harken", "openai https://api.openai.com/v1", "sk-openai-stored")
    dialog, saved = make(qtbot)
    p = dialog.provider
    assert p.api_key.text() == "sk-openai-stored"
    p.base_url.setText("http://127.0.0.1:9999/v1")
    p.base_url.editingFinished.emit()
    assert p.api_key.text() == ""
    dialog.save()
    assert saved[-1].provider.base_url == "http://127.0.0.1:9999/v1"
    assert keyring.get_password("harken", "openai http://127.0.0.1:9999/v1") is None
    assert keyring.get_password("harken", "openai https://api.openai.com/v1") == (
        "sk-openai-stored"
    )

    dialog, saved = make(qtbot, saved[-1])
    p = dialog.provider
    p.api_key.setText("sk-for-the-proxy")
    p.base_url.setText("http://proxy.example:8000/v1")
    dialog.save()  # without leaving the field first
    assert keyring.get_password("harken", "openai http://proxy.example:8000/v1") == (
        "sk-for-the-proxy"
    )
    assert keyring.get_password("harken", "openai http://127.0.0.1:9999/v1") is None


def test_azure_shows_api_version(qtbot: QtBot) -> None:
    dialog, saved = make(qtbot)
    p = dialog.provider
    assert p.api_version.isHidden()
    p.preset.setCurrentIndex(p.preset.findData("azure"))
    assert not p.api_version.isHidden()
    p.base_url.setText("https://res.openai.azure.com")
    p.model.setEditText("my-deployment")
    dialog.save()
    assert saved[0].provider.kind == "azure"
    assert saved[0].provider.api_version == "2024-10-21"


def test_devices_by_name_and_none_found(qtbot: QtBot) -> None:
    s = Settings()
    s.audio.input_device = "Old Webcam Mic"
    dialog, saved = make(qtbot, s)
    combo = dialog.audio.input_device
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == [
        DEFAULT_DEVICE,
        "Built-in Microphone",
        "USB Headset (hw:2,0)",
        "Old Webcam Mic (not connected)",
    ]
    assert combo.currentText() == "Old Webcam Mic (not connected)"
    dialog.save()
    assert saved[0].audio.input_device == "Old Webcam Mic"  # kept until the user picks another

    empty, _ = make(qtbot, devices=lambda: [])
    assert empty.audio.input_device.currentText() == NO_MIC
    assert empty.edited().audio.input_device == ""


def test_shortcuts_page_says_why_the_hotkey_is_off_and_follows_changes(qtbot: QtBot) -> None:
    hotkeys = HotkeyService(env={})  # no graphical session at all
    hotkeys.apply(HotkeySettings())
    dialog, _ = make(qtbot, hotkeys=hotkeys)
    page = dialog.shortcuts
    assert page.state.text() == "Not available"
    assert "DISPLAY" in page.hotkey_note.text() and "Space" in page.hotkey_note.text()
    assert page.configure.isHidden()
    hotkeys.apply(HotkeySettings(enabled=False))  # while the dialog is open
    assert page.state.text() == "Off"
    assert page.hotkey_note.text() == "The global hotkey is turned off."
    assert page.window_keys[0][0].text() == "<b>Space (hold)</b>"


def test_fetch_models_fills_the_model_list(qtbot: QtBot, models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (200, {"data": [{"id": "qwen2.5"}, {"id": "llama3.2"}]})
    dialog, _ = make(qtbot)
    p = dialog.provider
    p.preset.setCurrentIndex(p.preset.findData("custom"))
    p.base_url.setText(models_api.url + "/v1")
    p.api_key.setText("local-key")
    with qtbot.waitSignal(dialog.probe_done, timeout=5000):
        p.fetch.click()
        assert p.result.text() == "Checking…" and not p.fetch.isEnabled()
    assert [p.model.itemText(i) for i in range(p.model.count())] == ["llama3.2", "qwen2.5"]
    assert p.model.currentText() == "llama3.2"
    assert "2 models found" in p.result.text()
    assert p.fetch.isEnabled()
    assert models_api.requests[0][1]["authorization"] == "Bearer local-key"


def test_test_connection_reports_a_rejected_key(qtbot: QtBot, models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (401, {"error": "bad key"})
    dialog, _ = make(qtbot)
    p = dialog.provider
    p.base_url.setText(models_api.url + "/v1")
    p.api_key.setText("sk-wrong")
    with qtbot.waitSignal(dialog.probe_done, timeout=5000):
        p.test.click()
    assert p.result.text().startswith("✗ ")
    assert "rejected the API key (401)" in p.result.text()


def test_probe_runs_as_a_task_on_the_qasync_loop(qtbot: QtBot, models_api: ModelsServer) -> None:
    """In the app asyncio runs on Qt's loop (qasync): the probe must be a task there."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    models_api.routes["/v1/models"] = (200, {"data": [{"id": "m1"}]})
    dialog, _ = make(qtbot)
    p = dialog.provider
    p.base_url.setText(models_api.url + "/v1")
    results: list[object] = []
    dialog.probe_done.connect(lambda which, result: results.append(result))

    async def scenario() -> None:
        p.test.click()
        assert len(dialog._tasks) == 1 and not dialog._threads
        await asyncio.wait_for(asyncio.gather(*dialog._tasks), timeout=5)

    loop = qasync.QEventLoop(QApplication.instance())
    try:
        loop.run_until_complete(scenario())
    finally:
        close_loop(loop)
    assert len(results) == 1 and "1 model available" in p.result.text()


def test_adaptive_end_of_speech_can_be_turned_off(qtbot: QtBot) -> None:
    dialog, saved = make(qtbot)
    a = dialog.audio
    assert (a.hangover_min.value(), a.hangover_max.value()) == (200, 1500)
    assert not a.turn_model.isChecked() and a.turn_model.isEnabled()  # opt-in
    assert a.early_request.isChecked() and a.early_request.isEnabled()  # on by default
    a.turn_model.setChecked(True)
    a.early_request.setChecked(False)
    a.adaptive_hangover.setChecked(False)
    assert not a.hangover_min.isEnabled() and not a.hangover_max.isEnabled()
    assert not a.turn_model.isEnabled() and not a.early_request.isEnabled()
    dialog.buttons.accepted.emit()
    assert saved[0].audio.adaptive_hangover is False
    assert saved[0].audio.turn_model is True
    assert saved[0].audio.early_request is False


def test_quiet_before_speaking_is_a_hands_free_setting(qtbot: QtBot) -> None:
    dialog, saved = make(qtbot)
    a = dialog.audio
    assert a.speak_after.value() == 1300
    assert not a.speak_after.isEnabled()  # push-to-talk (the default): replies speak at once
    a.hands_free.setChecked(True)
    assert a.speak_after.isEnabled()
    a.speak_after.setValue(0)
    assert a.speak_after.text() == "at once"
    dialog.buttons.accepted.emit()
    assert saved[0].audio.speak_after_ms == 0
    assert saved[0].audio.input_mode == "hands_free"
