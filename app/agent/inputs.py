"""What the controller's input queue holds: a spoken utterance or a typed instruction.

Both go through one queue, handled strictly in arrival order (DESIGN.md);
a voice input carries its audio and, when hands-free listening already
started transcribing it at a pause, the transcription under way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.agent.ports import PreparedTranscriptPort


@dataclass(frozen=True)
class VoiceInput:
    audio: npt.NDArray[np.float32]
    ended_at: float  # monotonic time the speech ended
    start_s: float
    end_s: float
    utterance_id: int
    prepared: PreparedTranscriptPort | None = None  # transcription already started
    # The utterance this one goes on from (spoken right after its end of turn): ``audio``
    # holds both parts, and its turn becomes this one's if the reply was not yet heard.
    continues: int | None = None
    # Hands-free: its reply is not heard before this monotonic time (the user's speech end
    # plus the confirming silence, ``LiveOptions.speak_after_s``); None: at once.
    speak_after: float | None = None


@dataclass(frozen=True)
class TypedInput:
    text: str
