"""The controller's side of ``LiveTranscription``, recording what it is handed.

Transcription tests drive the real ``LiveTranscription`` (its dispatch of the
segmenter's events, its utterance numbering, its partial-transcript events)
without the agent behind it: ``RecordingController`` numbers utterances like
``AgentController.next_utterance_id`` and keeps every utterance handed over,
with the ``PreparedTranscript`` whose result is the final text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, eq=False)
class HandedOver:
    """One ``utterance(...)`` call: the audio, its span, its id, the prepared transcript,
    when its reply may be heard and when it was handed over (both monotonic)."""

    audio: npt.NDArray[np.float32]
    start_s: float
    end_s: float
    utterance_id: int | None
    prepared: Any
    speak_after: float | None = None
    handed_at: float = 0.0


@dataclass
class RecordingController:
    onsets_s: list[float] = field(default_factory=list)
    utterances: list[HandedOver] = field(default_factory=list)
    discarded: int = 0
    early: list[tuple[int, str]] = field(default_factory=list)  # early requests asked for
    dropped: list[str] = field(default_factory=list)  # why early requests were dropped
    _next: int = 1

    def next_utterance_id(self) -> int:
        utterance_id, self._next = self._next, self._next + 1
        return utterance_id

    def speech_started(self, at_s: float = 0.0, *, certain: bool = False) -> None:
        self.onsets_s.append(at_s)

    def utterance(
        self,
        audio: npt.NDArray[np.float32],
        *,
        start_s: float = 0.0,
        end_s: float = 0.0,
        utterance_id: int | None = None,
        prepared: Any = None,
        continues: int | None = None,
        speak_after: float | None = None,
    ) -> None:
        handed = HandedOver(
            audio, start_s, end_s, utterance_id, prepared, speak_after, time.monotonic()
        )
        self.utterances.append(handed)

    def speech_discarded(self) -> None:
        self.discarded += 1

    def early_request(self, utterance_id: int, text: str) -> bool:
        self.early.append((utterance_id, text))
        return True

    def may_request_early(self) -> bool:
        return True

    def drop_early_request(self, reason: str) -> None:
        self.dropped.append(reason)
