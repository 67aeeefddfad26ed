"""Which LLM provider to use, from command-line flags and environment variables.

Base URLs follow the official SDKs: OpenAI-compatible ones include the
version path, Anthropic's does not. A missing setting is a configuration
error with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from providers import ProviderConfig

DEFAULTS = {
    "openai": ("https://api.openai.com/v1", "gpt-4o-mini"),
    "anthropic": ("https://api.anthropic.com", "claude-3-5-haiku-latest"),
    "azure": ("", ""),
}
KEY_VARS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
}


class ConfigError(Exception):
    """A usage/configuration problem; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class ProviderChoice:
    kind: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    api_version: str | None = None


def resolve_provider(choice: ProviderChoice, env: Mapping[str, str]) -> ProviderConfig:
    """Flags win over environment variables, which win over the built-in defaults."""
    kind = choice.kind or env.get("HARKEN_PROVIDER") or _guess_kind(env)
    if kind not in DEFAULTS:
        raise ConfigError(f"unknown provider {kind!r}: use openai, anthropic or azure")
    default_url, default_model = DEFAULTS[kind]
    env_url = {
        "openai": env.get("OPENAI_BASE_URL"),
        "anthropic": env.get("ANTHROPIC_BASE_URL"),
        "azure": env.get("AZURE_OPENAI_ENDPOINT"),
    }[kind]
    base_url = choice.base_url or env.get("HARKEN_BASE_URL") or env_url or default_url
    model = choice.model or env.get("HARKEN_MODEL") or default_model
    api_key = choice.api_key or env.get(KEY_VARS[kind]) or None
    api_version = choice.api_version or env.get("OPENAI_API_VERSION") or None
    if not base_url:
        raise ConfigError(f"no base URL for {kind}: pass --base-url")
    if not model:
        raise ConfigError(f"no model for {kind}: pass --model (for Azure, the deployment name)")
    if kind == "azure" and not api_version:
        api_version = "2024-10-21"
    remote_default = base_url == default_url
    if remote_default and not api_key:
        raise ConfigError(
            f"no API key for {kind}: pass --api-key or set {KEY_VARS[kind]} "
            "(or --base-url for a local server)"
        )
    return ProviderConfig(
        kind=kind, base_url=base_url, model=model, api_key=api_key, api_version=api_version
    )


def _guess_kind(env: Mapping[str, str]) -> str:
    if env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL"):
        return "openai"
    if env.get("ANTHROPIC_API_KEY"):
        return "anthropic"
    if env.get("AZURE_OPENAI_ENDPOINT"):
        return "azure"
    return "openai"
