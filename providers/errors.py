"""Typed provider errors with messages a person can act on.

Hierarchy::

    ProviderError            kind, message, provider, status, retryable
    ├── StreamCancelled      the request's own token was cancelled (never retried);
    │                        also a ``cancel.Cancelled``, what Whisper and tools raise
    ├── AuthError            401/403: the key is wrong or lacks access
    ├── RateLimitError       429: retried, honouring Retry-After
    ├── ServerError          5xx: retried
    ├── NetworkError         connect failure, dropped or stalled stream: retried
    │                        before the first token, reported after it
    ├── BadRequestError      400/404/422: the request or model name is wrong
    ├── BadResponseError     the server sent something that is not the protocol
    └── LocalModelError      the in-process model cannot be used (local_model.py):
                             extra not installed, file missing, file unreadable
"""

from __future__ import annotations

from enum import StrEnum

from .cancel import Cancelled


class ErrorKind(StrEnum):
    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    NETWORK = "network"
    BAD_REQUEST = "bad_request"
    BAD_RESPONSE = "bad_response"
    CANCELLED = "cancelled"
    MODEL = "model"


class ProviderError(Exception):
    """Base class: ``str(err)`` is the sentence to show the user."""

    kind: ErrorKind = ErrorKind.SERVER
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after_s = retry_after_s


class StreamCancelled(ProviderError, Cancelled):
    kind = ErrorKind.CANCELLED


class AuthError(ProviderError):
    kind = ErrorKind.AUTH


class RateLimitError(ProviderError):
    kind = ErrorKind.RATE_LIMIT
    retryable = True


class ServerError(ProviderError):
    kind = ErrorKind.SERVER
    retryable = True


class NetworkError(ProviderError):
    kind = ErrorKind.NETWORK
    retryable = True


class BadRequestError(ProviderError):
    kind = ErrorKind.BAD_REQUEST


class BadResponseError(ProviderError):
    kind = ErrorKind.BAD_RESPONSE
