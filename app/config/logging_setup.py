"""Logging to stderr and a rotated file in the platform log directory.

Secrets never reach a log: every record passes a filter that masks the API
keys in use and anything that looks like an Authorization header or key.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from providers.redaction import is_secret, redact_secret

_PATTERNS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer\s+)?\S+"),
    re.compile(r"(?i)((?:x-)?api-key\s*[:=]\s*)\S+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
]
_known_secrets: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Mask this string, where it stands as a whole token, in every later log record
    (a string too short to be a secret is not: it would mask pieces of words)."""
    if secret is not None and is_secret(secret):
        _known_secrets.add(secret)


def redact(text: str) -> str:
    for secret in _known_secrets:
        text = redact_secret(text, secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def setup_logging(*, verbose: bool = False, log_dir: Path | None = None) -> Path | None:
    """Configure the root logger; returns the log file path when one is used."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr.setFormatter(fmt)
    stderr.addFilter(RedactingFilter())
    root.addHandler(stderr)
    path = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "harken.log"
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setFormatter(fmt)
        file_handler.addFilter(RedactingFilter())
        root.addHandler(file_handler)
    for noisy in ("httpx", "httpcore", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
