"""Transcribe while the user is still talking, on the one Whisper worker thread.

Waiting for the silence hangover and only then starting Whisper makes the
user wait hangover + decode. ``SpeculativeTranscriber`` follows the
segmenter's live events instead:

- ``paused``: the first silent frame may be the end, so the utterance so far
  is transcribed at once (a *speculative* pass). If the hangover then runs
  out with no new speech, the ``SpeechEnded`` has the same utterance and
  exactly the same ``end_s``, and that result *is* the final transcript —
  usually ready before the hangover is over. Any other end (speech resumed,
  pushed on by ``max_utterance_s``) gets a fresh final pass.
- ``resumed``: the pause was not the end; its pass is cancelled (skipped if
  the worker has not reached it, stopped at the next segment otherwise).
- ``progress``: every second or so of ongoing speech, a *partial* pass over
  the last ``partial_window_s`` of audio gives a live preview.
- with ``on_quick`` set, a pause first gets a *quick* pass over the same
  audio with a short encoder window (``audio.short_context``; ~0.15 s instead
  of ~0.45 s for a short command): its words may start an early request
  (``app.agent.early_request``). The full pass that follows is the
  transcript, unless the quick pass read other words with more confidence
  (``audio.surer_reading``): then the quick reading is the pause's result, and
  the early request is already asking for it.

The worker never falls behind real time: a partial pass is only queued when
the worker is idle, and it is skipped if the worker cannot start it within
``partial_slack_s``; speculative passes that went stale are skipped before
they start. A final pass is never skipped. Plain asyncio on the caller's
loop; the decoding itself runs in the transcriber's worker thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from providers.cancel import CancelToken

from .hallucination import SAMPLE_RATE_HZ, CleanText, is_near_silent
from .prepared_transcript import Pass, PreparedTranscript
from .segmenter import SpeechEnded, SpeechPaused, SpeechProgress
from .server_stt import ServerFinal
from .short_context import MIN_FRAMES
from .surer_reading import surer_of
from .transcriber import Transcriber, as_mono_float32

log = logging.getLogger(__name__)

PARTIAL_WINDOW_S = 6.0
# Silence added after audio cut at a pause: Whisper misreads the last word of audio that
# stops right where speech does ("America" for "Americans"), as the final pass, which has
# the hangover's silence behind it, does not.
TAIL_PAD_S = 0.5
ONE_WINDOW_S = 29.0  # audio Whisper decodes in a single window (so one segment)
# A quick pass encodes at least QUICK_MIN_FRAMES (7 s): on 25 short commands its words
# matched the full pass's in 17 (10 s: 16, 5 s: 15) at 0.82x the time of a 10 s window.
# Past QUICK_MAX_S of audio it saves too little.
QUICK_MIN_FRAMES = 700
QUICK_MAX_S = 9.0
PARTIAL_SLACK_S = 0.15


class DecodeWorker(Protocol):
    """What this needs from ``WhisperTranscriber``: queue a pass on its single worker."""

    def submit(
        self,
        samples: npt.NDArray[np.float32],
        job: CancelToken,
        *,
        not_after: float | None = None,
        short_context: int | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> concurrent.futures.Future[CleanText]: ...


@dataclass(eq=False)
class _Pass:
    kind: str  # "partial" | "quick" | "speculative" | "final"
    utterance_id: int
    end_s: float
    duration_s: float
    token: CancelToken
    future: asyncio.Future[CleanText]
    submitted_at: float = field(default_factory=time.monotonic)
    started: bool = False  # set from the worker thread when decoding begins

    def mark_started(self) -> None:
        self.started = True


@dataclass
class SpeculationStats:
    """Counts for tests and benchmarks."""

    partial_passes: int = 0
    partials_skipped: int = 0
    speculative_passes: int = 0
    speculative_reused: int = 0
    speculative_rechecked: int = 0  # reused, found no words, so a full pass checked it
    speculative_discarded: int = 0
    quick_passes: int = 0
    quick_chosen: int = 0  # pauses whose quick reading was surer than the full pass's
    final_passes: int = 0


class SpeculativeTranscriber:
    """Runs partial, speculative and final passes for the utterance being spoken."""

    def __init__(
        self,
        worker: DecodeWorker,
        *,
        on_partial: Callable[[int, str], None] | None = None,
        on_speculative: Callable[[int, float, str], None] | None = None,
        on_quick: Callable[[int, float, str], None] | None = None,
        speculate: bool = True,
        partials: bool = True,
        partial_window_s: float = PARTIAL_WINDOW_S,
        partial_slack_s: float = PARTIAL_SLACK_S,
        short_context: bool = True,
    ) -> None:
        self._worker = worker
        self._on_partial = on_partial
        self._on_speculative = on_speculative
        self.on_quick = on_quick  # None: no quick passes
        self.speculate = speculate
        self.partials = partials
        self.partial_window_s = partial_window_s
        self.partial_slack_s = partial_slack_s
        # Previews encode a shorter window (audio.short_context, 10 s at least); a pause
        # pass, whose text may become the final one, keeps the full 30 s, as a final does.
        self.short_context = short_context
        self.stats = SpeculationStats()
        # A transcriber for the final pass instead of the worker (a server, see
        # audio.server_stt): partials and pause passes stay on the worker.
        self.final: Transcriber | None = None
        self._utterance: int | None = None  # the utterance still being spoken
        self._spec: _Pass | None = None
        self._quick: _Pass | None = None
        self._in_flight: set[_Pass] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def current_utterance(self) -> int | None:
        """The utterance being spoken (from ``started`` to ``ended``/``discarded``), or None."""
        return self._utterance

    @property
    def busy(self) -> bool:
        """True while any pass is queued or running on the worker."""
        return bool(self._in_flight)

    async def wait_idle(self) -> None:
        """Return once no pass is queued or running."""
        await self._idle.wait()

    # -- segmenter events (on the loop) ----------------------------------------------------

    def started(self, utterance_id: int) -> None:
        """A new utterance: whatever is left of older speculative/partial passes is stale."""
        self._drop_speculative()
        self._cancel_partials()
        self._utterance = utterance_id

    def progress(self, event: SpeechProgress) -> None:
        if not self.partials or self._utterance is None:
            return
        if self._in_flight:  # never queue a preview behind other work
            self.stats.partials_skipped += 1
            return
        window = round(self.partial_window_s * SAMPLE_RATE_HZ)
        audio = as_mono_float32(event.audio[-window:])
        if is_near_silent(audio):
            return
        not_after = time.monotonic() + self.partial_slack_s
        job = self._submit("partial", _padded(audio), event.at_s, not_after=not_after)
        job.future.add_done_callback(lambda _f: self._partial_done(job))

    def paused(self, event: SpeechPaused) -> None:
        if not self.speculate or self._utterance is None:
            return
        self._drop_speculative()
        self._cancel_partials()  # this pass covers more; its words are shown as the preview
        audio = as_mono_float32(event.audio)
        if is_near_silent(audio):
            return
        padded = _padded(audio)
        quick = None
        if self.on_quick is not None and len(audio) <= QUICK_MAX_S * SAMPLE_RATE_HZ:
            quick = self._quick = self._submit("quick", padded, event.end_s)
            quick.future.add_done_callback(lambda _f: self._quick_done(quick))
        job = self._submit("speculative", padded, event.end_s, rival=quick)
        self._spec = job
        job.future.add_done_callback(lambda _f: self._speculative_done(job))

    def resumed(self) -> None:
        """The user kept talking: the pause's pass can never be the final one.

        Not started yet, or long (more than one window, so it stops between segments):
        cancelled. Already decoding its one window, where a cancel saves nothing: its
        words are kept as a preview instead."""
        self._drop_quick()
        spec, self._spec = self._spec, None
        if spec is None:
            return
        self.stats.speculative_discarded += 1
        if spec.started and spec.duration_s <= ONE_WINDOW_S:
            spec.kind = "partial"  # _speculative_done publishes it as a preview only
        else:
            self._cancel(spec)

    def discarded(self) -> None:
        self._drop_speculative()
        self._cancel_partials()
        self._utterance = None

    def ended(self, event: SpeechEnded) -> PreparedTranscript | ServerFinal:
        """The utterance is over: reuse the pause's pass when it covers exactly this audio
        (with a ``final`` transcriber set, it gets the final pass instead)."""
        utterance = self._utterance if self._utterance is not None else 0  # 0: not seen start
        self._utterance = None
        self._cancel_partials()
        self._drop_quick()
        duration_s = len(event.audio) / SAMPLE_RATE_HZ
        spec, self._spec = self._spec, None
        if self.final is not None:
            if spec is not None:
                self._cancel(spec)
            self.stats.final_passes += 1
            return ServerFinal(self.final, as_mono_float32(event.audio))
        if (
            spec is not None
            and spec.utterance_id == utterance
            and spec.end_s == event.end_s
            and not spec.token.cancelled
        ):
            self.stats.speculative_reused += 1
            final_audio = as_mono_float32(event.audio)

            def recheck() -> Pass:
                self.stats.speculative_rechecked += 1
                job = self._submit("final", final_audio, event.end_s, utterance=utterance)
                return job.future, job.token

            return PreparedTranscript(spec.future, spec.token, duration_s, recheck)
        if spec is not None:
            self._cancel(spec)
        audio = as_mono_float32(event.audio)
        if is_near_silent(audio):
            return PreparedTranscript(None, CancelToken(), duration_s)
        job = self._submit("final", audio, event.end_s, utterance=utterance)
        return PreparedTranscript(job.future, job.token, duration_s)

    def close(self) -> None:
        self._drop_speculative()
        self._cancel_partials()
        self._utterance = None

    # -- internals -------------------------------------------------------------------------

    def _submit(
        self,
        kind: str,
        audio: npt.NDArray[np.float32],
        end_s: float,
        *,
        not_after: float | None = None,
        utterance: int | None = None,
        rival: _Pass | None = None,
    ) -> _Pass:
        """Queue a pass; with ``rival`` (the quick pass over the same audio, queued first),
        its result is the surer of the two readings."""
        if utterance is None:
            utterance = self._utterance if self._utterance is not None else 0
        token = CancelToken()
        frames = None
        if self.short_context and kind == "partial":
            frames = MIN_FRAMES
        elif self.short_context and kind == "quick":
            frames = QUICK_MIN_FRAMES
        holder: list[_Pass] = []
        inner = self._worker.submit(
            audio,
            token,
            not_after=not_after,
            short_context=frames,
            on_start=lambda: holder[0].mark_started() if holder else None,
        )
        future = asyncio.wrap_future(inner)
        if rival is not None:
            future = surer_of(future, rival.future, self._quick_kept)
        job = _Pass(kind, utterance, end_s, len(audio) / SAMPLE_RATE_HZ, token, future)
        holder.append(job)
        self._in_flight.add(job)
        self._idle.clear()
        job.future.add_done_callback(lambda f: self._finished(job, f))
        if kind == "partial":
            self.stats.partial_passes += 1
        elif kind == "speculative":
            self.stats.speculative_passes += 1
        elif kind == "quick":
            self.stats.quick_passes += 1
        else:
            self.stats.final_passes += 1
        return job

    def _finished(self, job: _Pass, future: asyncio.Future[CleanText]) -> None:
        self._in_flight.discard(job)
        if not self._in_flight:
            self._idle.set()
        if not future.cancelled():
            future.exception()  # retrieved: a stale pass's Cancelled is expected
        log.debug(
            "%s pass for utterance %d done in %.3f s",
            job.kind,
            job.utterance_id,
            time.monotonic() - job.submitted_at,
        )

    def _quick_kept(self, quick: CleanText, full: CleanText) -> None:
        self.stats.quick_chosen += 1
        log.debug(
            "pause read as %r (%.2f), not %r (%.2f): the quick pass was surer",
            quick.text,
            quick.confidence,
            full.text,
            full.confidence,
        )

    def _text(self, job: _Pass) -> str | None:
        future = job.future
        if future.cancelled() or future.exception() is not None or job.token.cancelled:
            return None
        return future.result().text

    def _partial_done(self, job: _Pass) -> None:
        text = self._text(job)
        if text is None and not job.token.cancelled:
            self.stats.partials_skipped += 1
        if text and job.utterance_id == self._utterance and self._on_partial is not None:
            self._on_partial(job.utterance_id, text)

    def _speculative_done(self, job: _Pass) -> None:
        text = self._text(job)
        if job.kind == "partial":  # demoted by a resume: a preview only
            if text and job.utterance_id == self._utterance and self._on_partial is not None:
                self._on_partial(job.utterance_id, text)
            return
        if text is None or job.utterance_id != self._utterance or job is not self._spec:
            return
        if text and self._on_partial is not None:
            self._on_partial(job.utterance_id, text)
        if self._on_speculative is not None:
            self._on_speculative(job.utterance_id, job.end_s, text)

    def _quick_done(self, job: _Pass) -> None:
        text = self._text(job)
        if job is not self._quick or job.utterance_id != self._utterance:
            return
        self._quick = None
        if text and self.on_quick is not None:
            self.on_quick(job.utterance_id, job.end_s, text)

    def _drop_quick(self) -> None:
        quick, self._quick = self._quick, None
        if quick is not None:
            self._cancel(quick)

    def _drop_speculative(self) -> None:
        self._drop_quick()
        spec, self._spec = self._spec, None
        if spec is not None:
            self.stats.speculative_discarded += 1
            self._cancel(spec)

    def _cancel_partials(self) -> None:
        for job in list(self._in_flight):
            if job.kind == "partial":
                self._cancel(job)

    @staticmethod
    def _cancel(job: _Pass) -> None:
        job.token.cancel("stale: the speech went on or ended elsewhere")


def _padded(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    pad = np.zeros(round(TAIL_PAD_S * SAMPLE_RATE_HZ), dtype=np.float32)
    return np.concatenate([audio, pad])
