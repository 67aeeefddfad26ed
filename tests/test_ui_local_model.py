"""Settings → Provider with the "Local model (in-process)" preset."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.config.secrets import SecretStore
from app.config.settings import Settings
from app.desktop.settings import local_model_page
from app.desktop.settings.settings_dialog import SettingsDialog
from providers import INSTALL_COMMAND


def make(qtbot: QtBot, settings: Settings | None = None) -> tuple[SettingsDialog, list[Settings]]:
    dialog = SettingsDialog(settings or Settings(), SecretStore(), devices=lambda: [])
    qtbot.addWidget(dialog)
    saved: list[Settings] = []
    dialog.saved.connect(saved.append)
    dialog.show()
    return dialog, saved


def test_the_local_preset_shows_its_own_fields(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_model_page, "llama_cpp_available", lambda: True)
    dialog, saved = make(qtbot)
    p = dialog.provider
    assert p.preset.findText("Local model (in-process)") >= 0
    assert not p.local.isVisible() and p.base_url.isVisible()
    p.preset.setCurrentIndex(p.preset.findData("local"))
    assert p.local.isVisible()
    assert not p.base_url.isVisible() and not p.api_key.isVisible() and not p.fetch.isVisible()
    assert "llama.cpp" in p.preset_note.text()
    local = p.local
    assert local.chat_format.itemText(0) == "From model metadata"
    assert local.chat_format.findData("chatml") > 0
    assert local.model_path.isEnabled() and "Qwen2.5" in local.note.text()

    starts: list[str] = []
    local.choose_file = lambda parent, start: starts.append(start) or "/models/qwen.gguf"
    qtbot.mouseClick(local.browse, local_model_page.Qt.MouseButton.LeftButton)
    assert local.model_path.text() == "/models/qwen.gguf" and starts
    local.chat_format.setCurrentIndex(local.chat_format.findData("llama-3"))
    local.context_length.setValue(8192)
    local.threads.setValue(3)
    dialog.save()
    (settings,) = saved
    assert (settings.provider.preset, settings.provider.kind) == ("local", "local")
    assert settings.local.model_path == "/models/qwen.gguf"
    assert (settings.local.chat_format, settings.local.context_length) == ("llama-3", 8192)
    assert settings.local.threads == 3

    p.preset.setCurrentIndex(p.preset.findData("ollama"))  # (the dialog closed on Save)
    assert p.local.isHidden() and not p.base_url.isHidden() and not p.fetch.isHidden()


def test_saved_local_settings_are_shown_again(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_model_page, "llama_cpp_available", lambda: True)
    s = Settings()
    s.provider.preset, s.provider.kind = "local", "local"
    s.local.model_path, s.local.chat_format = "/m/a.gguf", "vicuna"  # not in the short list
    s.local.threads = 0
    dialog, _ = make(qtbot, s)
    local = dialog.provider.local
    assert local.isVisible()
    assert local.model_path.text() == "/m/a.gguf"
    assert local.chat_format.currentData() == "vicuna"
    assert local.threads.text() == "Automatic"
    assert dialog.edited().local == s.local


def test_without_the_extra_the_page_says_how_to_install_it(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_model_page, "llama_cpp_available", lambda: False)
    dialog, _ = make(qtbot)
    p = dialog.provider
    p.preset.setCurrentIndex(p.preset.findData("local"))
    note = p.local.note.text()
    assert INSTALL_COMMAND in note and "pip install 'harken[local]'" in note
    assert "-DGGML_NATIVE=OFF" in note
    assert p.local.note.isVisible()
    assert not p.local.model_path.isEnabled() and not p.local.browse.isEnabled()
