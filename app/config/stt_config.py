"""From the settings in effect to speech recognition on a server (``SttConfig``) or None (local).

The server's API key lives in the keyring like a provider's, bound to its
base URL (``app.config.secrets``, with the preset id ``KEY_PRESET``): a key
saved for one transcription server is never sent to another one — change the
URL and there is no key until one is saved for the new URL. ``HARKEN_STT_API_KEY``
gives a key for this run instead (scripts, headless mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.config.provider_config import ConfigError
from app.config.settings import Settings

KEY_ENV = "HARKEN_STT_API_KEY"
KEY_PRESET = "stt"  # the keyring entry is "stt <base URL>" (``app.config.secrets``)


@dataclass(frozen=True)
class SttConfig:
    """A transcription server: base URL with /v1, model name, key, and the patience."""

    url: str
    model: str
    api_key: str | None = None
    deadline_s: float = 5.0

    def describe(self) -> str:
        return f"{self.model} on {self.url}"


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be a transcription server's base URL, or None when it can."""
    url = url.strip()
    if not url:
        return "no transcription server URL is set (e.g. http://localhost:8000/v1)"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        return f"{url!r} is not a transcription server URL (e.g. http://localhost:8000/v1)"
    return None


def stt_config(
    settings: Settings, secrets: Any = None, env: Mapping[str, str] | None = None
) -> SttConfig | None:
    """The server to transcribe on, or None for local Whisper. Raises ConfigError for a
    server mode without a usable URL. ``secrets``: an ``app.config.secrets.SecretStore``."""
    stt = settings.stt
    if stt.mode != "server":
        return None
    problem = check_url(stt.url)
    if problem:
        raise ConfigError(f"speech recognition on a server: {problem}; pass --stt-url")
    url = stt.url.strip()
    key = (env or {}).get(KEY_ENV) or None
    if key is None and secrets is not None:
        key = secrets.get(KEY_PRESET, url)
    return SttConfig(
        url=url,
        model=stt.model.strip() or "whisper-1",
        api_key=key or None,
        deadline_s=stt.timeout_ms / 1000,
    )
