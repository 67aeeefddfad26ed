"""Settings: the TOML file round trip, bad values, a corrupt file, env and flag overrides."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from app.config import paths
from app.config.overlay import OverrideError, resolve
from app.config.presets import AZURE_DEFAULT_API_VERSION
from app.config.settings import Settings, load_settings, save_settings, settings_path


def test_paths_follow_xdg(private_dirs: Path) -> None:
    assert settings_path() == private_dirs / "config" / "harken" / "settings.toml"
    assert paths.data_dir() == private_dirs / "data" / "harken"
    assert paths.data_dir().is_dir()
    assert paths.resource_path("icons/harken.svg").is_file()


def test_pyinstaller_bundle_resources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert paths.resource_path("icons/harken.svg") == tmp_path / "assets" / "icons" / "harken.svg"


def test_missing_file_gives_defaults() -> None:
    result = load_settings()
    assert result.settings == Settings()
    assert result.messages == ()


def test_round_trip_through_the_file() -> None:
    s = Settings()
    s.provider.preset, s.provider.base_url, s.provider.model = "ollama", "http://h:1/v1", "llama3"
    s.audio.input_device = "USB Mic (hw:2,0)"
    s.audio.input_mode = "hands_free"
    s.audio.hangover_ms = 800
    s.ui.show_latency = False
    s.agent.system_prompt = 'Be "brief".\nSecond line.'
    s.hotkey.global_hotkey = "<ctrl>+<shift>+h"
    s.tools.allow_clipboard_read = True
    path = save_settings(s)
    assert path == settings_path()
    assert [p.name for p in path.parent.iterdir()] == ["settings.toml"]  # no temp file left
    loaded = load_settings()
    assert loaded.settings == s
    assert loaded.messages == ()
    assert tomllib.loads(path.read_text())["audio"]["hangover_ms"] == 800


def test_unknown_keys_are_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    settings_path().write_text('future = 1\n[audio]\nbarge_in = false\nnew_knob = "x"\n')
    with caplog.at_level(logging.INFO, logger="app.config.settings"):
        result = load_settings()
    assert result.settings.audio.barge_in is False
    assert result.messages == ()
    assert "audio.new_knob" in caplog.text and "future" in caplog.text


def test_wrong_types_fall_back_per_field() -> None:
    settings_path().write_text(
        "ui = 3\n"
        "[audio]\n"
        'barge_in = "yes"\n'
        "hangover_ms = 700\n"
        'input_mode = "always"\n'
        "[provider]\n"
        "model = 42\n"
        'base_url = "http://localhost:11434/v1"\n'
    )
    result = load_settings()
    s = result.settings
    assert s.audio.barge_in is True and s.audio.input_mode == "push_to_talk"
    assert s.audio.hangover_ms == 700
    assert s.provider.model == "gpt-4o-mini"
    assert s.provider.base_url == "http://localhost:11434/v1"
    text = " ".join(result.messages)
    assert len(result.messages) == 4
    assert "audio.barge_in should be true or false" in text
    assert "audio.input_mode should be one of push_to_talk, hands_free" in text
    assert "provider.model should be text" in text
    assert "[ui] should be a section" in text


def test_corrupt_file_is_moved_aside_and_reported() -> None:
    path = settings_path()
    path.write_text("[audio\nbarge_in = tru")
    result = load_settings()
    assert result.settings == Settings()
    assert result.moved_to is not None and result.moved_to.exists()
    assert result.moved_to.name.startswith("settings.toml.corrupt-")
    assert result.moved_to.read_text() == "[audio\nbarge_in = tru"
    assert not path.exists()
    assert str(result.moved_to) in result.messages[0]
    # A second corrupt file on the same second does not overwrite the first one.
    path.write_bytes(b"\xff\xfe not utf-8")
    second = load_settings()
    assert second.moved_to is not None and second.moved_to != result.moved_to
    assert result.moved_to.exists() and second.moved_to.exists()


def test_env_overrides_the_file() -> None:
    s = Settings()
    s.provider.model = "from-file"
    env = {"HARKEN_MODEL": "from-env", "OPENAI_BASE_URL": "http://proxy/v1", "OPENAI_API_KEY": "k1"}
    r = resolve(s, env)
    assert r.settings.provider.model == "from-env"
    assert r.settings.provider.base_url == "http://proxy/v1"
    assert (r.api_key, r.api_key_source) == ("k1", "OPENAI_API_KEY")
    assert r.overridden == {"provider.model", "provider.base_url"}
    assert s.provider.model == "from-file"  # the saved settings are untouched


def test_env_provider_switch_resets_provider_details() -> None:
    s = Settings()
    s.provider.model = "gpt-4o"
    env = {"HARKEN_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"}
    r = resolve(s, env)
    p = r.settings.provider
    assert (p.preset, p.kind, p.base_url) == ("anthropic", "anthropic", "https://api.anthropic.com")
    assert p.model == "claude-3-5-haiku-latest"
    assert r.api_key == "a"


def test_env_same_kind_keeps_a_local_preset() -> None:
    s = Settings()
    s.provider.preset, s.provider.base_url, s.provider.model = "ollama", "http://x:11434/v1", "m"
    r = resolve(s, {"HARKEN_PROVIDER": "openai"})
    assert r.settings.provider.preset == "ollama"
    assert r.settings.provider.base_url == "http://x:11434/v1"


def test_azure_from_env() -> None:
    env = {
        "HARKEN_PROVIDER": "azure",
        "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
        "AZURE_OPENAI_API_KEY": "az",
        "HARKEN_MODEL": "my-deployment",
    }
    r = resolve(Settings(), env)
    p = r.settings.provider
    assert (p.kind, p.model) == ("azure", "my-deployment")
    assert p.base_url == "https://res.openai.azure.com"
    assert p.api_version == AZURE_DEFAULT_API_VERSION
    r2 = resolve(Settings(), {**env, "OPENAI_API_VERSION": "2025-01-01-preview"})
    assert r2.settings.provider.api_version == "2025-01-01-preview"
    assert r2.api_key == "az"


def test_flags_override_env() -> None:
    env = {"HARKEN_MODEL": "env-model", "OPENAI_API_KEY": "env-key"}
    flags = {
        "model": "flag-model",
        "api_key": "flag-key",
        "hangover_ms": "900",
        "barge_in": False,
        "base_url": None,  # not given
        "audio.speech_output": False,
    }
    r = resolve(Settings(), env, flags)
    assert r.settings.provider.model == "flag-model"
    assert (r.api_key, r.api_key_source) == ("flag-key", "--api-key")
    assert r.settings.audio.hangover_ms == 900
    assert r.settings.audio.barge_in is False
    assert r.settings.audio.speech_output is False
    assert r.settings.provider.base_url == "https://api.openai.com/v1"
    r2 = resolve(Settings(), env, {"provider": "ollama"})
    assert r2.settings.provider.base_url == "http://localhost:11434/v1"


@pytest.mark.parametrize(
    ("env", "flags", "needle"),
    [
        ({"HARKEN_PROVIDER": "gemini"}, {}, "HARKEN_PROVIDER='gemini' is not a provider"),
        ({}, {"hangover_ms": "soon"}, "--hangover-ms needs a whole number"),
        ({}, {"input_mode": "sometimes"}, "audio.input_mode should be one of"),
        ({}, {"audio.nonsense": 1}, "no setting called 'audio.nonsense'"),
    ],
)
def test_bad_overrides_say_what_is_wrong(
    env: dict[str, str], flags: dict[str, object], needle: str
) -> None:
    with pytest.raises(OverrideError) as info:
        resolve(Settings(), env, flags)
    assert needle in str(info.value)


def test_adaptive_end_of_speech_settings_and_the_fixed_hangover_flag() -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[audio]\nadaptive_hangover = true\nhangover_min_ms = 350\nhangover_max_ms = 99999\n"
    )
    loaded = load_settings()
    audio = loaded.settings.audio
    assert (audio.adaptive_hangover, audio.hangover_min_ms, audio.hangover_max_ms) == (
        True,
        350,
        1500,  # out of range: the default
    )
    assert any("hangover_max_ms" in m for m in loaded.messages)
    fixed = resolve(loaded.settings, {}, {"adaptive_hangover": False})
    assert fixed.settings.audio.adaptive_hangover is False
    assert "audio.adaptive_hangover" in fixed.overridden
    with_model = resolve(loaded.settings, {}, {"turn_model": True})
    assert with_model.settings.audio.turn_model is True
    assert loaded.settings.audio.turn_model is False  # opt-in
    assert loaded.settings.audio.early_request is True  # opt-out
    no_early = resolve(loaded.settings, {}, {"early_request": False})
    assert no_early.settings.audio.early_request is False


def test_echo_cancellation_is_on_by_default_off_from_the_file_or_the_flag() -> None:
    from app.cli import build_parser
    from app.config.overrides import flag_overrides
    from app.runtime.composition import RuntimeOptions
    from providers import ProviderConfig

    assert Settings().audio.echo_cancellation is True
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[audio]\necho_cancellation = false\n")
    assert load_settings().settings.audio.echo_cancellation is False
    flags = flag_overrides(build_parser().parse_args(["--no-echo-cancellation"]))
    resolved = resolve(Settings(), {}, flags)
    assert resolved.settings.audio.echo_cancellation is False
    assert "audio.echo_cancellation" in resolved.overridden
    options = RuntimeOptions.from_settings(
        resolved.settings,
        ProviderConfig(kind="openai", base_url="http://localhost:1/v1", model="m"),
    )
    assert options.echo_cancellation is False
    not_given = flag_overrides(build_parser().parse_args([]))
    assert resolve(Settings(), {}, not_given).settings.audio.echo_cancellation is True


def test_a_utf8_byte_order_mark_is_read_fine() -> None:
    """Notepad and some editors save UTF-8 with a BOM: that is still the user's settings."""
    settings_path().write_bytes(b"\xef\xbb\xbf[audio]\nhangover_ms = 900\n")
    result = load_settings()
    assert result.settings.audio.hangover_ms == 900
    assert result.messages == () and result.moved_to is None
    assert settings_path().exists()  # not moved aside as corrupt


