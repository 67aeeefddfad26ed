"""LLM streaming clients for Harken: OpenAI-compatible servers, Anthropic, Azure OpenAI, and
a GGUF model run in-process by llama.cpp (the optional ``local`` extra, imported lazily).

Plain asyncio, no Qt. ``create_provider(config, client)`` gives a
:class:`Provider` whose ``stream(request, cancel)`` yields ``TextDelta``,
``ToolCall``, ``Retrying`` and finally ``Done``; it raises a typed
``ProviderError`` on failure and ``StreamCancelled`` once the request's
:class:`CancelToken` is set, having closed the connection.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Holdable, Provider
    from .cancel import Cancelled, CancelToken
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

# Where each public name lives. Loaded on first use, so that importing one light module
# (``providers.cancel``, which ``audio`` uses) does not import httpx and every wire format.
_WHERE = {
    "AssistantMessage": "events",
    "AuthError": "errors",
    "BadRequestError": "errors",
    "BadResponseError": "errors",
    "COMMON_CHAT_FORMATS": "local_model",
    "CancelToken": "cancel",
    "Cancelled": "cancel",
    "ChatRequest": "events",
    "Done": "events",
    "ErrorKind": "errors",
    "Holdable": "base",
    "INSTALL_COMMAND": "local_model",
    "LoadedModel": "local_model",
    "LocalExtraMissing": "local_model",
    "LocalModelConfig": "local_model",
    "LocalModelError": "local_model",
    "LocalModelSource": "local_source",
    "LocalProvider": "local",
    "Message": "events",
    "ModelFileMissing": "local_model",
    "ModelFileUnreadable": "local_model",
    "NetworkError": "errors",
    "Provider": "base",
    "ProviderConfig": "config",
    "ProviderError": "errors",
    "RateLimitError": "errors",
    "RetryPolicy": "retry",
    "Retrying": "events",
    "ServerError": "errors",
    "StreamCancelled": "errors",
    "StreamEvent": "events",
    "TextDelta": "events",
    "ToolCall": "events",
    "ToolResultMessage": "events",
    "ToolSpec": "events",
    "Usage": "events",
    "UserMessage": "events",
    "create_provider": "factory",
    "llama_cpp_available": "local_model",
    "new_http_client": "factory",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AssistantMessage",
    "AuthError",
    "BadRequestError",
    "BadResponseError",
    "COMMON_CHAT_FORMATS",
    "CancelToken",
    "Cancelled",
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
