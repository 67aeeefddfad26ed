"""The per-turn latency line: end of speech → transcript → first token → first audio.

Only voice turns have a speech end to measure from. A ``Latency`` event is
published when the first token arrives and again, complete, when the first
audio plays (the window's ⏱ line and headless ``latency`` both use it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.agent import events as ev
from app.agent.turn import Turn


class LatencyMeter:
    def __init__(self, emit: Callable[[ev.Event], None]) -> None:
        self._emit = emit

    def first_token(self, turn: Turn) -> None:
        self._publish(turn)

    def first_audio(self, turn: Turn) -> None:
        """The turn's first sound: stamped once, then published."""
        if turn.first_audio_at is None:
            turn.first_audio_at = time.monotonic()
            self._publish(turn)

    def _publish(self, turn: Turn) -> None:
        if turn.speech_end_at is None:
            return
        self._emit(
            ev.Latency(
                turn_id=turn.id,
                transcript_s=_span(turn.speech_end_at, turn.transcript_at),
                first_token_s=_span(turn.speech_end_at, turn.first_token_at),
                first_audio_s=_span(turn.speech_end_at, turn.first_audio_at),
            )
        )


def _span(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 3)
