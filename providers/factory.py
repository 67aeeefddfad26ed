"""Build a provider from its settings, and the one shared HTTP client the app constructs.

Providers never construct a client: the composition root makes one with
:func:`new_http_client` and hands it to every :func:`create_provider` call.
"""

from __future__ import annotations

import httpx

from .anthropic import AnthropicWire
from .azure import AzureWire
from .base import Provider
from .config import ProviderConfig
from .local import LocalProvider
from .local_source import LocalModelSource
from .openai_compat import OpenAIWire
from .provider import SseProvider, WireFormat

KINDS = ("openai", "anthropic", "azure", "local")


def create_provider(
    config: ProviderConfig,
    client: httpx.AsyncClient,
    *,
    local_source: LocalModelSource | None = None,
) -> Provider:
    """The provider for ``config``, streaming over ``client``. Raises ValueError
    for an unknown ``config.kind``.

    A ``local`` provider runs on ``local_source`` (the app keeps one loaded model across
    provider changes); without one it gets its own, which loads on the first turn."""
    wire: WireFormat
    name = config.name
    if config.kind == "local":
        if local_source is None:
            if config.local is None:
                raise ValueError("A local provider needs a LocalModelConfig.")
            local_source = LocalModelSource(config.local)
        return LocalProvider(local_source, name)
    if config.kind == "openai":
        wire = OpenAIWire(name, config.base_url, config.model, config.api_key)
    elif config.kind == "anthropic":
        wire = AnthropicWire(name, config.base_url, config.model, config.api_key)
    elif config.kind == "azure":
        wire = AzureWire(name, config.base_url, config.model, config.api_key, config.api_version)
    else:
        raise ValueError(f"Unknown provider kind {config.kind!r}: use one of {', '.join(KINDS)}.")
    return SseProvider(name, client, wire, config.retry, secret=config.api_key)


def new_http_client(
    transport: httpx.AsyncBaseTransport | None = None, *, user_agent: str = "Harken"
) -> httpx.AsyncClient:
    """The app's one HTTP client. Each request sets its own connect and stale
    timeouts from its provider's :class:`RetryPolicy`; these are the fallbacks.
    ``user_agent``: the app passes ``Harken/<version>`` (``app.version``)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=8, keepalive_expiry=30.0),
        headers={"user-agent": user_agent},
        follow_redirects=False,
        transport=transport,
    )
