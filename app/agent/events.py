"""Events the agent controller publishes, one dataclass per kind.

They are what the window renders, what the tray shows and what headless mode
prints (``to_json()`` gives the JSON object without ``ts``/``t``, which the
printer adds). Interruption behaviour: once a turn is interrupted or
cancelled, no event with that ``turn_id`` follows except ``TurnInterrupted``
itself (and a ``TtsStopped`` for its playback).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class State(StrEnum):
    IDLE = "idle"
    LISTENING = "listening"
    TRANSCRIBING = "transcribing"
    THINKING = "thinking"
    REPLYING = "replying"


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class Ready(Event):
    """Models are loaded; input starts being read right after this event."""

    type: ClassVar[str] = "ready"
    stt_model: str = ""
    stt_engine: str = "local"  # "server": final transcripts come from a transcription server
    stt_url: str = ""  # that server's base URL
    load_warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class StateChanged(Event):
    type: ClassVar[str] = "state"
    state: State = State.IDLE


@dataclass(frozen=True)
class SpeechStarted(Event):
    type: ClassVar[str] = "speech_started"
    at_s: float = 0.0


@dataclass(frozen=True)
class SpeechEnded(Event):
    type: ClassVar[str] = "speech_ended"
    start_s: float = 0.0
    end_s: float = 0.0


@dataclass(frozen=True)
class PartialTranscript(Event):
    """The words of utterance ``utterance_id`` so far, while it is being spoken (a preview).

    A later ``Transcript`` with the same ``utterance_id`` replaces it; an empty
    ``text`` withdraws it (the utterance turned out to have no words)."""

    type: ClassVar[str] = "partial_transcript"
    utterance_id: int = 0
    text: str = ""


@dataclass(frozen=True)
class Transcript(Event):
    """An utterance with words: the echo (🎙) shown to the user."""

    type: ClassVar[str] = "transcript"
    text: str = ""
    turn_id: int = 0
    utterance_id: int = 0


@dataclass(frozen=True)
class TurnStarted(Event):
    type: ClassVar[str] = "turn_started"
    turn_id: int = 0
    text: str = ""
    source: str = "text"  # "voice" | "text"


@dataclass(frozen=True)
class FirstToken(Event):
    type: ClassVar[str] = "first_token"
    turn_id: int = 0


@dataclass(frozen=True)
class ReplyDelta(Event):
    type: ClassVar[str] = "reply_delta"
    turn_id: int = 0
    text: str = ""


@dataclass(frozen=True)
class ToolCallStarted(Event):
    type: ClassVar[str] = "tool_call"
    turn_id: int = 0
    call_id: str = ""
    name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCallFinished(Event):
    type: ClassVar[str] = "tool_result"
    turn_id: int = 0
    call_id: str = ""
    name: str = ""
    result: str = ""
    is_error: bool = False


@dataclass(frozen=True)
class TtsStarted(Event):
    type: ClassVar[str] = "tts_started"
    turn_id: int = 0


@dataclass(frozen=True)
class TtsStopped(Event):
    type: ClassVar[str] = "tts_stopped"
    turn_id: int = 0


@dataclass(frozen=True)
class TurnInterrupted(Event):
    """``by`` is the new turn's id, or "user" for Stop; ``kept_text`` is what stays in history."""

    type: ClassVar[str] = "turn_interrupted"
    turn_id: int = 0
    by: int | str = "user"
    kept_text: str = ""


@dataclass(frozen=True)
class FalseInterruption(Event):
    type: ClassVar[str] = "false_interruption"
    turn_id: int = 0
    reason: str = ""


@dataclass(frozen=True)
class TurnFinished(Event):
    type: ClassVar[str] = "turn_finished"
    turn_id: int = 0
    text: str = ""


@dataclass(frozen=True)
class TurnFailed(Event):
    type: ClassVar[str] = "turn_failed"
    turn_id: int = 0
    kind: str = ""
    message: str = ""
    partial_text: str = ""


@dataclass(frozen=True)
class Status(Event):
    """A transient line for the status bar (model loading, retrying…)."""

    type: ClassVar[str] = "status"
    text: str = ""


@dataclass(frozen=True)
class ErrorEvent(Event):
    """A problem outside any turn (microphone, speech output, model)."""

    type: ClassVar[str] = "error"
    kind: str = ""
    message: str = ""


@dataclass(frozen=True)
class InputLevel(Event):
    type: ClassVar[str] = "level"
    rms_dbfs: float = -100.0
    peak_dbfs: float = -100.0
    normalised: float = 0.0


@dataclass(frozen=True)
class Latency(Event):
    """Per-turn timings for the latency line; None where not applicable."""

    type: ClassVar[str] = "latency"
    turn_id: int = 0
    transcript_s: float | None = None
    first_token_s: float | None = None
    first_audio_s: float | None = None


@dataclass(frozen=True)
class LoopLag(Event):
    """``--loop-lag``: the event loop's worst stall (a timer's lateness) over the run."""

    type: ClassVar[str] = "loop_lag"
    worst_s: float = 0.0
    p99_s: float = 0.0
    samples: int = 0
