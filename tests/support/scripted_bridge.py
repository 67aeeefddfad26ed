"""A test double for ``app.desktop.bridge.ControllerBridge``: same signal, scripted events.

The real bridge (another engineer's) wraps the asyncio controller; the window
only sees its ``event`` signal and its command methods, so this double has
exactly those, records every command, and can play realistic event
sequences (built by ``voice_turn``/``typed_turn``/… below) either at once or
paced by a ``QTimer``. Like the real bridge it saves messages to a history
store when given one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.agent import events as ev
from providers.events import AssistantMessage, ToolCall, ToolResultMessage, UserMessage


class ScriptedBridge(QObject):
    event = Signal(object)

    def __init__(self, history: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.history = history
        self.conversation_id: int | None = None
        self._queue: list[ev.Event] = []
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._next)

    # -- the ControllerBridge interface -----------------------------------------------------

    def push_to_talk_press(self) -> None:
        self.calls.append(("push_to_talk_press", ()))

    def push_to_talk_release(self) -> None:
        self.calls.append(("push_to_talk_release", ()))

    def set_hands_free(self, on: bool) -> None:
        self.calls.append(("set_hands_free", (on,)))

    def submit_text(self, text: str) -> None:
        self.calls.append(("submit_text", (text,)))

    def stop(self) -> None:
        self.calls.append(("stop", ()))

    def new_conversation(self) -> None:
        self.calls.append(("new_conversation", ()))
        self.conversation_id = None

    def open_conversation(self, conversation_id: int) -> None:
        self.calls.append(("open_conversation", (conversation_id,)))
        self.conversation_id = conversation_id

    # -- scripting ----------------------------------------------------------------------------

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def emit_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self._save(event)
            self.event.emit(event)

    def play(self, events: Sequence[ev.Event], interval_ms: int = 15) -> None:
        """Emit the events one per timer tick (a live-looking stream)."""
        self._queue.extend(events)
        self._timer.start(interval_ms)

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    def _next(self) -> None:
        if not self._queue:
            self._timer.stop()
            return
        event = self._queue.pop(0)
        self._save(event)
        self.event.emit(event)

    def _save(self, event: ev.Event) -> None:
        """What the real bridge's conversation listener would store."""
        if self.history is None:
            return
        if isinstance(event, ev.TurnStarted):
            if self.conversation_id is None:
                self.conversation_id = self.history.create_conversation()
            self.history.add_message(
                self.conversation_id, UserMessage(event.text), voice=event.source == "voice"
            )
        elif self.conversation_id is None:
            return
        elif isinstance(event, ev.TurnFinished):
            self.history.add_message(self.conversation_id, AssistantMessage(event.text))
        elif isinstance(event, ev.TurnInterrupted):
            self.history.add_message(
                self.conversation_id,
                AssistantMessage(f"{event.kept_text} … [interrupted by the user]"),
                interrupted=True,
            )
        elif isinstance(event, ev.ToolCallFinished):
            call = ToolCall(event.call_id, event.name, "{}")
            self.history.add_message(self.conversation_id, AssistantMessage("", (call,)))
            self.history.add_message(
                self.conversation_id, ToolResultMessage(event.call_id, event.name, event.result)
            )


# -- realistic event sequences -----------------------------------------------------------------


