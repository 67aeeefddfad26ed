"""The local model's settings: the [local] section, env/flag overrides, the provider config
built from them, and the configuration errors headless mode reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import build_parser, headless_options
from app.config.overlay import resolve
from app.config.provider_config import ConfigError, check_usable, provider_config
from app.config.settings import Settings, load_settings, save_settings
from providers import INSTALL_COMMAND


def test_local_section_round_trips(tmp_path: Path) -> None:
    s = Settings()
    s.provider.preset, s.provider.kind = "local", "local"
    s.local.model_path = "/models/qwen2.5-1.5b-instruct-q4_k_m.gguf"
    s.local.chat_format = "chatml"
    s.local.context_length = 8192
    s.local.threads = 3
    s.local.max_reply_tokens = 256
    path = save_settings(s, tmp_path / "settings.toml")
    text = path.read_text()
    assert "[local]" in text
    loaded = load_settings(path)
    assert loaded.messages == ()
    assert loaded.settings == s


def test_a_bad_local_value_falls_back_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[local]\nmodel_path = "/m.gguf"\ncontext_length = 10\nthreads = "many"\n')
    loaded = load_settings(path)
    assert loaded.settings.local.model_path == "/m.gguf"
    assert loaded.settings.local.context_length == 4096
    assert loaded.settings.local.threads == 0
    assert any("local.context_length" in m for m in loaded.messages)
    assert any("local.threads" in m for m in loaded.messages)


def test_env_sets_the_model_and_flags_override_it() -> None:
    env = {"HARKEN_PROVIDER": "local", "HARKEN_LOCAL_MODEL": "/env.gguf"}
    resolved = resolve(Settings(), env, {})
    assert resolved.settings.provider.kind == "local"
    assert resolved.settings.local.model_path == "/env.gguf"
    flags = {"local_model": "/flag.gguf", "chat_format": "llama-3", "context_length": "2048"}
    resolved = resolve(Settings(), env, {**flags, "threads": 2})
    local = resolved.settings.local
    assert (local.model_path, local.chat_format, local.context_length, local.threads) == (
        "/flag.gguf",
        "llama-3",
        2048,
        2,
    )
    assert "local.model_path" in resolved.overridden


def test_local_model_flag_alone_chooses_the_local_provider() -> None:
    resolved = resolve(Settings(), {}, {"local_model": "/m.gguf"})
    assert resolved.settings.provider.kind == "local"
    explicit = resolve(Settings(), {}, {"local_model": "/m.gguf", "provider": "openai"})
    assert explicit.settings.provider.kind == "openai"


def test_provider_config_for_local() -> None:
    s = Settings()
    s.local.model_path = " /models/tiny.gguf "
    s.local.context_length = 1024
    resolved = resolve(s, {}, {"provider": "local"})
    config = provider_config(resolved)
    assert config.kind == "local"
    assert config.local is not None
    assert config.local.model_path == "/models/tiny.gguf"
    assert config.local.context_length == 1024
    assert config.model == "tiny"
    assert config.name == "Local model"


def test_a_missing_or_wrong_model_file_is_a_configuration_error(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="the local extra (llama-cpp-python) is not installed")
    for path, expected in (
        ("", "no local model configured"),
        (str(tmp_path / "nope.gguf"), "does not exist"),
    ):
        resolved = resolve(Settings(), {}, {"provider": "local", "local_model": path or None})
        with pytest.raises(ConfigError, match=expected):
            check_usable(resolved, provider_config(resolved))
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    resolved = resolve(Settings(), {}, {"local_model": str(text)})
    with pytest.raises(ConfigError, match="not a GGUF model file"):
        check_usable(resolved, provider_config(resolved))


def test_without_the_extra_the_error_gives_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("app.config.provider_config.llama_cpp_available", lambda: False)
    resolved = resolve(Settings(), {}, {"local_model": str(tmp_path / "m.gguf")})
    with pytest.raises(ConfigError) as info:
        check_usable(resolved, provider_config(resolved))
    assert INSTALL_COMMAND in str(info.value)
    assert "-DGGML_NATIVE=OFF" in INSTALL_COMMAND


def test_cli_flags_reach_the_runtime_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    monkeypatch.setattr("app.config.provider_config.llama_cpp_available", lambda: True)
    args = build_parser().parse_args(
        [
            "--headless",
            "--provider",
            "local",
            "--local-model",
            str(model),
            "--chat-format",
            "chatml",
            "--context-length",
            "2048",
            "--threads",
            "2",
        ]
    )
    options = headless_options(args)
    local = options.provider.local
    assert (local.model_path, local.chat_format, local.context_length, local.threads) == (
        str(model),
        "chatml",
        2048,
        2,
    )
