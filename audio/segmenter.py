"""Cuts a live 16 kHz stream into utterances with the voice activity detector.

Hands-free listening hinges on two moments: the onset, when the controller
pauses the assistant's voice at once, and the end, when the utterance goes to
Whisper. ``SpeechSegmenter.feed`` runs on the event loop for every 32 ms block
and returns the events those blocks caused:

- ``SpeechStarted(at_s)`` as soon as ``onset_frames`` consecutive frames score
  at least ``threshold`` (a lone click scores one frame and starts nothing);
  ``at_s`` is the start of the first of those frames.
- ``SpeechEnded(audio, start_s, end_s)`` once ``hangover_s`` of silence (frames
  under the lower ``off_threshold``; a frame back above ``threshold`` cancels
  the pending end) has followed speech lasting at least ``min_speech_s``.
  ``end_s`` is where speech stopped; ``audio`` runs from ``preroll_s`` before
  the onset to the moment of emission, silence included.
- ``SpeechDiscarded(at_s, start_s, end_s)`` instead of ``SpeechEnded`` when the
  sound was shorter than ``min_speech_s`` (a cough, a breath, a door): the
  controller resumes whatever it paused at ``SpeechStarted``.

Every ``SpeechStarted`` is followed by exactly one ``SpeechEnded`` or
``SpeechDiscarded``, unless ``reset()`` drops the open utterance. Times are
stream times: seconds of audio fed since construction (or the ``at_s`` given
to ``reset``).

With ``live_events=True`` the segmenter also reports what happens *inside* an
utterance, so transcription can start before the hangover is over:

- ``SpeechPaused(audio, start_s, end_s)`` on the first silent frame after
  speech: the utterance may be over, ``audio`` is everything up to here.
- ``SpeechResumed(at_s)`` when speech comes back before the hangover ran out:
  whatever was started at the pause is stale.
- ``SpeechProgress(audio, start_s, at_s)`` after every ``progress_interval_s``
  of ongoing speech (the first after ``first_progress_s``), for live partials.

A pause that ends the utterance is followed by ``SpeechEnded`` whose
``end_s`` equals the pause's ``end_s``; a resume in between changes it.
The hangover of the current pause can be changed while it runs
(``set_pause_hangover``, e.g. from the words heard so far); when the new
hangover has already passed, the next block fed ends the utterance. Events
come only out of ``feed``/``flush``: one entry point for every end.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .capture import SAMPLE_RATE_HZ, BlockChunker
from .vad import FRAME_SAMPLES


class VoiceDetector(Protocol):
    """What the segmenter needs from a VAD (``SileroVad`` is the one we ship)."""

    def speech_prob(self, frame: npt.NDArray[np.float32]) -> float: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began at stream time ``at_s``; an end or a discard will follow."""

    at_s: float


@dataclass(frozen=True, eq=False)
class SpeechEnded:
    """A complete utterance: transcribe ``audio`` (16 kHz mono float32)."""

    audio: npt.NDArray[np.float32] = field(repr=False)
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, eq=False)
class SpeechPaused:
    """First silent frame after speech: ``audio`` (pre-roll to here) may be the whole utterance."""

    audio: npt.NDArray[np.float32] = field(repr=False)
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SpeechResumed:
    """Speech came back at ``at_s`` before the pause became an end: the pause was not one."""

    at_s: float


@dataclass(frozen=True, eq=False)
class SpeechProgress:
    """Speech goes on; ``audio`` is the utterance so far (pre-roll to ``at_s``)."""

    audio: npt.NDArray[np.float32] = field(repr=False)
    start_s: float
    at_s: float


@dataclass(frozen=True)
class SpeechDiscarded:
    """The sound that raised ``SpeechStarted`` was too short to be speech."""

    at_s: float
    start_s: float
    end_s: float


SegmentEvent = (
    SpeechStarted | SpeechEnded | SpeechDiscarded | SpeechPaused | SpeechResumed | SpeechProgress
)


