"""Replies from a GGUF model run in-process by llama.cpp, behind the same streaming interface
as the HTTP providers.

Generation runs in a worker thread over ``create_chat_completion(stream=True)``,
whose chunks are OpenAI ``chat.completion.chunk`` objects: they are decoded by
the same decoder as an OpenAI-compatible server's, so text and tool calls
arrive as the same events. The worker checks the turn's ``CancelToken``
between tokens and closes the generator on cancel, so at most the token
being computed is finished (design rule 3, for a stream with no socket). A
lock per model serialises turns: the next turn starts on the same loaded
model as soon as the cancelled one has left it. ``hold()`` makes generation
wait between tokens while the user talks over the reply, so Whisper gets the
cores (``providers.generation_hold``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from .cancel import CancelToken
from .errors import BadRequestError, ProviderError, StreamCancelled
from .events import ChatRequest, Done, StreamEvent, TextDelta
from .generation_hold import GenerationHold
from .local_model import LoadedModel, LocalModelError
from .local_source import LocalModelSource
from .openai_compat import OpenAIDecoder, chat_messages, chat_tools
from .tagged_tool_calls import TaggedToolCalls

# Chat formats whose llama-cpp-python handler turns the model's output into tool calls.
TOOL_CALL_FORMATS = frozenset(
    {"chatml-function-calling", "functionary", "functionary-v1", "functionary-v2"}
)
LOCK_POLL_S = 0.05  # how often a turn waiting for the model checks its token
_END = object()


class LocalProvider:
    """A :class:`~providers.base.Provider` over a :class:`LocalModelSource`."""

    def __init__(self, source: LocalModelSource, name: str = "Local model") -> None:
        self.source = source
        self.name = name
        self.generation_hold = GenerationHold()

    def __repr__(self) -> str:
        return f"<LocalProvider {self.source.config.model_path}>"

    def stream(self, request: ChatRequest, cancel: CancelToken) -> AsyncIterator[StreamEvent]:
        return self._stream(request, cancel)

    def hold(self) -> Callable[[], None]:
        """Pause generation before its next token until the returned release is called."""
        return self.generation_hold.take()

    async def _stream(
        self, request: ChatRequest, cancel: CancelToken
    ) -> AsyncGenerator[StreamEvent, None]:
        _raise_if_cancelled(cancel)
        model = await self.source.get(cancel)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def push(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                pass

        abandoned = threading.Event()  # the consumer stopped reading without a cancel

        def should_stop() -> bool:
            return cancel.cancelled or abandoned.is_set()

        hold = self.generation_hold

        def on_cancel() -> None:
            push(_END)  # wakes the reader at once
            hold.wake()  # and a held generation, which then leaves the model

        forget = cancel.add_callback(on_cancel)
        worker = threading.Thread(
            target=generate,
            args=(model, completion_kwargs(request, model), should_stop, push, self.name, hold),
            name="harken-local-generate",
            daemon=True,
        )
        worker.start()
        decoder = OpenAIDecoder(self.name)
        tagged = TaggedToolCalls(self.name) if writes_tagged_calls(request, model) else None
        try:
            while True:
                item = await queue.get()
                _raise_if_cancelled(cancel)
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                for event in _lift_calls(decoder.feed_chunk(item), tagged):
                    yield event
            for event in _lift_calls(decoder.finish(), tagged):
                yield event
        finally:
            abandoned.set()
            hold.wake()
            forget()


def _lift_calls(events: list[StreamEvent], tagged: TaggedToolCalls | None) -> list[StreamEvent]:
    """Text deltas through the tag filter; its calls go out just before ``Done``."""
    if tagged is None:
        return events
    lifted: list[StreamEvent] = []
    for event in events:
        if isinstance(event, TextDelta):
            text = tagged.feed(event.text)
            if text:
                lifted.append(TextDelta(text))
        elif isinstance(event, Done):
            rest = tagged.finish()
            if rest:
                lifted.append(TextDelta(rest))
            lifted.extend(tagged.calls)
            reason = "tool_calls" if tagged.calls else event.finish_reason
            lifted.append(Done(reason, event.usage))
        else:
            lifted.append(event)
    return lifted


def writes_tagged_calls(request: ChatRequest, model: LoadedModel) -> bool:
    """The model's own template asks for ``<tool_call>`` tags, and tools are offered."""
    return bool(request.tools) and model.has_tool_template


