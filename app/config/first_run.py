"""First-run detection: what could Harken talk to right away, without the user typing anything?

Local servers are probed on their usual ports (Ollama 11434, LM Studio 1234,
llama.cpp 8080) with a short timeout, all at once; API keys already in the
environment count too. So is a transcription server (speaches /
faster-whisper-server, port 8000): a server whose OpenAPI description has
``/v1/audio/transcriptions`` is offered for speech recognition (``kind`` "stt").
The result is a list of offers for the welcome screen, best first; an empty
list means "open Settings". None of it is shown when the effective
configuration already has a provider (``provider_given``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from app.config.overlay import Resolved
from app.config.presets import API_KEY_ENV, preset
from app.config.provider_probe import fetch_models

LOCAL_SERVERS: dict[str, str] = {
    "ollama": "http://localhost:11434/v1",
    "lmstudio": "http://localhost:1234/v1",
    "llamacpp": "http://localhost:8080/v1",
}
TRANSCRIPTION_SERVERS: tuple[str, ...] = ("http://localhost:8000/v1",)
TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"


@dataclass(frozen=True)
class Offer:
    preset: str  # a settings preset id
    label: str  # "Ollama at localhost:11434 (3 models)"
    kind: str  # a provider kind, or "stt" for a transcription server
    base_url: str
    models: tuple[str, ...] = ()
    api_key_env: str | None = None  # the environment variable holding the key


def provider_given(resolved: Resolved) -> bool:
    """True when the environment or the command line already chose the model for this run
    (``--provider openai --base-url … --api-key …``, ``OPENAI_API_KEY``, ``HARKEN_MODEL``…):
    then a first start has nothing to offer, and no "needs a language model" banner."""
    return resolved.api_key is not None or any(
        name.startswith("provider.") or name == "local.model_path" for name in resolved.overridden
    )


async def detect(
    env: Mapping[str, str] | None = None,
    *,
    local_servers: Mapping[str, str] | None = None,
    transcription_servers: Sequence[str] | None = None,
    client: httpx.AsyncClient | None = None,
    timeout_s: float = 0.5,
) -> list[Offer]:
    """Running local servers (those with models first), then keys found in the environment,
    then transcription servers."""
    env = os.environ if env is None else env
    servers = LOCAL_SERVERS if local_servers is None else local_servers
    stt_urls = TRANSCRIPTION_SERVERS if transcription_servers is None else transcription_servers
    own = client is None
    http = client or httpx.AsyncClient(timeout=timeout_s)
    try:
        results, stt_offers = await asyncio.gather(
            asyncio.gather(
                *(
                    fetch_models("openai", url, client=http, timeout_s=timeout_s)
                    for url in servers.values()
                )
            ),
            asyncio.gather(*(_transcription_server(url, http, timeout_s) for url in stt_urls)),
        )
    finally:
        if own:
            await http.aclose()
    offers: list[Offer] = []
    for (preset_id, url), result in zip(servers.items(), results, strict=True):
        if not result.ok:
            continue
        p = preset(preset_id)
        where = httpx.URL(url)
        n = len(result.models)
        label = f"{p.label} at {where.host}:{where.port} ({n} model{'s' if n != 1 else ''})"
        offers.append(Offer(preset_id, label, "openai", url, result.models))
    offers.sort(key=lambda o: not o.models)
    for kind, var in API_KEY_ENV.items():
        if not env.get(var):
            continue
        p = preset(kind)
        base_url = p.base_url
        if kind == "azure":
            base_url = env.get("AZURE_OPENAI_ENDPOINT", "")
            if not base_url:
                continue  # a key without an endpoint is not usable yet
        elif kind == "openai" and env.get("OPENAI_BASE_URL"):
            base_url = env["OPENAI_BASE_URL"]
        label = f"{p.label} (key from {var})"
        offers.append(Offer(p.id, label, kind, base_url, (), var))
    offers.extend(offer for offer in stt_offers if offer is not None)
    return offers


async def _transcription_server(
    url: str, http: httpx.AsyncClient, timeout_s: float
) -> Offer | None:
    """An offer when ``url`` serves the OpenAI transcription API (its OpenAPI says so)."""
    where = httpx.URL(url)
    root = str(where.copy_with(path="/"))
    try:
        response = await http.get(root + "openapi.json", timeout=timeout_s)
        paths = response.json().get("paths", {}) if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if not isinstance(paths, dict) or TRANSCRIPTIONS_PATH not in paths:
        return None
    models = await fetch_models("openai", url, client=http, timeout_s=timeout_s)
    whisper = tuple(m for m in models.models if "whisper" in m.lower()) if models.ok else ()
    label = f"a transcription server at {where.host}:{where.port} for speech recognition"
    return Offer("", label, "stt", url, whisper or ("whisper-1",))