def test_a_config_folder_that_is_a_file_gives_defaults_and_a_message(
    private_dirs: Path,
) -> None:
    folder = private_dirs / "config" / "harken"
    folder.write_text("not a folder")
    result = load_settings()
    assert result.settings == Settings()
    (message,) = result.messages
    assert str(folder) in message and "not a folder" in message
    with pytest.raises(OSError):
        save_settings(Settings())  # the window reports this as "Could not save settings: …"
    assert folder.read_text() == "not a folder"  # nothing of the user's was touched


def test_the_early_request_flag_reaches_live_transcription() -> None:
    from app.cli import build_parser
    from app.config.overrides import flag_overrides
    from app.runtime.composition import RuntimeOptions, live_options
    from providers import ProviderConfig

    config = ProviderConfig(kind="openai", base_url="http://localhost:1/v1", model="m")
    for argv, expected in (([], True), (["--no-early-request"], False)):
        flags = flag_overrides(build_parser().parse_args(argv))
        options = RuntimeOptions.from_settings(resolve(Settings(), {}, flags).settings, config)
        assert live_options(options).early_request is expected


def test_quiet_before_speaking_reaches_live_transcription_from_file_flag_and_range() -> None:
    from app.cli import build_parser
    from app.config.overrides import flag_overrides
    from app.runtime.composition import RuntimeOptions, live_options
    from providers import ProviderConfig

    config = ProviderConfig(kind="openai", base_url="http://localhost:1/v1", model="m")
    assert Settings().audio.speak_after_ms == 1300
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[audio]\nspeak_after_ms = 800\n")
    loaded = load_settings().settings
    for argv, expected in (([], 0.8), (["--speak-after-ms", "0"], 0.0)):
        flags = flag_overrides(build_parser().parse_args(argv))
        options = RuntimeOptions.from_settings(resolve(loaded, {}, flags).settings, config)
        assert live_options(options).speak_after_s == expected
    path.write_text("[audio]\nspeak_after_ms = -5\n")
    result = load_settings()
    assert result.settings.audio.speak_after_ms == 1300  # out of range: the default
    assert any("speak_after_ms" in m for m in result.messages)
