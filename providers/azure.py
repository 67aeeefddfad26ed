"""Azure OpenAI: the OpenAI Chat Completions format at a deployment URL with an ``api-key`` header.

``base_url`` is the resource endpoint (``https://NAME.openai.azure.com``) and
the configured model is the deployment name.
"""

from __future__ import annotations

from urllib.parse import quote

from .openai_compat import OpenAIWire

DEFAULT_API_VERSION = "2024-10-21"


class AzureWire(OpenAIWire):
    """``POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...``."""

    def __init__(
        self,
        provider: str,
        endpoint: str,
        deployment: str,
        api_key: str | None,
        api_version: str | None,
    ) -> None:
        endpoint = endpoint.rstrip("/")
        endpoint = endpoint.removesuffix("/openai")  # accept the SDK-style ".../openai" too
        super().__init__(provider, endpoint, deployment, api_key)
        self.api_version = api_version or DEFAULT_API_VERSION

    def url(self) -> str:
        deployment = quote(self.model, safe="")
        return (
            f"{self.base_url}/openai/deployments/{deployment}/chat/completions"
            f"?api-version={quote(self.api_version, safe='')}"
        )

    def headers(self) -> dict[str, str]:
        return {"api-key": self._api_key} if self._api_key else {}
