"""Environment variables and command-line flags laid over the saved settings, in memory.

File < environment < flags (``resolve``). The result (``Resolved``) is what
this run uses; it records which fields were overridden so the window can say
so, and it is never written to the settings file: the window keeps the saved
settings and saves only those.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, get_type_hints

from app.config.presets import (
    API_KEY_ENV,
    AZURE_DEFAULT_API_VERSION,
    KIND_DEFAULT_PRESET,
    PRESETS,
    preset,
)
from app.config.settings import ProviderSettings, Settings, check_value

ENV_VARS = (
    "HARKEN_PROVIDER",
    "HARKEN_BASE_URL",
    "HARKEN_MODEL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "HARKEN_LOCAL_MODEL",
    "HARKEN_STT_URL",
)
# Flat command-line names → dotted setting paths ("provider" and "api_key" are special).
FLAG_FIELDS = {
    "base_url": "provider.base_url",
    "model": "provider.model",
    "api_version": "provider.api_version",
    "input_device": "audio.input_device",
    "output_device": "audio.output_device",
    "input_mode": "audio.input_mode",
    "barge_in": "audio.barge_in",
    "hangover_ms": "audio.hangover_ms",
    "adaptive_hangover": "audio.adaptive_hangover",
    "turn_model": "audio.turn_model",
    "early_request": "audio.early_request",
    "speak_after_ms": "audio.speak_after_ms",
    "whisper_model": "audio.whisper_model",
    "speech_output": "audio.speech_output",
    "echo_cancellation": "audio.echo_cancellation",
    "system_prompt": "agent.system_prompt",
    "local_model": "local.model_path",
    "chat_format": "local.chat_format",
    "context_length": "local.context_length",
    "threads": "local.threads",
    "stt_url": "stt.url",
    "stt_model": "stt.model",
}


@dataclass(frozen=True)
class Resolved:
    """Settings in effect for this run. ``overridden`` lists the dotted fields set by the
    environment or flags (the dialog shows them as such); ``api_key`` is the key given by a
    flag or environment variable, or None (then the keyring's key is used)."""

    settings: Settings
    api_key: str | None = None
    api_key_source: str | None = None
    overridden: frozenset[str] = frozenset()


class OverrideError(ValueError):
    """A flag or environment variable with a value Harken cannot use."""


def resolve(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Resolved:
    """File < environment < flags. ``overrides`` takes flat flag names (``model``,
    ``base_url``, ``provider``, ``api_key``…, see FLAG_FIELDS) or dotted paths
    (``audio.barge_in``); None values mean "not given". Raises OverrideError."""
    env = os.environ if env is None else env
    s = _copy(settings)
    touched: set[str] = set()
    key: str | None = None
    key_source: str | None = None

    if env.get("HARKEN_PROVIDER"):
        _switch_provider(s, env["HARKEN_PROVIDER"], "HARKEN_PROVIDER", touched)
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "local_model" in flags and "provider" not in flags:
        flags["provider"] = "local"  # --local-model alone means "reply with this model"
    if "provider" in flags:
        _switch_provider(s, str(flags.pop("provider")), "--provider", touched)

    kind = s.provider.kind
    kind_url = {"openai": "OPENAI_BASE_URL", "azure": "AZURE_OPENAI_ENDPOINT"}.get(kind)
    for var, path in (
        (kind_url, "provider.base_url"),
        ("HARKEN_BASE_URL", "provider.base_url"),
        ("HARKEN_MODEL", "provider.model"),
        ("OPENAI_API_VERSION" if kind == "azure" else None, "provider.api_version"),
        ("HARKEN_LOCAL_MODEL", "local.model_path"),
        ("HARKEN_STT_URL", "stt.url"),
    ):
        if var and env.get(var):
            _set(s, path, env[var], var)
            touched.add(path)
    key_var = API_KEY_ENV.get(kind)
    if key_var and env.get(key_var):
        key, key_source = env[key_var], key_var

    if "api_key" in flags:
        key, key_source = str(flags.pop("api_key")), "--api-key"
    for name, value in flags.items():
        path = FLAG_FIELDS.get(name, name)
        _set(s, path, value, f"--{name.replace('_', '-')}")
        touched.add(path)
    if s.provider.kind == "azure" and not s.provider.api_version:
        s.provider.api_version = AZURE_DEFAULT_API_VERSION
    if "stt.url" in touched and s.stt.url.strip():  # a server URL given means "use it"
        s.stt.mode = "server"
        touched.add("stt.mode")
    return Resolved(s, key, key_source, frozenset(touched))


def _copy(settings: Settings) -> Settings:
    return Settings(**{f.name: replace(getattr(settings, f.name)) for f in fields(settings)})


def _switch_provider(s: Settings, value: str, source: str, touched: set[str]) -> None:
    value = value.strip().lower()
    ids = {p.id for p in PRESETS}
    if value in KIND_DEFAULT_PRESET:
        if s.provider.kind == value:
            return  # already that kind (perhaps through a local preset): keep the details
        chosen = preset(KIND_DEFAULT_PRESET[value])
    elif value in ids:
        chosen = preset(value)
    else:
        raise OverrideError(
            f"{source}={value!r} is not a provider Harken knows: use openai, anthropic, "
            f"azure or local (or a preset: {', '.join(sorted(ids))})."
        )
    if s.provider.preset == chosen.id:
        return
    s.provider = ProviderSettings(
        preset=chosen.id, kind=chosen.kind, base_url=chosen.base_url, model=chosen.default_model
    )
    touched.update({"provider.preset", "provider.kind", "provider.base_url", "provider.model"})


def _set(s: Settings, path: str, value: Any, source: str) -> None:
    section_name, _, name = path.partition(".")
    section = getattr(s, section_name, None)
    names = {f.name for f in fields(section)} if is_dataclass(section) else set()
    if section is None or name not in names:
        raise OverrideError(f"{source}: there is no setting called {path!r}.")
    typ = get_type_hints(type(section))[name]
    if typ is int and isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise OverrideError(f"{source} needs a whole number, not {value!r}.") from None
    if typ is str and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    problem = check_value(path, value, typ)
    if problem:
        raise OverrideError(f"{source}: {path} {problem}.")
    setattr(section, name, value)
