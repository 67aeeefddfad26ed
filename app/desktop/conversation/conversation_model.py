"""What the conversation view shows, as plain data, folded from controller events.

``ConversationModel.apply(event)`` updates a list of entries (user turns,
replies with their tool calls, notices) and says what kind of change it was,
so the view can coalesce text deltas and render everything else at once.
Kept free of rendering so it can be tested (and reasoned about) on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.agent import events as ev
from providers.events import AssistantMessage, ToolResultMessage, UserMessage

SETTINGS_LINK = "harken:settings"
# Error kinds the user fixes in Settings: their notices link there.
SETTINGS_KINDS = frozenset(
    {"auth", "config", "bad_request", "not_found", "model", "microphone", "device", "settings"}
)
# How app.agent.conversation stores a cut-off reply in history; stripped for display.
_INTERRUPTED_SUFFIX = re.compile(r"\s*…?\s*\[interrupted by the user[^\]]*\]\s*$")
# What history keeps of a failed reply for the model ("… [reply failed: why]", "[no reply]"):
# the window shows the reason in its error box instead.
_FAILED_SUFFIX = re.compile(r"\s*…?\s*\[(?:reply failed: .*|no reply)\]\s*$", re.DOTALL)


@dataclass
class UserEntry:
    text: str
    voice: bool = False
    turn_id: int | None = None
    partial: bool = False  # words so far, while the user is still speaking
    utterance_id: int | None = None


@dataclass
class ToolPart:
    call_id: str
    name: str
    arguments: dict[str, Any]
    result: str | None = None
    is_error: bool = False


@dataclass
class ReplyEntry:
    turn_id: int | None
    parts: list[str | ToolPart] = field(default_factory=list)
    status: str = "streaming"  # streaming | done | interrupted | failed
    kept_chars: int | None = None  # interrupted: how much of the text the user got
    error: str | None = None
    error_kind: str = ""
    latency: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def active(self) -> bool:
        return self.status == "streaming"

    def add_text(self, text: str) -> None:
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    def tool(self, call_id: str) -> ToolPart | None:
        for part in self.parts:
            if isinstance(part, ToolPart) and part.call_id == call_id:
                return part
        return None


@dataclass
class NoticeEntry:
    text: str
    kind: str = "error"  # error | info
    link: tuple[str, str] | None = None  # (label, "harken:…" href)


Entry = UserEntry | ReplyEntry | NoticeEntry


class Change(Enum):
    DELTA = "delta"  # reply text grew: coalesce
    UPDATE = "update"  # render now
    LATENCY = "latency"  # only the latency line changed
    REBUILD = "rebuild"  # an entry was removed: render everything again


class ConversationModel:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._replies: dict[int, ReplyEntry] = {}
        self._echoed: set[int] = set()
        self._partials: dict[int, UserEntry] = {}  # by utterance id
        # The last echoed utterance: a continuation grows this very 🎙 message. (id, entry,
        # its echoed text while a continuation's preview is shown in it)
        self._last_final: tuple[int, UserEntry, str] | None = None

    def clear(self) -> None:
        self.entries.clear()
        self._replies.clear()
        self._echoed.clear()
        self._partials.clear()
        self._last_final = None

    def partial(self, utterance_id: int) -> UserEntry | None:
        """The entry a preview of this utterance shows in (a continuation: its 🎙 message)."""
        last = self._last_final
        if last is not None and last[0] == utterance_id and utterance_id != 0:  # 0: unknown
            return last[1]
        return self._partials.get(utterance_id)

    def reply(self, turn_id: int) -> ReplyEntry | None:
        return self._replies.get(turn_id)

    def apply(self, event: object) -> Change | None:
        if isinstance(event, ev.PartialTranscript):
            return self._partial(event)
        if isinstance(event, ev.Transcript):
            self._echoed.add(event.turn_id)
            final = UserEntry(event.text, voice=True, turn_id=event.turn_id)
            partial = self._partials.pop(event.utterance_id, None) or self.partial(
                event.utterance_id
            )
            if partial is not None and partial in self.entries:
                self.entries[self.entries.index(partial)] = final  # the final takes its place
            else:
                self.entries.append(final)
            self._last_final = (event.utterance_id, final, final.text)
            return Change.UPDATE
        if isinstance(event, ev.TurnStarted):
            if event.turn_id not in self._echoed:
                voice = event.source == "voice"
                self.entries.append(UserEntry(event.text, voice=voice, turn_id=event.turn_id))
            self._reply(event.turn_id)
            return Change.UPDATE
        if isinstance(event, ev.ReplyDelta):
            if not event.text:
                return None
            self._reply(event.turn_id).add_text(event.text)
            return Change.DELTA
        if isinstance(event, ev.ToolCallStarted):
            reply = self._reply(event.turn_id)
            reply.parts.append(ToolPart(event.call_id, event.name, dict(event.arguments)))
            return Change.UPDATE
        if isinstance(event, ev.ToolCallFinished):
            reply = self._reply(event.turn_id)
            part = reply.tool(event.call_id)
            if part is None:
                part = ToolPart(event.call_id, event.name, {})
                reply.parts.append(part)
            part.result, part.is_error = event.result, event.is_error
            return Change.UPDATE
        if isinstance(event, ev.TurnFinished):
            reply = self._reply(event.turn_id)
            if not reply.text and event.text:
                reply.add_text(event.text)  # a reply that arrived without deltas
            reply.status = "done"
            return Change.UPDATE
        if isinstance(event, ev.TurnInterrupted) and event.by == "continuation":
            merged = self._replies.pop(event.turn_id, None)  # the next turn says it all
            if merged is not None and merged in self.entries:
                self.entries.remove(merged)
            return Change.REBUILD
        if isinstance(event, ev.TurnInterrupted):
            reply = self._reply(event.turn_id)
            reply.status = "interrupted"
            kept = event.kept_text
            reply.kept_chars = len(kept) if reply.text.startswith(kept) else len(reply.text)
            return Change.UPDATE
        if isinstance(event, ev.TurnFailed):
            reply = self._reply(event.turn_id)
            reply.status, reply.error, reply.error_kind = "failed", event.message, event.kind
            return Change.UPDATE
        if isinstance(event, ev.Latency):
            reply = self._reply(event.turn_id)
            for name in ("transcript_s", "first_token_s", "first_audio_s"):
                value = getattr(event, name)
                if value is not None:
                    reply.latency[name] = value
            return Change.LATENCY
        if isinstance(event, ev.ErrorEvent):
            link = ("Open Settings", SETTINGS_LINK) if event.kind in SETTINGS_KINDS else None
            self.entries.append(NoticeEntry(event.message, "error", link))
            return Change.UPDATE
        return None

    def _partial(self, event: ev.PartialTranscript) -> Change | None:
        last = self._last_final
        if last is not None and last[0] == event.utterance_id:  # a continuation's preview
            utterance_id, entry, echoed = last
            entry.text, entry.partial = (event.text, True) if event.text else (echoed, False)
            return Change.UPDATE
        entry = self._partials.get(event.utterance_id)
        if not event.text:  # withdrawn: the utterance had no words
            if entry is None:
                return None
            del self._partials[event.utterance_id]
            if entry in self.entries:
                self.entries.remove(entry)
            return Change.UPDATE
        if entry is None:
            entry = UserEntry(event.text, voice=True, partial=True, utterance_id=event.utterance_id)
            self._partials[event.utterance_id] = entry
            self.entries.append(entry)
        else:
            entry.text = event.text
        return Change.UPDATE

    def _reply(self, turn_id: int) -> ReplyEntry:
        reply = self._replies.get(turn_id)
        if reply is None:
            reply = ReplyEntry(turn_id)
            self._replies[turn_id] = reply
            self.entries.append(reply)
        return reply

    def load(self, stored: Iterable[Any]) -> None:
        """Rebuild from history rows (``app.runtime.history_store.StoredMessage``)."""
        self.clear()
        for row in stored:
            message = row.message
            last = self.entries[-1] if self.entries else None
            if isinstance(message, UserMessage):
                self.entries.append(UserEntry(message.text, voice=row.voice))
                continue
            reply = last if isinstance(last, ReplyEntry) else None
            if reply is None:
                reply = ReplyEntry(None, status="done")
                self.entries.append(reply)
            if isinstance(message, AssistantMessage):
                text = message.text
                if row.interrupted:
                    text = _INTERRUPTED_SUFFIX.sub("", text)
                    reply.status = "interrupted"
                elif row.failed:
                    reply.status, reply.error = "failed", _failure(text)
                    text = _FAILED_SUFFIX.sub("", text)
                if text:
                    reply.add_text(text)
                if row.interrupted:
                    reply.kept_chars = len(reply.text)
                for call in message.tool_calls:
                    try:
                        args = call.arguments()
                    except ValueError:
                        args = {"arguments": call.arguments_json}
                    reply.parts.append(ToolPart(call.id, call.name, args))
            elif isinstance(message, ToolResultMessage):
                part = reply.tool(message.tool_call_id)
                if part is None:
                    part = ToolPart(message.tool_call_id, message.name, {})
                    reply.parts.append(part)
                part.result, part.is_error = message.content, message.is_error


def tool_line(part: ToolPart, max_chars: int = 120) -> str:
    """``name(arg=value, …) → result`` on one line (the view draws a tool icon before it)."""
    args = ", ".join(
        f"{k}={_short(json.dumps(v, ensure_ascii=False), 40)}" for k, v in part.arguments.items()
    )
    line = f"{part.name}({args})"
    if part.result is None:
        return line + " …"
    result = " ".join(part.result.split())
    arrow = " ⚠ " if part.is_error else " → "
    return line + arrow + _short(result, max(20, max_chars - len(line)))


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _failure(text: str) -> str:
    """The reason a stored failed reply gives (``[reply failed: why]``), or a generic one."""
    match = re.search(r"\[reply failed: (.*)\]\s*$", text, re.DOTALL)
    return match.group(1) if match else "This reply did not finish."