class SpeechSegmenter:
    _pause_hangover: float | None

    def __init__(
        self,
        vad: VoiceDetector,
        *,
        threshold: float = 0.5,
        off_threshold: float | None = None,
        hangover_s: float = 0.5,
        min_speech_s: float = 0.25,
        preroll_s: float = 0.3,
        onset_frames: int = 2,
        max_utterance_s: float | None = 60.0,
        live_events: bool = False,
        first_progress_s: float = 0.8,
        progress_interval_s: float = 1.0,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.vad = vad
        self.threshold = threshold
        self.off_threshold = (
            off_threshold if off_threshold is not None else max(0.01, threshold - 0.15)
        )
        if not 0.0 < self.off_threshold <= threshold:
            raise ValueError("off_threshold must be between 0 and threshold")
        self.hangover_s = hangover_s
        self.min_speech_s = min_speech_s
        self.preroll_s = preroll_s
        self.onset_frames = max(1, onset_frames)
        self.max_utterance_s = max_utterance_s
        self.live_events = live_events
        self.first_progress_s = first_progress_s
        self.progress_interval_s = progress_interval_s
        history_frames = math.ceil(preroll_s * SAMPLE_RATE_HZ / FRAME_SAMPLES) + self.onset_frames
        self._history: deque[tuple[int, npt.NDArray[np.float32]]] = deque(maxlen=history_frames)
        self._chunker = BlockChunker(FRAME_SAMPLES)
        self._clock = 0  # stream time of the next frame, in samples
        self.last_prob = 0.0
        self._clear()

    @property
    def hangover_s(self) -> float:
        """Silence that must follow speech before it ends; may change at any time."""
        return self._hangover_s

    @hangover_s.setter
    def hangover_s(self, value: float) -> None:
        if value < 0:
            raise ValueError("hangover_s cannot be negative")
        self._hangover_s = value

    @property
    def effective_hangover_s(self) -> float:
        """The hangover the pending pause must reach: the pause's own, else ``hangover_s``."""
        return self._pause_hangover if self._pause_hangover is not None else self._hangover_s

    def set_pause_hangover(self, value: float | None) -> None:
        """Hangover for the current pause only (None: back to ``hangover_s``).

        Ignored when no pause is pending; a resume or an end clears it."""
        if value is not None and value < 0:
            raise ValueError("a hangover cannot be negative")
        if self._end is not None:
            self._pause_hangover = value

    @property
    def pause_end_s(self) -> float | None:
        """Where the pending pause began (the ``end_s`` of its ``SpeechPaused``), or None."""
        return None if self._end is None or self._onset is None else self._end / SAMPLE_RATE_HZ

    @property
    def pause_pending(self) -> bool:
        """True while a pause runs that may still become the end."""
        return self._onset is not None and self._end is not None

    def _pause_due(self) -> bool:
        assert self._end is not None
        return self._clock - self._end >= self.effective_hangover_s * SAMPLE_RATE_HZ - 0.5

    @property
    def in_speech(self) -> bool:
        """True between ``SpeechStarted`` and its end/discard."""
        return self._onset is not None

    def _clear(self) -> None:
        self._run = 0  # consecutive frames >= threshold while idle
        self._run_start = 0
        self._onset: int | None = None  # sample where the open utterance's speech began
        self._end: int | None = None  # sample where speech (provisionally) stopped
        self._audio: list[npt.NDArray[np.float32]] = []
        self._pause_hangover = None
        self._next_progress: int | None = None  # stream sample of the next SpeechProgress

    def reset(self, at_s: float | None = None) -> None:
        """Forget the stream: VAD state, pre-roll, any open utterance (without an event).

        ``at_s``: stream time of the next block (default: keep counting).
        """
        self.vad.reset()
        self._history.clear()
        self._chunker = BlockChunker(FRAME_SAMPLES)
        if at_s is not None:
            self._clock = round(at_s * SAMPLE_RATE_HZ)
        self.last_prob = 0.0
        self._clear()

    def feed(self, block: npt.NDArray[np.float32]) -> list[SegmentEvent]:
        """Process the next block of the stream (any length; 512 samples is the cheap path)."""
        if len(block) == FRAME_SAMPLES and not self._chunker.pending_samples:
            frames = [np.array(block, dtype=np.float32)]  # kept for pre-roll: own a copy
        else:
            frames = self._chunker.push(block)
        events: list[SegmentEvent] = []
        for frame in frames:
            self._frame(frame, events)
        return events

    def flush(self) -> list[SegmentEvent]:
        """End of input: close the open utterance (ended or discarded)."""
        events: list[SegmentEvent] = []
        pending = self._chunker.pending_samples
        tail = self._chunker.flush()
        if tail is not None:
            if self._onset is not None:
                self._audio.append(tail[:pending])
            self._clock += pending
        if self._onset is not None:
            self._finish(self._end if self._end is not None else self._clock, events)
        self._run = 0
        return events

    def _frame(self, frame: npt.NDArray[np.float32], events: list[SegmentEvent]) -> None:
        start = self._clock
        self._clock += FRAME_SAMPLES
        self._history.append((start, frame))
        prob = self.vad.speech_prob(frame)
        self.last_prob = prob
        if self._onset is None:
            if prob >= self.threshold:
                if self._run == 0:
                    self._run_start = start
                self._run += 1
                if self._run >= self.onset_frames:
                    self._begin(events)
            else:
                self._run = 0
            return
        self._audio.append(frame)
        if prob >= self.threshold:
            if self._end is not None and self.live_events:
                events.append(SpeechResumed(at_s=start / SAMPLE_RATE_HZ))
            self._end = None
            self._pause_hangover = None
        elif prob < self.off_threshold and self._end is None:
            self._end = start
            if self.live_events:
                events.append(
                    SpeechPaused(
                        audio=self._joined(),
                        start_s=self._onset / SAMPLE_RATE_HZ,
                        end_s=start / SAMPLE_RATE_HZ,
                    )
                )
        if self._end is None and self.live_events and self._next_progress is not None:
            if self._clock >= self._next_progress:
                self._next_progress = self._clock + round(self.progress_interval_s * SAMPLE_RATE_HZ)
                events.append(
                    SpeechProgress(
                        audio=self._joined(),
                        start_s=self._onset / SAMPLE_RATE_HZ,
                        at_s=self._clock / SAMPLE_RATE_HZ,
                    )
                )
        if self._end is not None and self._pause_due():
            self._finish(self._end, events)
        elif (
            self.max_utterance_s is not None
            and self._clock - self._onset >= self.max_utterance_s * SAMPLE_RATE_HZ
        ):
            self._finish(self._end if self._end is not None else self._clock, events)

    def _begin(self, events: list[SegmentEvent]) -> None:
        onset = self._run_start
        first = self._history[0][0]
        audio = np.concatenate([f for _, f in self._history])
        from_sample = max(first, onset - round(self.preroll_s * SAMPLE_RATE_HZ))
        self._audio = [audio[from_sample - first :]]
        self._onset = onset
        self._end = None
        self._run = 0
        self._next_progress = onset + round(self.first_progress_s * SAMPLE_RATE_HZ)
        events.append(SpeechStarted(at_s=onset / SAMPLE_RATE_HZ))

    def _joined(self) -> npt.NDArray[np.float32]:
        """The open utterance's audio so far, as one array (kept joined to stay cheap)."""
        if len(self._audio) > 1:
            self._audio = [np.concatenate(self._audio).astype(np.float32, copy=False)]
        return self._audio[0].copy()

    def _finish(self, end: int, events: list[SegmentEvent]) -> None:
        assert self._onset is not None
        start_s, end_s = self._onset / SAMPLE_RATE_HZ, end / SAMPLE_RATE_HZ
        if end_s - start_s < self.min_speech_s:
            events.append(
                SpeechDiscarded(at_s=self._clock / SAMPLE_RATE_HZ, start_s=start_s, end_s=end_s)
            )
        else:
            audio = np.concatenate(self._audio).astype(np.float32, copy=False)
            events.append(SpeechEnded(audio=audio, start_s=start_s, end_s=end_s))
        self._clear()
