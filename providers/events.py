"""What a provider stream yields, and the messages a request carries.

Events, and how they behave on interruption: once the request's token is
cancelled a stream yields nothing more (it raises ``StreamCancelled``), so a
consumer never sees a ``TextDelta``, ``ToolCall``, ``Retrying`` or ``Done``
that belongs to a cancelled request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of reply text, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call, assembled from the provider's deltas."""

    id: str
    name: str
    arguments_json: str = "{}"

    def arguments(self) -> dict[str, Any]:
        """The parsed arguments; ``{}`` for an empty string. Raises ValueError on bad JSON."""
        if not self.arguments_json.strip():
            return {}
        value = json.loads(self.arguments_json)
        if not isinstance(value, dict):
            raise ValueError("tool arguments are not a JSON object")
        return value


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """The stream ended normally. ``finish_reason`` is normalised to
    ``stop`` | ``length`` | ``tool_calls`` | ``content_filter`` | other text."""

    finish_reason: str = "stop"
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Retrying:
    """A status for the UI: a genuine failure is being retried after a delay."""

    attempt: int
    max_attempts: int
    delay_s: float
    reason: str


StreamEvent = TextDelta | ToolCall | Done | Retrying


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True, slots=True)
class UserMessage:
    text: str


@dataclass(frozen=True, slots=True)
class AssistantMessage:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolResultMessage:
    tool_call_id: str
    name: str
    content: str
    is_error: bool = False


Message = UserMessage | AssistantMessage | ToolResultMessage


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: Sequence[Message]
    system: str | None = None
    tools: Sequence[ToolSpec] = ()
    max_tokens: int | None = None
    temperature: float | None = None
