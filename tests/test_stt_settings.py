"""Speech recognition on a server: [stt] settings, flags, environment, the key bound to its URL,
and the running components switching transcriber when the settings change."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import keyring
import numpy as np
import pytest
from faster_whisper import decode_audio
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.cli import build_parser, configured_stt
from app.config.overlay import resolve
from app.config.overrides import flag_overrides
from app.config.provider_config import ConfigError
from app.config.secrets import SecretStore
from app.config.settings import Settings, load_settings, save_settings
from app.config.stt_config import KEY_ENV, KEY_PRESET, SttConfig, stt_config
from app.desktop.settings.settings_dialog import SettingsDialog
from app.runtime.composition import RuntimeOptions, build_components
from audio.server_stt import FallbackTranscriber
from audio.transcriber import WhisperTranscriber
from providers import ProviderConfig
from tests.support.transcription_script import Script, serve
from tests.test_headless_e2e import run_headless


def args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_the_stt_section_round_trips_and_bad_values_fall_back(tmp_path: Path) -> None:
    settings = Settings()
    assert (settings.stt.mode, settings.stt.url, settings.stt.timeout_ms) == ("local", "", 5000)
    settings.stt.mode, settings.stt.url, settings.stt.model = "server", "http://gpu:8000/v1", "m"
    path = save_settings(settings, tmp_path / "settings.toml")
    assert "[stt]" in path.read_text()
    assert load_settings(path).settings.stt == settings.stt
    path.write_text('[stt]\nmode = "cloud"\ntimeout_ms = 10\n')
    loaded = load_settings(path)
    assert loaded.settings.stt.mode == "local" and loaded.settings.stt.timeout_ms == 5000
    assert len(loaded.messages) == 2


def test_flag_and_environment_turn_the_server_on_for_this_run_only() -> None:
    saved = Settings()
    by_flag = resolve(saved, {}, flag_overrides(args("--stt-url", "http://h:8000/v1")))
    assert (by_flag.settings.stt.mode, by_flag.settings.stt.url) == ("server", "http://h:8000/v1")
    assert {"stt.url", "stt.mode"} <= by_flag.overridden
    by_env = resolve(saved, {"HARKEN_STT_URL": "http://e:8000/v1"}, {})
    assert (by_env.settings.stt.mode, by_env.settings.stt.url) == ("server", "http://e:8000/v1")
    both = resolve(
        saved,
        {"HARKEN_STT_URL": "http://e:8000/v1"},
        flag_overrides(args("--stt-url", "http://f:8000/v1", "--stt-model", "large-v3")),
    )
    assert (both.settings.stt.url, both.settings.stt.model) == ("http://f:8000/v1", "large-v3")
    assert saved.stt.mode == "local" and saved.stt.url == ""  # nothing leaks into the file


def test_a_stored_key_is_sent_only_to_the_url_it_was_saved_for() -> None:
    secrets = SecretStore()
    secrets.set(KEY_PRESET, "http://GPU-box:8000/v1/", "sk-gpu")
    assert keyring.get_password("harken", "stt http://gpu-box:8000/v1") == "sk-gpu"
    settings = Settings()
    settings.stt.mode, settings.stt.url = "server", "http://gpu-box:8000/v1"
    assert stt_config(settings, secrets, {}) == SttConfig(
        "http://gpu-box:8000/v1", "whisper-1", "sk-gpu"
    )
    settings.stt.url = "http://127.0.0.1:9999/v1"  # another server: no key for it
    config = stt_config(settings, secrets, {})
    assert config is not None and config.api_key is None
    config = stt_config(settings, secrets, {KEY_ENV: "sk-env"})
    assert config is not None and config.api_key == "sk-env"
    settings.stt.mode = "local"
    assert stt_config(settings, secrets, {}) is None


def test_a_server_mode_without_a_usable_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="no transcription server URL"):
        stt_config(_server(""), None, {})
    with pytest.raises(ConfigError, match="not a transcription server URL"):
        configured_stt(args("--stt-url", "gpu-box:8000"))
    code, _, stderr = run_headless("--say", "hi", "--stt-url", "not a url", "--base-url",
                                   "http://127.0.0.1:9/v1", "--model", "m")  # fmt: skip
    assert code == 2 and "--stt-url" in stderr and len(stderr.strip().splitlines()) == 1


def _server(url: str) -> Settings:
    settings = Settings()
    settings.stt.mode, settings.stt.url = "server", url
    return settings


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def server(script: Script) -> Iterator[str]:
    with serve(script) as url:
        yield url


async def test_saved_settings_switch_the_running_app_to_the_server_and_back(
    server: str, script: Script, jfk_flac: Path
) -> None:
    events: list[ev.Event] = []
    options = RuntimeOptions(provider=ProviderConfig(kind="openai", base_url=server, model="m"))
    components = build_components(options, emit=events.append, transcriber=WhisperTranscriber())
    try:
        await components.wait_loaded()
        controller, live = components.controller, components.pump.live
        assert live is not None
        assert controller.transcriber is components.transcriber and live.speculative.final is None
        assert components.stt_engine == "local"
        components.reconfigure_stt(SttConfig(server, "whisper-1", "sk-stt", deadline_s=10))
        assert isinstance(controller.transcriber, FallbackTranscriber)
        assert live.speculative.final is controller.transcriber
        assert components.stt_engine == "server"
        audio = decode_audio(str(jfk_flac), sampling_rate=16000)[: 16000 * 3]
        result = await controller.transcriber.transcribe(audio.astype(np.float32))
        assert result.text == "Turn on the lights."
        assert script.requests[0].headers["authorization"] == "Bearer sk-stt"
        components.reconfigure_stt(None)
        assert controller.transcriber is components.transcriber
        assert live.speculative.final is None and components.stt_engine == "local"
    finally:
        await components.aclose()


def test_the_dialog_saves_the_server_and_its_key_for_that_url_only(qtbot: QtBot) -> None:
    dialog = SettingsDialog(Settings(), SecretStore(), devices=lambda: [])
    qtbot.addWidget(dialog)
    saved: list[Settings] = []
    dialog.saved.connect(saved.append)
    group = dialog.audio.stt
    assert group.local.isChecked() and not group.url.isEnabled()
    group.server.setChecked(True)
    group.url.setText("http://gpu-box:8000/v1")
    group.model.setText("large-v3")
    group.api_key.setText("sk-gpu")
    dialog.save()
    (settings,) = saved
    assert (settings.stt.mode, settings.stt.url, settings.stt.model) == (
        "server", "http://gpu-box:8000/v1", "large-v3",
    )  # fmt: skip
    assert keyring.get_password("harken", "stt http://gpu-box:8000/v1") == "sk-gpu"

    again = SettingsDialog(settings, SecretStore(), devices=lambda: [])
    qtbot.addWidget(again)
    group = again.audio.stt
    assert group.api_key.text() == "sk-gpu"  # shown for the URL it was saved with
    group.url.setText("http://elsewhere:8000/v1")
    group.url.editingFinished.emit()
    assert group.api_key.text() == ""  # not offered to another server
