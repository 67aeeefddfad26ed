"""LLM streaming clients for Harken: OpenAI-compatible servers, Anthropic and Azure OpenAI.

Plain asyncio, no Qt. ``create_provider(config, client)`` gives a
:class:`Provider` whose ``stream(request, cancel)`` yields ``TextDelta``,
``ToolCall``, ``Retrying`` and finally ``Done``; it raises a typed
``ProviderError`` on failure and ``StreamCancelled`` once the request's
:class:`CancelToken` is set, having closed the connection.
"""

from .base import Provider
from .cancel import CancelToken
from .config import ProviderConfig
from .errors import (
    AuthError,
    BadRequestError,
    BadResponseError,
    ErrorKind,
    NetworkError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamCancelled,
)
from .events import (
    AssistantMessage,
    ChatRequest,
    Done,
    Message,
    Retrying,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    Usage,
    UserMessage,
)
from .factory import create_provider, new_http_client
from .retry import RetryPolicy

__all__ = [
    "AssistantMessage",
    "AuthError",
    "BadRequestError",
    "BadResponseError",
    "CancelToken",
    "ChatRequest",
    "Done",
    "ErrorKind",
    "Message",
    "NetworkError",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "RateLimitError",
    "Retrying",
    "RetryPolicy",
    "ServerError",
    "StreamCancelled",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolResultMessage",
    "ToolSpec",
    "Usage",
    "UserMessage",
    "create_provider",
    "new_http_client",
]
