"""The Anthropic Messages wire format: how a request is phrased and how its
typed stream events (``content_block_delta``, ``message_stop``, ...) are decoded.

Anthropic wants the system prompt at the top level, tool calls as
``tool_use`` blocks, tool results as ``tool_result`` blocks inside a user
turn, and strictly alternating, non-empty turns; the request is shaped so.
"""

from __future__ import annotations

import json
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

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Error types an ``event: error`` can carry, as the HTTP status that means the same.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class AnthropicWire:
    """``POST {base_url}/v1/messages`` with ``x-api-key`` and ``anthropic-version``."""

    def __init__(self, provider: str, base_url: str, model: str, api_key: str | None) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key

    def http_call(self, request: ChatRequest) -> HttpCall:
        headers = {"anthropic-version": API_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        body = messages_body(request, self.model)
        return HttpCall(f"{self.base_url}/v1/messages", headers, body, secret=self._api_key)

    def decoder(self) -> AnthropicDecoder:
        return AnthropicDecoder(self.provider)


def messages_body(request: ChatRequest, default_model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model or default_model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": anthropic_messages(request),
        "stream": True,
    }
    if request.system:
        body["system"] = request.system
    if request.tools:
        body["tools"] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
            for tool in request.tools
        ]
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def anthropic_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """Turns as Anthropic wants them: consecutive blocks of one role merged, empty ones dropped."""
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    for message in request.messages:
        if isinstance(message, UserMessage):
            add("user", [{"type": "text", "text": message.text}] if message.text else [])
        elif isinstance(message, AssistantMessage):
            blocks: list[dict[str, Any]] = []
            if message.text.strip():
                blocks.append({"type": "text", "text": message.text})
            blocks.extend(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": _input(call)}
                for call in message.tool_calls
            )
            add("assistant", blocks)
        elif isinstance(message, ToolResultMessage):
            result: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            if message.is_error:
                result["is_error"] = True
            add("user", [result])
    return turns


def _input(call: ToolCall) -> dict[str, Any]:
    try:
        return call.arguments()
    except ValueError:
        return {"arguments": call.arguments_json}


@dataclass
class _Block:
    kind: str
    id: str = ""
    name: str = ""
    json_parts: list[str] = field(default_factory=list)
    initial_input: Any = None


class AnthropicDecoder:
    """Decodes Messages stream events; ``message_stop`` ends the reply."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._done = False
        self._blocks: dict[int, _Block] = {}
        self._stop_reason: str | None = None
        self._input_tokens: int | None = None
        self._output_tokens: int | None = None

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, sse: ServerSentEvent) -> list[StreamEvent]:
        if sse.event == "ping" or not sse.data.strip():
            return []
        data = sse_json(sse, self.provider)
        kind = data.get("type") or sse.event
        if kind == "error":
            raise self._error(data)
        if kind == "message_start":
            self._read_usage(_dict(data.get("message")).get("usage"))
        elif kind == "content_block_start":
            return self._start_block(data)
        elif kind == "content_block_delta":
            return self._delta(data)
        elif kind == "content_block_stop":
            return self._stop_block(data)
        elif kind == "message_delta":
            reason = _dict(data.get("delta")).get("stop_reason")
            if isinstance(reason, str):
                self._stop_reason = STOP_REASONS.get(reason, reason)
            self._read_usage(data.get("usage"))
        elif kind == "message_stop":
            self._done = True
            usage = None
            if self._input_tokens is not None or self._output_tokens is not None:
                usage = Usage(self._input_tokens, self._output_tokens)
            return [Done(self._stop_reason or "stop", usage)]
        return []

    def finish(self) -> list[StreamEvent]:
        raise stream_ended_early(self.provider)

    def _start_block(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = _dict(data.get("content_block"))
        kind = str(block.get("type", ""))
        self._blocks[self._index(data)] = _Block(
            kind=kind,
            id=str(block.get("id", "")),
            name=str(block.get("name", "")),
            initial_input=block.get("input"),
        )
        text = block.get("text")
        return [TextDelta(text)] if kind == "text" and isinstance(text, str) and text else []

    def _delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = _dict(data.get("delta"))
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return [TextDelta(text)] if isinstance(text, str) and text else []
        if kind == "input_json_delta":
            block = self._blocks.get(self._index(data))
            if block is None:
                raise self._bad("tool input for a content block it never started")
            block.json_parts.append(str(delta.get("partial_json", "")))
        return []  # thinking, signatures and future delta types are not shown

    def _stop_block(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = self._blocks.pop(self._index(data), None)
        if block is None or block.kind != "tool_use":
            return []
        if not block.name:
            raise self._bad("a tool call without a name")
        arguments = "".join(block.json_parts).strip()
        if not arguments:
            initial = block.initial_input
            arguments = json.dumps(initial) if isinstance(initial, dict) and initial else "{}"
        return [ToolCall(block.id, block.name, arguments)]

    def _index(self, data: dict[str, Any]) -> int:
        index = data.get("index")
        if not isinstance(index, int):
            raise self._bad("a content block event without an index")
        return index

    def _read_usage(self, usage: Any) -> None:
        usage = _dict(usage)
        if isinstance(usage.get("input_tokens"), int):
            self._input_tokens = usage["input_tokens"]
        if isinstance(usage.get("output_tokens"), int):
            self._output_tokens = usage["output_tokens"]

    def _error(self, data: dict[str, Any]) -> ProviderError:
        error_type = _dict(data.get("error")).get("type")
        status = ERROR_STATUS.get(error_type, 500) if isinstance(error_type, str) else 500
        return error_for_status(status, {}, json.dumps(data).encode(), self.provider)

    def _bad(self, what: str) -> BadResponseError:
        return BadResponseError(f"{self.provider} sent {what}.", provider=self.provider)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
