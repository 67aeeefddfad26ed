"""The conversation in memory: exactly what is sent to the model next time.

Listeners are told of every message as it is added (the history store saves
it at once), with the flags the window and the store need.

It keeps user/assistant alternation, which Anthropic and strict chat templates
require: a turn's user message is recorded when the turn starts (so a turn
interrupted before it ever ran still has it), and a user message that follows
another one with no reply between them (a turn that ended without any) gets a
marked empty reply first, :data:`NO_REPLY`.

A turn the user went on speaking into (a continuation) is retracted: it leaves the
history as if it never ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from providers.events import AssistantMessage, Message, ToolCall, ToolResultMessage, UserMessage

INTERRUPTED_MARKER = "[interrupted by the user]"
NOTHING_HEARD = "[interrupted by the user before any of this reply was heard]"
TOOL_CANCELLED = "Cancelled: the user interrupted before this tool finished."
NO_REPLY = "[no reply]"


@dataclass(frozen=True)
class MessageMeta:
    voice: bool = False
    interrupted: bool = False
    failed: bool = False


Listener = Callable[[Message, MessageMeta], None]
RetractListener = Callable[[int], None]  # how many of the newest messages were removed


def interrupted_text(kept: str) -> str:
    """What history keeps of a reply cut off after ``kept`` was shown/heard."""
    kept = kept.rstrip()
    return f"{kept} … {INTERRUPTED_MARKER}" if kept else NOTHING_HEARD


class Conversation:
    def __init__(self, messages: Iterable[Message] = ()) -> None:
        self._messages: list[Message] = list(messages)
        self._listeners: list[Listener] = []
        self._retract_listeners: list[RetractListener] = []

    @property
    def messages(self) -> list[Message]:
        return list(self._messages)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_retract_listener(self, listener: RetractListener) -> None:
        self._retract_listeners.append(listener)

    def __len__(self) -> int:
        return len(self._messages)

    def retract(self, start: int) -> None:
        """Remove every message from index ``start`` on (a turn that is being merged)."""
        removed = len(self._messages) - start
        if removed <= 0:
            return
        del self._messages[start:]
        for listener in self._retract_listeners:
            listener(removed)

    def replace(self, messages: Iterable[Message]) -> None:
        """Switch to another conversation (e.g. one reopened from history)."""
        self._messages = list(messages)

    def _add(self, message: Message, meta: MessageMeta) -> None:
        self._messages.append(message)
        for listener in self._listeners:
            listener(message, meta)

    def add_user(self, text: str, *, voice: bool = False) -> None:
        if self._messages and isinstance(self._messages[-1], UserMessage):
            self._add(AssistantMessage(NO_REPLY), MessageMeta(failed=True))
        self._add(UserMessage(text), MessageMeta(voice=voice))

    def add_assistant(
        self, text: str, tool_calls: tuple[ToolCall, ...] = (), *, failed: bool = False
    ) -> None:
        self._add(AssistantMessage(text, tool_calls), MessageMeta(failed=failed))

    def add_interrupted(self, kept: str) -> None:
        self._add(AssistantMessage(interrupted_text(kept)), MessageMeta(interrupted=True))

    def add_tool_result(self, call: ToolCall, content: str, *, is_error: bool = False) -> None:
        self._add(ToolResultMessage(call.id, call.name, content, is_error), MessageMeta())
