"""The one interface every LLM provider implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class Holdable(Protocol):
    """A provider whose generation can wait between tokens without being cancelled: an
    in-process model, which shares the CPU with Whisper (``providers.generation_hold``).

    ``hold()`` pauses its generations until the returned release is called."""

    def hold(self) -> Callable[[], None]: ...
