"""Local speech-to-text: faster-whisper in one dedicated worker thread.

The model loads in the background at start-up and every transcription runs in
the same single thread, so the asyncio loop (and the Qt UI on it) never waits
on decoding. faster-whisper's ``transcribe()`` returns a lazy generator whose
iteration *is* the decoding, so it is consumed inside the worker, checking the
request's cancel token between segments. A cancel returns to the caller at
once; the worker stops at the next segment boundary.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from providers.cancel import Cancelled, CancelToken

from .errors import AudioErrorKind, TranscriptionError
from .hallucination import (
    SAMPLE_RATE_HZ,
    CleanText,
    SegmentScore,
    clean_transcript,
    is_near_silent,
)
from .model_resolution import LoadedModel, load_whisper_model
from .short_context import short_context

log = logging.getLogger(__name__)

# Seconds of speech Silero VAD must find for a stock phrase ("Thank you.") to count as said.
CLEAR_SPEECH_S = 0.25
_WINDOW_S = 30.0


@dataclass(frozen=True)
class Transcription:
    """One utterance's text. ``text`` is "" when it had no words; ``dropped`` then says why
    (and it names anything the hallucination guards removed from a non-empty text)."""

    text: str
    audio_duration_s: float
    elapsed_s: float
    dropped: str | None = None


@runtime_checkable
class Transcriber(Protocol):
    """What the controller calls; ``WhisperTranscriber`` and ``RemoteTranscriber`` satisfy it."""

    async def transcribe(
        self, audio: npt.NDArray[np.float32], cancel: CancelToken | None = None
    ) -> Transcription: ...


def whisper_options(duration_s: float, language: str | None) -> dict[str, Any]:
    """``WhisperModel.transcribe`` settings for short voice commands, tuned for latency.

    Greedy decoding (beam_size=1) and no timestamp tokens cut decode time by a
    third on tiny.en with the same words on our test speech; each utterance is
    independent, so no conditioning on previous text; the segmenter already cut
    the utterance, so no VAD filter. The token cap bounds a decoding loop on
    noise (a fast talker produces ~5 tokens/s) and the short temperature list
    bounds the fallback re-decodes.
    """
    window_s = min(max(duration_s, 0.0), _WINDOW_S)
    return {
        "language": language,
        "beam_size": 1,
        "best_of": 1,
        "temperature": (0.0, 0.4, 0.8),
        "without_timestamps": True,
        "condition_on_previous_text": False,
        "vad_filter": False,
        "max_new_tokens": 48 + int(window_s * 10),
    }


def as_mono_float32(audio: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Validate and flatten 16 kHz mono audio to a contiguous float32 vector."""
    array = np.asarray(audio)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(f"expected mono audio (one dimension), got shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float32)


def has_clear_speech(audio: npt.NDArray[np.float32], min_speech_s: float = CLEAR_SPEECH_S) -> bool:
    """Silero VAD (bundled with faster-whisper) finds at least ``min_speech_s`` of speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_speech_duration_ms=int(min_speech_s * 1000), speech_pad_ms=0)
    spans = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE_HZ)
    speech_samples = sum(int(span["end"]) - int(span["start"]) for span in spans)
    return speech_samples >= min_speech_s * SAMPLE_RATE_HZ


async def await_or_cancel(
    future: asyncio.Future[Any], cancel: CancelToken | None, job: CancelToken
) -> Any:
    """Await a worker's result; a cancel (token or task) returns at once and tells the worker."""
    waiter = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    try:
        if waiter is None:
            return await future
        done, _ = await asyncio.wait({future, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if future in done:
            return future.result()
    except asyncio.CancelledError:
        job.cancel("the transcription task was cancelled")
        raise
    finally:
        if waiter is not None:
            waiter.cancel()
        if not future.done():
            future.add_done_callback(_ignore_result)  # the worker's late Cancelled
    assert cancel is not None
    job.cancel(cancel.reason or "cancelled")
    raise Cancelled(cancel.reason or "cancelled")


def _ignore_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class WhisperTranscriber:
    """faster-whisper on the CPU, owning one worker thread for loading and decoding."""

    def __init__(
        self,
        model: str | None = None,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 0,
        language: str | None = "en",
    ) -> None:
        self._requested = model
        self._compute_type = compute_type
        self._cpu_threads = cpu_threads
        self._language = language
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="whisper"
        )
        self._load_future: concurrent.futures.Future[LoadedModel] | None = None
        self._lock = threading.Lock()
        self._jobs: set[CancelToken] = set()
        self._closed = False
        self.load_warning: str | None = None

    # -- loading ---------------------------------------------------------------------------

    def start_loading(self) -> None:
        """Begin loading the model in the worker thread; returns at once (idempotent)."""
        with self._lock:
            if self._closed:
                raise TranscriptionError(AudioErrorKind.MODEL, "The transcriber was closed.")
            if self._load_future is None:
                self._load_future = self._executor.submit(self._load)

    @property
    def loaded(self) -> bool:
        future = self._load_future
        return future is not None and future.done() and future.exception() is None

    async def wait_loaded(self) -> str:
        """Wait for the model; returns what was loaded. Raises TranscriptionError(MODEL)."""
        self.start_loading()
        assert self._load_future is not None
        loaded = await asyncio.wrap_future(self._load_future)
        return loaded.description

    def _load(self) -> LoadedModel:
        started = time.perf_counter()
        loaded = load_whisper_model(
            self._requested, compute_type=self._compute_type, cpu_threads=self._cpu_threads
        )
        self.load_warning = loaded.warning
        log.info("Whisper model %s loaded in %.2f s", loaded.description, _since(started))
        return loaded

    def _model(self) -> Any:
        assert self._load_future is not None
        return self._load_future.result().model

    # -- transcription ---------------------------------------------------------------------

    async def transcribe(
        self, audio: npt.NDArray[np.float32], cancel: CancelToken | None = None
    ) -> Transcription:
        """Transcribe one utterance (16 kHz mono float32) off the loop.

        Raises ``Cancelled`` once ``cancel`` is set (checked between
        segments in the worker, and raised here at once), and
        ``TranscriptionError(MODEL)`` when no model could be loaded.
        """
        started = time.perf_counter()
        samples = as_mono_float32(audio)
        duration_s = samples.size / SAMPLE_RATE_HZ
        if cancel is not None:
            cancel.raise_if_cancelled()
        if is_near_silent(samples):
            return Transcription("", duration_s, _since(started), "near-silent audio (not decoded)")
        self.start_loading()
        job = CancelToken()
        unlink = cancel.add_callback(lambda: _cancel(job)) if cancel else None
        with self._lock:
            self._jobs.add(job)
        try:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._executor, self._decode, samples, job)
            clean = await await_or_cancel(future, cancel, job)
        finally:
            if unlink is not None:
                unlink()
            with self._lock:
                self._jobs.discard(job)
        return Transcription(clean.text, duration_s, _since(started), clean.dropped)

    def submit(
        self,
        samples: npt.NDArray[np.float32],
        job: CancelToken,
        *,
        not_after: float | None = None,
        short_context: int | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> concurrent.futures.Future[CleanText]:
        """Queue a decode on the worker thread; returns its future (``CleanText``).

        For passes that may be skipped (``audio.speculative``): ``job`` cancelled
        before the worker reaches it, or the worker reaching it after the
        ``time.monotonic()`` deadline ``not_after``, skips the pass at no cost
        (the future raises ``Cancelled``). ``short_context``: encode over the
        audio's own length, at least that many frames (``audio.short_context``).
        ``on_start`` is called in the worker thread when the pass really begins."""
        self.start_loading()
        return self._executor.submit(self._decode, samples, job, not_after, short_context, on_start)

    def _decode(
        self,
        samples: npt.NDArray[np.float32],
        job: CancelToken,
        not_after: float | None = None,
        short: int | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> CleanText:
        """Worker thread: run the model, consuming its segment generator here."""
        job.raise_if_cancelled()
        if not_after is not None and time.monotonic() > not_after:
            raise Cancelled("skipped: the worker reached it too late")
        if on_start is not None:
            on_start()
        if short is not None:
            with short_context(short):
                return self._decode_full(samples, job)
        return self._decode_full(samples, job)

    def _decode_full(self, samples: npt.NDArray[np.float32], job: CancelToken) -> CleanText:
        model = self._model()
        options = whisper_options(samples.size / SAMPLE_RATE_HZ, self._language)
        segments, _info = model.transcribe(samples, **options)
        scores: list[SegmentScore] = []
        try:
            for index, segment in enumerate(segments):
                scores.append(
                    SegmentScore(
                        text=segment.text,
                        no_speech_prob=segment.no_speech_prob,
                        avg_logprob=segment.avg_logprob,
                        compression_ratio=segment.compression_ratio,
                    )
                )
                log.debug(
                    "segment %d decoded: %r", index, segment.text, extra={"segment_index": index}
                )
                job.raise_if_cancelled()
        finally:
            close = getattr(segments, "close", None)
            if close is not None:
                close()
        return clean_transcript(scores, has_clear_speech=lambda: has_clear_speech(samples))

    def close(self) -> None:
        """Stop the worker: running decodes stop at the next segment, queued ones never start."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs)
        for job in jobs:
            job.cancel("the transcriber was closed")
        self._executor.shutdown(wait=True, cancel_futures=True)


def _cancel(job: CancelToken) -> None:
    job.cancel("cancelled")


def _since(started: float) -> float:
    return time.perf_counter() - started
