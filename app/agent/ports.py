"""What the controller needs from speech-to-text and speech output.

The audio package provides the real implementations (``WhisperTranscriber``,
``RemoteTranscriber``, ``SpeechOutput``); the controller depends only on
these shapes, so tests and headless mode compose the same controller.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from providers.cancel import CancelToken


class TranscriptionLike(Protocol):
    @property
    def text(self) -> str: ...


class TranscriberPort(Protocol):
    async def transcribe(
        self, audio: npt.NDArray[np.float32], cancel: CancelToken | None = None
    ) -> TranscriptionLike: ...


class PreparedTranscriptPort(Protocol):
    """A transcription already under way (``audio.speculative.PreparedTranscript``)."""

    async def result(self, cancel: CancelToken | None = None) -> TranscriptionLike: ...


class SpeechPort(Protocol):
    """Speech output for one reply at a time (see ``audio.SpeechOutput``)."""

    @property
    def enabled(self) -> bool: ...

    @property
    def speaking(self) -> bool: ...

    @property
    def heard_text(self) -> str: ...

    @property
    def played_s(self) -> float:
        """Seconds of the current reply's audio played so far (pauses excluded)."""
        ...

    def begin(self, turn_id: int) -> None: ...

    def feed(self, delta: str) -> None: ...

    def finish(self) -> None: ...

    def pause(self) -> None: ...

    def duck(self) -> None:
        """Turn down now, pause if the user goes on talking; ``resume()`` undoes it."""
        ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...

    def recent_spoken_text(self, window_s: float = 15.0) -> str: ...

    async def wait_done(self) -> None: ...