def chunks(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def voice_turn(
    turn_id: int, said: str, reply: str, *, tts: bool = True, latency: bool = True
) -> list[ev.Event]:
    """Push-to-talk utterance → transcript echo → streamed (and spoken) reply → idle."""
    out: list[ev.Event] = [
        ev.StateChanged(state=ev.State.LISTENING),
        ev.SpeechStarted(at_s=0.0),
        *(ev.InputLevel(normalised=v) for v in (0.2, 0.6, 0.8, 0.5, 0.3)),
        ev.SpeechEnded(start_s=0.0, end_s=1.8),
        ev.StateChanged(state=ev.State.TRANSCRIBING),
        ev.Transcript(text=said, turn_id=turn_id),
        ev.TurnStarted(turn_id=turn_id, text=said, source="voice"),
        ev.StateChanged(state=ev.State.THINKING),
        ev.FirstToken(turn_id=turn_id),
    ]
    if latency:
        out.append(ev.Latency(turn_id=turn_id, transcript_s=0.41, first_token_s=0.93))
    out.append(ev.StateChanged(state=ev.State.REPLYING))
    out += [ev.ReplyDelta(turn_id=turn_id, text=c) for c in chunks(reply)]
    if tts:
        out.insert(len(out) - len(chunks(reply)) + 2, ev.TtsStarted(turn_id=turn_id))
        if latency:
            out.append(
                ev.Latency(
                    turn_id=turn_id, transcript_s=0.41, first_token_s=0.93, first_audio_s=1.37
                )
            )
    out.append(ev.TurnFinished(turn_id=turn_id, text=reply))
    if tts:
        out.append(ev.TtsStopped(turn_id=turn_id))
    out.append(ev.StateChanged(state=ev.State.IDLE))
    return out


def typed_turn(turn_id: int, text: str, reply: str) -> list[ev.Event]:
    return [
        ev.TurnStarted(turn_id=turn_id, text=text, source="text"),
        ev.StateChanged(state=ev.State.THINKING),
        ev.FirstToken(turn_id=turn_id),
        ev.StateChanged(state=ev.State.REPLYING),
        *(ev.ReplyDelta(turn_id=turn_id, text=c) for c in chunks(reply)),
        ev.TurnFinished(turn_id=turn_id, text=reply),
        ev.StateChanged(state=ev.State.IDLE),
    ]


def barge_in(turn_id: int, reply_so_far: str, heard: str, new_id: int, said: str) -> list[ev.Event]:
    """A spoken reply cut off by a new utterance: echo first, then the interrupt (rule 1)."""
    return [
        ev.TurnStarted(turn_id=turn_id, text="Tell me about the history of Lisbon", source="text"),
        ev.StateChanged(state=ev.State.THINKING),
        ev.FirstToken(turn_id=turn_id),
        ev.StateChanged(state=ev.State.REPLYING),
        ev.TtsStarted(turn_id=turn_id),
        *(ev.ReplyDelta(turn_id=turn_id, text=c) for c in chunks(reply_so_far)),
        ev.StateChanged(state=ev.State.LISTENING),
        ev.SpeechStarted(at_s=3.0),
        ev.SpeechEnded(start_s=3.0, end_s=4.1),
        ev.StateChanged(state=ev.State.TRANSCRIBING),
        ev.Transcript(text=said, turn_id=new_id),
        ev.TtsStopped(turn_id=turn_id),
        ev.TurnInterrupted(turn_id=turn_id, by=new_id, kept_text=heard),
        ev.TurnStarted(turn_id=new_id, text=said, source="voice"),
        ev.StateChanged(state=ev.State.THINKING),
    ]


def tool_turn(turn_id: int, text: str) -> list[ev.Event]:
    return [
        ev.TurnStarted(turn_id=turn_id, text=text, source="text"),
        ev.StateChanged(state=ev.State.THINKING),
        ev.ToolCallStarted(
            turn_id=turn_id,
            call_id="call_1",
            name="get_time",
            arguments={"timezone": "Europe/Lisbon"},
        ),
        ev.ToolCallFinished(
            turn_id=turn_id, call_id="call_1", name="get_time", result="2024-05-04 18:32 WEST"
        ),
        ev.FirstToken(turn_id=turn_id),
        ev.StateChanged(state=ev.State.REPLYING),
        *(ev.ReplyDelta(turn_id=turn_id, text=c) for c in chunks("It's 18:32 in Lisbon.")),
        ev.TurnFinished(turn_id=turn_id, text="It's 18:32 in Lisbon."),
        ev.StateChanged(state=ev.State.IDLE),
    ]


def failed_turn(turn_id: int, text: str) -> list[ev.Event]:
    message = "The API key for OpenAI was rejected (401). Open Settings → Provider to fix it."
    return [
        ev.TurnStarted(turn_id=turn_id, text=text, source="text"),
        ev.StateChanged(state=ev.State.THINKING),
        ev.TurnFailed(turn_id=turn_id, kind="auth", message=message),
        ev.StateChanged(state=ev.State.IDLE),
    ]