def completion_kwargs(request: ChatRequest, model: LoadedModel) -> dict[str, Any]:
    """``create_chat_completion`` arguments for ``request`` (without ``stream``)."""
    messages = chat_messages(request)
    for message in messages:
        if message.get("content") is None:  # llama-cpp-python's formatters expect text
            message["content"] = ""
        if model.has_tool_template:  # Hugging Face templates render arguments as objects
            for call in message.get("tool_calls", ()):
                call["function"]["arguments"] = _as_object(call["function"]["arguments"])
    kwargs: dict[str, Any] = {"messages": messages}
    if request.tools and supports_tools(model):
        kwargs["tools"] = chat_tools(request)
        kwargs["tool_choice"] = "auto"
    kwargs["max_tokens"] = request.max_tokens or model.config.max_reply_tokens
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    return kwargs


def supports_tools(model: LoadedModel) -> bool:
    """Tools are offered only where the model's tool calls come back as calls: a handler
    that returns them, or a template whose ``<tool_call>`` tags are lifted out of the text.
    Elsewhere the model would speak its tool-call syntax aloud."""
    return (
        getattr(model.llama, "chat_handler", None) is not None
        or model.chat_format in TOOL_CALL_FORMATS
        or model.has_tool_template
    )


def _as_object(arguments: str) -> Any:
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return arguments
    return value if isinstance(value, dict) else arguments


def generate(
    model: LoadedModel,
    kwargs: dict[str, Any],
    should_stop: Callable[[], bool],
    push: Callable[[Any], None],
    name: str,
    hold: GenerationHold | None = None,
) -> None:
    """The worker thread: one reply's chunks to ``push``, then the end marker. Stops before
    asking llama.cpp for another token once ``should_stop()``; waits before it while
    ``hold`` is held."""
    while not model.lock.acquire(timeout=LOCK_POLL_S):  # the previous turn is leaving
        if should_stop():
            push(_END)
            return
    try:
        if hold is not None:
            hold.wait(should_stop)
        if should_stop():
            return
        chunks = model.llama.create_chat_completion(**kwargs, stream=True)
        try:
            for chunk in chunks:
                if should_stop():
                    break
                push(chunk)
                if hold is not None:
                    hold.wait(should_stop)  # the user may be talking over this reply
                if should_stop():
                    break
        finally:
            close = getattr(chunks, "close", None)  # a generator: no further token is evaluated
            if close is not None:
                close()
    except Exception as exc:
        push(_generation_error(exc, model, name))
    finally:
        model.lock.release()
        push(_END)


def _generation_error(exc: Exception, model: LoadedModel, name: str) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    text = str(exc)
    if "context window" in text or ("exceed" in text and "token" in text):
        return BadRequestError(
            f"The conversation no longer fits the local model's context of "
            f"{model.config.context_length} tokens. Start a new conversation, or raise "
            "Context length in Settings → Provider.",
            provider=name,
        )
    if type(exc).__module__.startswith("jinja2"):
        return BadRequestError(
            f"The model's chat template could not format the conversation ({text}). "
            "Choose another chat format in Settings → Provider.",
            provider=name,
        )
    return LocalModelError(f"llama.cpp failed while generating: {text}", provider=name)


def _raise_if_cancelled(cancel: CancelToken) -> None:
    if cancel.cancelled:
        raise StreamCancelled(cancel.reason or "cancelled")
