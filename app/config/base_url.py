"""Is a base URL a URL? Checked at start-up, so a typo is a configuration error then.

``--base-url "not a url"`` used to pass start-up and fail at the first turn (and
headless mode then exited 0). Only the shape is checked here — an ``http`` or
``https`` scheme and a host; whether anything answers there is the provider's
business (its errors say so at turn time).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def base_url_problem(url: str, *, what: str = "the base URL") -> str | None:
    """A one-line reason ``url`` cannot be a provider's base URL, or None when it can."""
    text = url.strip()
    if not text:
        return None  # a missing URL is check_usable's own error
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in text)
    ):
        return (
            f"{what} {url!r} is not a URL: give one like http://localhost:11434/v1 "
            "or https://api.openai.com/v1"
        )
    return None
