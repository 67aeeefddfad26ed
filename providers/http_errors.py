"""Turn an HTTP error status (and the body the server sent) into a typed error.

One table for every provider, so that a 401 reads the same whether it came
from OpenAI, Anthropic or Azure, and the server's own explanation (an unknown
model, a bad parameter) reaches the user.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import (
    AuthError,
    BadRequestError,
    ProviderError,
    RateLimitError,
    ServerError,
)

_MAX_DETAIL_CHARS = 300


def error_for_status(
    status: int, headers: Mapping[str, str], body: bytes, provider: str
) -> ProviderError:
    """The typed error for a non-2xx response from ``provider`` (its display name)."""
    detail = server_message(body)
    suffix = f": {detail}" if detail else "."
    if status in (401, 403):
        return AuthError(
            f"The API key for {provider} was rejected ({status}). "
            "Open Settings → Provider to fix it.",
            provider=provider,
            status=status,
        )
    if status == 429:
        retry_after = retry_after_s(headers)
        return RateLimitError(
            f"{provider} is rate-limiting requests (429){suffix}",
            provider=provider,
            status=status,
            retry_after_s=retry_after,
        )
    if status == 408 or status >= 500:
        return ServerError(
            f"{provider} had a server error ({status}){suffix}",
            provider=provider,
            status=status,
            retry_after_s=retry_after_s(headers),
        )
    hint = " Check the model name and base URL in Settings → Provider." if status == 404 else ""
    return BadRequestError(
        f"{provider} refused the request ({status}){suffix}{hint}",
        provider=provider,
        status=status,
    )


def server_message(body: bytes) -> str:
    """The human part of an error body: ``error.message`` (OpenAI, Azure,
    Anthropic), ``error`` as a string (Ollama), ``message``, or short plain text."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return ""
    try:
        value: Any = json.loads(text)
    except ValueError:
        return "" if text.startswith("<") else _clip(text)  # an HTML error page says nothing
    message = _find_message(value)
    return _clip(message) if message else ""


def _find_message(value: Any) -> str | None:
    if isinstance(value, list) and value:
        return _find_message(value[0])
    if not isinstance(value, dict):
        return None
    error = value.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        found = _find_message(error)
        if found:
            return found
    for key in ("message", "detail"):
        if isinstance(value.get(key), str):
            return str(value[key])
    return None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL_CHARS else text[: _MAX_DETAIL_CHARS - 1] + "…"


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
