"""Masking an API key in text (error bodies echoed by a server, log lines).

A key is masked only where it stands as a whole token, and only when it is long
enough to be a secret: a one-letter ``--api-key k`` (a local server that wants
*some* key) used to turn "fake server" into "fa[api key]e server". Real keys are
long (OpenAI's and Anthropic's 40+ characters, Azure's 32); anything shorter than
:data:`MIN_SECRET_CHARS` guards nothing and is left alone.
"""

from __future__ import annotations

import re

MIN_SECRET_CHARS = 8
MASK = "[api key]"
# Characters that continue a key-like token: a match must not be part of a longer one.
_TOKEN = r"A-Za-z0-9_\-"


def is_secret(secret: str) -> bool:
    """Long enough to be worth masking (and so, to be masked)."""
    return len(secret) >= MIN_SECRET_CHARS


def secret_pattern(secret: str) -> re.Pattern[str]:
    """Matches ``secret`` as a whole token (not inside a longer word or key)."""
    return re.compile(rf"(?<![{_TOKEN}]){re.escape(secret)}(?![{_TOKEN}])")


def redact_secret(text: str, secret: str | None, mask: str = MASK) -> str:
    """``text`` with every whole-token occurrence of ``secret`` replaced by ``mask``."""
    if not secret or not is_secret(secret) or secret not in text:
        return text
    return secret_pattern(secret).sub(mask, text)
