"""What the scripted SSE server plays: reply steps, and builders for OpenAI- and
Anthropic-style event sequences (text pieces, tool calls split into many deltas).

A :class:`Reply` is a status, headers and a body of steps — :class:`Send`
(bytes after a delay), :class:`Stall` (nothing), :class:`Hold` (nothing until
the test says) and :class:`Drop` (cut the connection). ``openai_stream`` /
``anthropic_stream`` build the body of a realistic streamed reply;
``sse_reply`` wraps steps into a reply.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SSE_HEADERS: Mapping[str, str] = {"content-type": "text/event-stream", "cache-control": "no-cache"}


@dataclass(frozen=True)
class Send:
    """Write ``data`` after ``delay_s`` (as one HTTP chunk when streaming)."""

    data: bytes
    delay_s: float = 0.0


@dataclass(frozen=True)
class Stall:
    """Send nothing for ``seconds`` (None: until the client hangs up or the server closes)."""

    seconds: float | None = None


@dataclass(frozen=True)
class Hold:
    """Send nothing until the test sets ``gate`` (at most ``timeout_s``): a reply that is
    still streaming exactly as long as the test needs, however slow the machine."""

    gate: threading.Event
    timeout_s: float = 60.0


@dataclass(frozen=True)
class Drop:
    """Cut the connection mid-body; ``reset=True`` sends a TCP RST instead of a FIN."""

    reset: bool = False


Step = Send | Stall | Hold | Drop


@dataclass(frozen=True)
class Reply:
    """One scripted response. ``stream=True`` uses chunked encoding (each step
    a chunk); otherwise the body is sent with a Content-Length.
    ``head_delay_s`` holds back the status line (a slow server)."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: dict(SSE_HEADERS))
    body: Sequence[Step] = ()
    stream: bool = True
    head_delay_s: float = 0.0


@dataclass(frozen=True)
class ScriptedToolCall:
    """A tool call to stream, its JSON ``arguments`` split across ``pieces`` chunks."""

    id: str
    name: str
    arguments: str
    pieces: int = 3


# ---------------------------------------------------------------- script builders


def sse_event(
    data: str | Mapping[str, Any], event: str | None = None, delay_s: float = 0.0
) -> Send:
    """One server-sent event (a mapping is sent as JSON)."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return Send(f"{head}data: {payload}\n\n".encode(), delay_s)


def sse_reply(
    steps: Sequence[Step], status: int = 200, headers: Mapping[str, str] | None = None
) -> Reply:
    return Reply(status=status, headers=dict(headers or SSE_HEADERS), body=tuple(steps))


def json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """A plain (non-streamed) JSON response, e.g. an error."""
    all_headers = {"content-type": "application/json", **(headers or {})}
    return Reply(status, all_headers, (Send(json.dumps(body).encode()),), stream=False)


def split_text(text: str, pieces: int) -> list[str]:
    """``text`` cut into ``pieces`` nearly equal consecutive parts (none empty)."""
    pieces = max(1, min(pieces, len(text)))
    size, extra = divmod(len(text), pieces)
    out, start = [], 0
    for i in range(pieces):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out


def openai_stream(
    pieces: Sequence[str] = (),
    tool_calls: Sequence[ScriptedToolCall] = (),
    *,
    finish_reason: str | None = None,
    usage: tuple[int, int] | None = (5, 7),
    delay_s: float = 0.0,
    done: bool = True,
) -> list[Step]:
    """Chat Completions chunks: a role chunk, one chunk per text piece, tool-call
    deltas (id and name first, then the arguments in pieces), the finish reason,
    a usage chunk and ``[DONE]``. ``delay_s`` precedes every event."""

    def chunk(delta: dict[str, Any], reason: str | None = None) -> Send:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [choice]}
        return sse_event(body, delay_s=delay_s)

    steps: list[Step] = [chunk({"role": "assistant", "content": ""})]
    steps += [chunk({"content": piece}) for piece in pieces]
    for index, call in enumerate(tool_calls):
        head = {"index": index, "id": call.id, "type": "function"}
        function = {"name": call.name, "arguments": ""}
        steps.append(chunk({"tool_calls": [{**head, "function": function}]}))
        for part in split_text(call.arguments, call.pieces):
            steps.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    steps.append(chunk({}, finish_reason or ("tool_calls" if tool_calls else "stop")))
    if usage is not None:
        body = {"id": "chatcmpl-1", "choices": [], "usage": _openai_usage(usage)}
        steps.append(sse_event(body, delay_s=delay_s))
    if done:
        steps.append(sse_event("[DONE]", delay_s=delay_s))
    return steps


def _openai_usage(usage: tuple[int, int]) -> dict[str, int]:
    return {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}


def anthropic_stream(
    pieces: Sequence[str] = (),
    tool_calls: Sequence[ScriptedToolCall] = (),
    *,
    stop_reason: str | None = None,
    usage: tuple[int, int] = (5, 7),
    delay_s: float = 0.0,
) -> list[Step]:
    """Messages stream events: message_start, a text block with one delta per
    piece, a tool_use block per call (arguments as input_json_delta pieces),
    message_delta with the stop reason and usage, message_stop."""

    def event(name: str, body: dict[str, Any]) -> Send:
        return sse_event({"type": name, **body}, event=name, delay_s=delay_s)

    message: dict[str, Any] = {"id": "msg_1", "type": "message", "role": "assistant", "content": []}
    message["usage"] = {"input_tokens": usage[0], "output_tokens": 1}
    steps: list[Step] = [event("message_start", {"message": message}), event("ping", {})]
    index = 0
    if pieces:
        steps.append(
            event(
                "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
            )
        )
        for piece in pieces:
            delta = {"type": "text_delta", "text": piece}
            steps.append(event("content_block_delta", {"index": 0, "delta": delta}))
        steps.append(event("content_block_stop", {"index": 0}))
        index = 1
    for call in tool_calls:
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        steps.append(event("content_block_start", {"index": index, "content_block": block}))
        for part in split_text(call.arguments, call.pieces):
            delta = {"type": "input_json_delta", "partial_json": part}
            steps.append(event("content_block_delta", {"index": index, "delta": delta}))
        steps.append(event("content_block_stop", {"index": index}))
        index += 1
    reason = stop_reason or ("tool_use" if tool_calls else "end_turn")
    steps.append(
        event(
            "message_delta",
            {"delta": {"stop_reason": reason}, "usage": {"output_tokens": usage[1]}},
        )
    )
    steps.append(event("message_stop", {}))
    return steps


def provider_stream(
    kind: str,
    pieces: Sequence[str] = (),
    tool_calls: Sequence[ScriptedToolCall] = (),
    **options: Any,
) -> list[Step]:
    """The scripted reply body in ``kind``'s wire format ("openai" and "azure"
    share Chat Completions; "anthropic" uses Messages events)."""
    if kind == "anthropic":
        return anthropic_stream(pieces, tool_calls, **options)
    return openai_stream(pieces, tool_calls, **options)
