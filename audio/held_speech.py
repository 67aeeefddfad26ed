"""Push-to-talk transcribed while the key is held, so key-up finds the words ready.

Without this, Whisper starts only at key-up and the user waits for a whole
pass over the utterance (~0.3-0.6 s for 3 s of speech on two cores). While
the key is down, ``HeldSpeech`` runs the voice detector over the held audio
and drives the same ``SpeculativeTranscriber`` as hands-free mode: a pass at
every pause (over everything held so far, pre-roll included) and live
previews while speech goes on. At key-up, if the user had stopped talking
(a pause still pending), that pause's pass *is* the final transcript: same
audio up to the pause, and only silence after it. Otherwise (still talking at
key-up, or no speech detected at all) a full pass runs over the whole
recording, exactly as before. The key, not the detector, decides what is
recorded: the detector only decides when to start Whisper early.

Plain asyncio on the caller's loop; the decoding runs on the transcriber's
worker thread. The controller still transcribes first (awaits the prepared
transcript), then echoes, then interrupts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .capture import SAMPLE_RATE_HZ
from .prepared_transcript import PreparedTranscript
from .segmenter import (
    SpeechEnded,
    SpeechPaused,
    SpeechProgress,
    SpeechResumed,
    SpeechSegmenter,
    SpeechStarted,
    VoiceDetector,
)
from .server_stt import ServerFinal
from .speculative import DecodeWorker, SpeculativeTranscriber

NEVER_S = 3600.0  # the key ends a held utterance, never a silence


class HeldSpeech:
    """``press`` → ``feed`` every block while held → ``release`` for the prepared transcript."""

    def __init__(
        self,
        worker: DecodeWorker,
        vad: VoiceDetector,
        *,
        on_partial: Callable[[int, str], None] | None = None,
    ) -> None:
        self._segmenter = SpeechSegmenter(
            vad, hangover_s=NEVER_S, max_utterance_s=None, live_events=True
        )
        self.speculative = SpeculativeTranscriber(worker, on_partial=on_partial)
        self._blocks: list[npt.NDArray[np.float32]] = []
        self._preroll = 0  # samples of pre-roll in front of the segmenter's stream time 0
        self._utterance: int | None = None
        self.enabled = True

    @property
    def utterance_id(self) -> int | None:
        return self._utterance

    def press(self, utterance_id: int, preroll: npt.NDArray[np.float32]) -> None:
        """The key went down; ``preroll`` is the audio the recorder kept from before."""
        self._segmenter.reset(at_s=0.0)
        self.speculative.close()
        self._blocks = [np.asarray(preroll, dtype=np.float32).reshape(-1)]
        self._preroll = len(self._blocks[0])
        self._utterance = utterance_id

    def feed(self, block: npt.NDArray[np.float32]) -> None:
        if self._utterance is None:
            return
        self._blocks.append(np.asarray(block, dtype=np.float32).reshape(-1))
        if not self.enabled:
            return
        for event in self._segmenter.feed(block):
            if isinstance(event, SpeechStarted):
                self.speculative.started(self._utterance)
            elif isinstance(event, SpeechPaused):
                audio = self._audio_until(event.end_s)
                self.speculative.paused(SpeechPaused(audio, 0.0, event.end_s))
            elif isinstance(event, SpeechResumed):
                self.speculative.resumed()
            elif isinstance(event, SpeechProgress):
                audio = self._audio_until(event.at_s)
                self.speculative.progress(SpeechProgress(audio, 0.0, event.at_s))

    def release(self, audio: npt.NDArray[np.float32]) -> PreparedTranscript | ServerFinal:
        """The key went up: the transcript of ``audio`` (the recorder's whole recording),
        reusing the pass of a pause that lasted until now."""
        seg = self._segmenter
        end_s = seg.pause_end_s if seg.pause_pending else None
        if end_s is None:
            end_s = (sum(len(b) for b in self._blocks) - self._preroll) / SAMPLE_RATE_HZ
        prepared = self.speculative.ended(SpeechEnded(audio, 0.0, end_s))
        self.cancel()
        return prepared

    def cancel(self) -> None:
        """Forget the held utterance (passes still running for it are cancelled)."""
        self._utterance = None
        self._blocks = []
        self._segmenter.reset(at_s=0.0)
        self.speculative.discarded()

    def close(self) -> None:
        self.cancel()
        self.speculative.close()

    def _audio_until(self, at_s: float) -> npt.NDArray[np.float32]:
        if len(self._blocks) > 1:
            self._blocks = [np.concatenate(self._blocks).astype(np.float32, copy=False)]
        end = self._preroll + round(at_s * SAMPLE_RATE_HZ)
        return self._blocks[0][:end].copy()
