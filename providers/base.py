"""The one interface every LLM provider implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from .cancel import CancelToken
from .events import ChatRequest, StreamEvent


class Provider(Protocol):
    """Streams one reply. ``name`` is the human name used in messages ("OpenAI", "Ollama").

    ``stream`` yields events until ``Done``; it raises a ``ProviderError``
    subclass on failure and ``StreamCancelled`` once ``cancel`` is set (and
    then yields nothing more).
    """

    name: str

    def stream(self, request: ChatRequest, cancel: CancelToken) -> AsyncIterator[StreamEvent]: ...
