"""The OpenAI Chat Completions wire format (OpenAI, Ollama, LM Studio, llama.cpp, vLLM, Groq,
OpenRouter): how a request is phrased and how its streamed chunks are decoded.

Tool calls arrive as many partial deltas keyed by ``index``; they are
assembled here and yielded whole, once the model has finished them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from httpx_sse import ServerSentEvent

from .errors import BadResponseError, ProviderError
from .events import (
    AssistantMessage,
    ChatRequest,
    Done,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from .http_errors import error_for_status
from .streaming import HttpCall, sse_json, stream_ended_early

FINISH_REASONS = {"function_call": "tool_calls", "eos": "stop", "end_turn": "stop"}


class OpenAIWire:
    """``POST {base_url}/chat/completions`` with a bearer key (optional for local servers)."""

    def __init__(self, provider: str, base_url: str, model: str, api_key: str | None) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key

    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def http_call(self, request: ChatRequest) -> HttpCall:
        return HttpCall(
            self.url(), self.headers(), chat_body(request, self.model), secret=self._api_key
        )

    def decoder(self) -> OpenAIDecoder:
        return OpenAIDecoder(self.provider)


def chat_body(request: ChatRequest, default_model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model or default_model,
        "messages": chat_messages(request),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = chat_tools(request)
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def chat_tools(request: ChatRequest) -> list[dict[str, Any]]:
    """The request's tools as Chat Completions ``tools`` (function definitions)."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in request.tools
    ]


def chat_messages(request: ChatRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        if isinstance(message, UserMessage):
            messages.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": message.text}
            if message.tool_calls:
                entry["content"] = message.text or None
                entry["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments_json or "{}"},
                    }
                    for call in message.tool_calls
                ]
            messages.append(entry)
        elif isinstance(message, ToolResultMessage):
            content = f"Error: {message.content}" if message.is_error else message.content
            messages.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
            )
    return messages


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAIDecoder:
    """Decodes ``chat.completion.chunk`` events; ``data: [DONE]`` ends the reply."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._done = False
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._calls: dict[int, _PartialCall] = {}
        self._calls_sent = False

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, sse: ServerSentEvent) -> list[StreamEvent]:
        if sse.data.strip() == "[DONE]":
            self._done = True
            return [*self._tool_calls(), self._done_event()]
        return self.feed_chunk(sse_json(sse, self.provider))

    def feed_chunk(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        """Events for one decoded ``chat.completion.chunk`` (also what llama-cpp-python's
        in-process ``create_chat_completion(stream=True)`` yields)."""
        if chunk.get("error"):
            raise _stream_error(chunk["error"], self.provider)
        self._usage = _usage(chunk.get("usage")) or self._usage
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise self._bad("a chunk whose choices are not a list")
        events: list[StreamEvent] = []
        for choice in choices[:1]:
            if not isinstance(choice, dict):
                raise self._bad("a choice that is not an object")
            delta = choice.get("delta") or {}
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str) and text:
                events.append(TextDelta(text))
            if isinstance(delta, dict) and delta.get("tool_calls"):
                self._add_call_deltas(delta["tool_calls"])
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                self._finish_reason = FINISH_REASONS.get(reason, reason)
                events.extend(self._tool_calls())
        return events

    def finish(self) -> list[StreamEvent]:
        if self._finish_reason is None:
            raise stream_ended_early(self.provider)
        return [*self._tool_calls(), self._done_event()]

    def _add_call_deltas(self, deltas: Any) -> None:
        if not isinstance(deltas, list):
            raise self._bad("tool calls that are not a list")
        for position, delta in enumerate(deltas):
            if not isinstance(delta, dict):
                raise self._bad("a tool call that is not an object")
            index = delta.get("index", position)
            call_id = delta.get("id")
            current = self._calls.get(index)
            if current is None or (call_id and current.id and call_id != current.id):
                if current is not None:  # a new call reusing an index: keep both, in order
                    index = max(self._calls) + 1
                current = self._calls[index] = _PartialCall()
            if call_id:
                current.id = str(call_id)
            function = delta.get("function") or {}
            if isinstance(function.get("name"), str) and function["name"]:
                current.name = function["name"]
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                current.arguments.append(arguments)
            elif isinstance(arguments, Mapping):  # some servers send an object, not a string
                current.arguments.append(json.dumps(arguments))

    def _tool_calls(self) -> list[StreamEvent]:
        if self._calls_sent:
            return []
        self._calls_sent = True
        calls: list[StreamEvent] = []
        for number, index in enumerate(sorted(self._calls)):
            partial = self._calls[index]
            if not partial.name:
                raise self._bad("a tool call without a name")
            arguments = "".join(partial.arguments).strip() or "{}"
            calls.append(ToolCall(partial.id or f"call_{number}", partial.name, arguments))
        return calls

    def _done_event(self) -> Done:
        return Done(self._finish_reason or "stop", self._usage)

    def _bad(self, what: str) -> BadResponseError:
        return BadResponseError(f"{self.provider} sent {what}.", provider=self.provider)


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, dict):
        return None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    return Usage(
        input_tokens=prompt if isinstance(prompt, int) else None,
        output_tokens=completion if isinstance(completion, int) else None,
    )


def _stream_error(error: Any, provider: str) -> ProviderError:
    """An ``{"error": ...}`` chunk sent mid-stream (vLLM, OpenRouter, LiteLLM)."""
    status = 500
    if isinstance(error, dict):
        code = error.get("code")
        if isinstance(code, int) and 400 <= code <= 599:
            status = code
        elif isinstance(code, str) and code.isdigit() and 400 <= int(code) <= 599:
            status = int(code)
    return error_for_status(status, {}, json.dumps({"error": error}).encode(), provider)
