"""From the settings in effect (file < environment < flags) to a ``ProviderConfig``.

A missing base URL, model, or key for a hosted provider is a configuration
error with a one-line reason: fatal in headless mode, shown in the window.
So is a local model that cannot load: no file, not GGUF, or no llama.cpp extra.
"""

from __future__ import annotations

from pathlib import Path

from app.config.overlay import Resolved
from app.config.presets import API_KEY_ENV, preset
from providers import (
    INSTALL_COMMAND,
    LocalModelConfig,
    LocalModelError,
    ProviderConfig,
    llama_cpp_available,
)
from providers.local_model import check_model_file


class ConfigError(Exception):
    """A usage/configuration problem; ``str()`` is the one-line reason."""


def provider_config(resolved: Resolved, keyring_key: str | None = None) -> ProviderConfig:
    """``keyring_key``: the key the keyring holds for this preset *at this base URL*
    (``SecretStore.get(preset, base_url)``); a key given by a flag or the environment wins."""
    p = resolved.settings.provider
    if p.kind == "local":
        return local_provider_config(resolved)
    key = resolved.api_key if resolved.api_key is not None else keyring_key
    chosen = preset(p.preset)
    display = chosen.label if chosen.id not in ("custom",) else None
    if chosen.base_url and not _same(chosen.base_url, p.base_url):
        display = None  # a preset whose URL was changed is no longer that service
    return ProviderConfig(
        kind=p.kind,
        base_url=p.base_url,
        model=p.model,
        api_key=key or None,
        api_version=p.api_version or None,
        display_name=display,
    )


def local_provider_config(resolved: Resolved) -> ProviderConfig:
    local = resolved.settings.local
    config = LocalModelConfig(
        model_path=local.model_path.strip(),
        chat_format=local.chat_format.strip(),
        context_length=local.context_length,
        threads=local.threads,
        max_reply_tokens=local.max_reply_tokens,
    )
    return ProviderConfig(
        kind="local",
        base_url="",
        model=Path(config.model_path).stem,
        display_name="Local model",
        local=config,
    )


def check_usable(resolved: Resolved, config: ProviderConfig) -> None:
    """Raise ConfigError when no request could possibly succeed."""
    kind = config.kind
    if kind == "local":
        _check_local(config)
        return
    if not config.base_url:
        what = "the Azure OpenAI endpoint" if kind == "azure" else "a base URL"
        raise ConfigError(f"no provider configured: give {what} with --base-url")
    if not config.model:
        hint = " (for Azure, the deployment name)" if kind == "azure" else ""
        raise ConfigError(f"no model configured: pass --model{hint}")
    chosen = preset(resolved.settings.provider.preset)
    hosted = chosen.needs_key and (not chosen.base_url or _same(chosen.base_url, config.base_url))
    if hosted and not config.api_key:
        raise ConfigError(
            f"no API key for {config.name}: set {API_KEY_ENV[kind]} or pass --api-key "
            "(or --base-url for a local server)"
        )


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _check_local(config: ProviderConfig) -> None:
    if not llama_cpp_available():
        raise ConfigError(
            f"the local provider needs the llama.cpp extra; install it with: {INSTALL_COMMAND}"
        )
    path = config.local.model_path if config.local is not None else ""
    if not path:
        raise ConfigError(
            "no local model configured: pass --local-model PATH.gguf or set HARKEN_LOCAL_MODEL"
        )
    try:
        check_model_file(path)
    except LocalModelError as exc:
        raise ConfigError(exc.message) from None
