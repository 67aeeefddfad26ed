"""LLM streaming clients for Harken: OpenAI-compatible servers, Anthropic, Azure OpenAI, and
a GGUF model run in-process by llama.cpp (the optional ``local`` extra, imported lazily).

Plain asyncio, no Qt. ``create_provider(config, client)`` gives a
:class:`Provider` whose ``stream(request, cancel)`` yields ``TextDelta``,
``ToolCall``, ``Retrying`` and finally ``Done``; it raises a typed
``ProviderError`` on failure and ``StreamCancelled`` once the request's
:class:`CancelToken` is set, having closed the connection.
"""

from .base import Holdable, Provider
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
from .local import LocalProvider
from .local_model import (
    COMMON_CHAT_FORMATS,
    INSTALL_COMMAND,
    LoadedModel,
    LocalExtraMissing,
    LocalModelConfig,
    LocalModelError,
    ModelFileMissing,
    ModelFileUnreadable,
    llama_cpp_available,
)
from .local_source import LocalModelSource
from .retry import RetryPolicy

__all__ = [
    "AssistantMessage",
    "AuthError",
    "BadRequestError",
    "BadResponseError",
    "COMMON_CHAT_FORMATS",
    "CancelToken",
    "ChatRequest",
    "Done",
    "ErrorKind",
    "Holdable",
    "INSTALL_COMMAND",
    "LoadedModel",
    "LocalExtraMissing",
    "LocalModelConfig",
    "LocalModelError",
    "LocalModelSource",
    "LocalProvider",
    "Message",
    "ModelFileMissing",
    "ModelFileUnreadable",
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
    "llama_cpp_available",
    "new_http_client",
]
