""" "Fetch models" and "Test connection" for the settings dialog: one GET to the model list.

OpenAI-compatible servers: ``GET {base_url}/models`` with a Bearer key;
Anthropic: ``GET {base_url}/v1/models`` with ``x-api-key`` and
``anthropic-version``; Azure OpenAI: ``GET {endpoint}/openai/models`` with
``api-key`` and ``api-version``. The result always carries a sentence the
user can act on; nothing raises except cancellation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

log = logging.getLogger(__name__)

ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class ProbeResult:
    """``status``: ok | auth | unreachable | not_found | server | bad_response | config."""

    status: str
    message: str
    models: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def models_request(
    kind: str, base_url: str, api_key: str | None, api_version: str | None
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(url, headers, query params) for the model list of this provider kind."""
    base = base_url.rstrip("/")
    headers: dict[str, str] = {"Accept": "application/json"}
    params: dict[str, str] = {}
    if kind == "anthropic":
        url = f"{base}/v1/models"
        headers["anthropic-version"] = ANTHROPIC_VERSION
        if api_key:
            headers["x-api-key"] = api_key
    elif kind == "azure":
        url = f"{base}/openai/models"
        params["api-version"] = api_version or "2024-10-21"
        if api_key:
            headers["api-key"] = api_key
    else:
        url = f"{base}/models"
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
    return url, headers, params


async def fetch_models(
    kind: str,
    base_url: str,
    api_key: str | None = None,
    api_version: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    timeout_s: float = 10.0,
    summarise: bool = False,
) -> ProbeResult:
    """The server's model ids (sorted), or why they could not be listed; with
    ``summarise`` ("Test connection") the message says how many there are."""
    if not base_url.strip():
        return ProbeResult("config", "Enter the server's base URL first.")
    if not base_url.startswith(("http://", "https://")):
        return ProbeResult("config", f"{base_url!r} is not a web address (http:// or https://).")
    url, headers, params = models_request(kind, base_url, api_key, api_version)
    own = client is None
    http = client or httpx.AsyncClient(timeout=timeout_s)
    try:
        response = await http.get(url, headers=headers, params=params, timeout=timeout_s)
    except httpx.TimeoutException:
        return ProbeResult(
            "unreachable", f"{_host(url)} did not answer within {timeout_s:g} s. Is it running?"
        )
    except httpx.HTTPError as exc:
        log.info("model list request failed: %s", type(exc).__name__)
        return ProbeResult(
            "unreachable",
            f"Could not connect to {_host(url)}. "
            "Check the base URL and that the server is running.",
        )
    finally:
        if own:
            await http.aclose()
    result = _interpret(response, url)
    if not summarise or not result.ok:
        return result
    n = len(result.models)
    noun = "model" if n == 1 else "models"
    return ProbeResult(
        "ok", f"Connected to {_host(base_url)}: {n} {noun} available.", result.models
    )


# "Test connection" in Settings → Provider.
check_connection = partial(fetch_models, summarise=True)


def _interpret(response: httpx.Response, url: str) -> ProbeResult:
    code = response.status_code
    host = _host(url)
    if code in (401, 403):
        return ProbeResult(
            "auth",
            f"{host} rejected the API key ({code}). Enter a valid key in Settings → Provider.",
        )
    if code == 404:
        return ProbeResult(
            "not_found",
            f"{host} has no model list at {url} (404). Check the base URL: OpenAI-compatible "
            "servers usually end in /v1, Anthropic's does not.",
        )
    if code >= 500:
        return ProbeResult("server", f"{host} had a server error ({code}). Try again later.")
    if code >= 400:
        return ProbeResult("bad_response", f"{host} refused the request ({code}).")
    try:
        body: Any = response.json()
        items = body["data"] if isinstance(body, dict) else body
        models = sorted({str(item["id"]) for item in items})
    except (ValueError, KeyError, TypeError):
        return ProbeResult(
            "bad_response",
            f"{host} answered, but not with a model list. Is this the right base URL?",
        )
    return ProbeResult("ok", f"{len(models)} models found.", tuple(models))


def _host(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return url
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host}{port}" if parsed.host else url
