"""Which provider to talk to, and how: the one settings object the app hands to
:func:`providers.create_provider`."""

from __future__ import annotations

from dataclasses import dataclass, field

from .local_model import LocalModelConfig
from .retry import RetryPolicy

DEFAULT_DISPLAY_NAMES = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "azure": "Azure OpenAI",
    "local": "Local model",
}


@dataclass(frozen=True)
class ProviderConfig:
    """``kind`` is "openai" (any OpenAI-compatible server), "anthropic", "azure", or "local"
    (a GGUF model run in-process; ``local`` then says which, and the URL fields are unused).

    ``base_url`` follows the official SDKs: OpenAI-compatible ones include the
    version path (``https://api.openai.com/v1``), Anthropic's does not
    (``https://api.anthropic.com``), Azure's is the resource endpoint
    (``https://NAME.openai.azure.com``) and ``model`` is then the deployment.
    ``display_name`` names the provider in messages; it defaults per kind.
    The key never appears in ``repr``.
    """

    kind: str
    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    display_name: str | None = None
    retry: RetryPolicy = RetryPolicy()
    local: LocalModelConfig | None = None

    @property
    def name(self) -> str:
        return self.display_name or DEFAULT_DISPLAY_NAMES.get(self.kind, self.kind)
