"""Speech playback that can go silent within one audio block.

A ``sounddevice.OutputStream`` in callback mode pulls audio from a thread-safe
queue of ``(audio, text)`` chunks. Pause, resume and stop only flip state under
a lock the callback also takes, so they never wait for audio to drain: the
block being played when ``stop()`` returns is the last one with sound. The
stream opens lazily on the first chunk and closes after a spell of idleness,
so an idle app holds no audio device. A device that is missing or vanishes is
a ``SpeechOutputError`` handed to the listener, never a crash.

Listener events are called from the audio thread and must be quick (the
speech output only hops them onto the asyncio loop).

Ducking is the gentle pause: ``duck()`` ramps the volume down (−20 dB) within
one block and, unless ``resume()`` comes first, turns into ``pause()`` after
``pause_after_s`` of ducked playback. A speech onset that is only the reply's
residual echo is then a brief dip in volume instead of an audible stop.

``tap(block, rate_hz, dac_time_s)`` (optional) receives every block exactly as
written to the device, volume changes and silence included, with the
monotonic time its first sample reaches the DAC (PortAudio's
``outputBufferDacTime``): the echo canceller's reference.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .echo_canceller import stream_clock_s
from .errors import AudioErrorKind, SpeechOutputError
from .player_events import (
    ChunkStarted,
    PlaybackFailed,
    PlaybackIdle,
    PlayerEvent,
    WakeWaiters,
)

log = logging.getLogger(__name__)

IDLE_CLOSE_S = 3.0
DUCK_GAIN = 10 ** (-20 / 20)  # −20 dB: still audible, far below the user's voice
DUCK_PAUSE_AFTER_S = 0.5  # ducked this long (speech went on): pause

OutputTap = Callable[[npt.NDArray[np.float32], int, float], None]
__all__ = ["ChunkStarted", "PlaybackFailed", "PlaybackIdle", "PlayerEvent", "SpeechPlayer"]


@dataclass
class _Chunk:
    audio: npt.NDArray[np.float32]
    text: str
    tag: object
    position: int = 0


class _StreamHandle:
    """One opened stream; ``closing`` marks a stop we asked for (not a lost device)."""

    def __init__(self) -> None:
        self.stream: Any = None
        self.closing = False


class SpeechPlayer:
    """Plays queued speech chunks; ``stop()`` is silent within one block (``block_ms``)."""

    def __init__(
        self,
        sample_rate_hz: int,
        *,
        device: str | int | None = None,
        sounddevice_module: Any = None,
        block_ms: int = 20,
        idle_close_s: float = IDLE_CLOSE_S,
        tap: OutputTap | None = None,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.block_frames = max(1, sample_rate_hz * block_ms // 1000)
        self._device = device
        self._sd = sounddevice_module
        self._idle_close_s = idle_close_s
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._open_lock = threading.Lock()
        self._queue: collections.deque[_Chunk] = collections.deque()
        self._current: _Chunk | None = None
        self._paused = False
        self._gain = 1.0  # applied at the end of the last block
        self._ducked = False
        self._duck_left = 0  # ducked samples still to play before pausing
        self._played = 0  # samples of queued audio played since the last stop()
        self._tap = tap
        self._closed = False
        self._handle: _StreamHandle | None = None
        self._idle_since: float | None = time.monotonic()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._listeners: list[Callable[[PlayerEvent], None]] = []

    # -- public state ----------------------------------------------------------------------

    def add_listener(self, listener: Callable[[PlayerEvent], None]) -> None:
        """Call ``listener`` for chunk starts, idleness and device failures (audio thread)."""
        self._listeners.append(listener)

    @property
    def idle(self) -> bool:
        """Nothing queued or playing (a paused chunk is not idle)."""
        with self._lock:
            return self._is_idle()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def played_s(self) -> float:
        """Seconds of queued audio played since the last ``stop()`` (while paused, or with
        nothing queued, the device plays silence, which does not count)."""
        return self._played / self.sample_rate_hz

    @property
    def stream_open(self) -> bool:
        return self._handle is not None

    async def wait_idle(self) -> None:
        """Return once everything queued has played, or after ``stop()``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._is_idle():
                return
            self._waiters.append((loop, future))
        await future

    # -- control ---------------------------------------------------------------------------

    def open(self) -> None:
        """Open and start the output stream if it is not running (blocking, may raise
        ``SpeechOutputError``). ``enqueue`` calls it; call it ahead to keep that fast."""
        self._open_with(None)

    def enqueue(
        self, audio: npt.NDArray[np.float32], text: str = "", *, tag: object = None
    ) -> None:
        """Queue a chunk (float32 mono at ``sample_rate_hz``). Raises SpeechOutputError
        when no output device can be opened; the chunk is then dropped."""
        samples = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1))
        self._open_with(_Chunk(samples, text, tag))

    def _open_with(self, chunk: _Chunk | None) -> None:
        """Make sure a stream runs and queue ``chunk`` in the same critical section that
        finds or installs it, so the idle closer can never retire the stream in between
        and leave the chunk queued with nothing playing it."""
        with self._open_lock:
            with self._lock:
                if self._closed:
                    return
                if self._handle is not None:
                    self._queue_locked(chunk)
                    return
            handle = _StreamHandle()
            handle.stream = self._create_stream(handle)
            with self._lock:
                closed_meanwhile = self._closed
                if not closed_meanwhile:
                    self._handle = handle
                    self._idle_since = time.monotonic()  # the idle timer starts here
                    self._queue_locked(chunk)
            if closed_meanwhile:
                self._shut(handle)
                return
            threading.Thread(
                target=self._close_when_idle, args=(handle,), name="speech-idle", daemon=True
            ).start()

    def _queue_locked(self, chunk: _Chunk | None) -> None:
        if chunk is None:
            return
        self._queue.append(chunk)
        self._idle_since = None
        self._cond.notify_all()

    def pause(self) -> None:
        """Output silence from the next block on, keeping the queue and the position."""
        self._paused = True

    def duck(self, *, pause_after_s: float = DUCK_PAUSE_AFTER_S) -> None:
        """Turn the volume down from the next block on; pause after ``pause_after_s`` of
        ducked playback unless ``resume()`` comes first. Already ducked: nothing changes."""
        with self._lock:
            if not self._ducked:
                self._ducked = True
                self._duck_left = round(pause_after_s * self.sample_rate_hz)

    @property
    def ducked(self) -> bool:
        return self._ducked

    def resume(self) -> None:
        """Undo ``pause()`` and ``duck()``: full volume again from where it stopped."""
        with self._lock:
            self._ducked = False
            self._paused = False

    def stop(self) -> None:
        """Silence from the next block on and drop everything queued (never blocks on audio)."""
        with self._lock:
            self._queue.clear()
            self._current = None
            self._paused = False
            self._ducked = False
            self._played = 0
            events = self._became_idle()
        self._notify(events)

    def close(self) -> None:
        """Stop and release the device; the player cannot be used afterwards."""
        self.stop()
        with self._lock:
            self._closed = True
            handle, self._handle = self._handle, None
            self._cond.notify_all()
        if handle is not None:
            self._shut(handle)

    # -- stream ----------------------------------------------------------------------------

    def _sounddevice(self) -> Any:
        if self._sd is None:
            import sounddevice

            self._sd = sounddevice
        return self._sd

    def _create_stream(self, handle: _StreamHandle) -> Any:
        sd = self._sounddevice()
        where = "the default output device" if self._device is None else f"“{self._device}”"
        try:
            stream = sd.OutputStream(
                samplerate=self.sample_rate_hz,
                blocksize=self.block_frames,
                channels=1,
                dtype="float32",
                latency="low",  # what the device buffers is heard after stop(): keep it short
                device=self._device,
                callback=lambda outdata, frames, time_info, status: self._callback(
                    handle, outdata, frames, time_info
                ),
                finished_callback=lambda: self._finished(handle),
            )
            stream.start()
        except (sd.PortAudioError, ValueError, OSError) as exc:
            raise SpeechOutputError(
                AudioErrorKind.NO_DEVICE,
                f"Speech cannot be played: {where} is not available ({exc}). Connect "
                "speakers or headphones, or choose another output device in Settings → Audio.",
            ) from exc
        return stream

    def _callback(
        self, handle: _StreamHandle, outdata: Any, frames: int, time_info: Any = None
    ) -> None:
        """PortAudio thread: fill one block from the queue, or with silence. A stream
        being retired (``handle`` no longer current) only plays silence."""
        events: list[PlayerEvent | WakeWaiters] = []
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            if self._ducked and not self._paused:
                if self._duck_left <= 0:
                    self._paused = True  # ducked long enough: the user is talking
                self._duck_left -= frames
            if not self._paused and self._handle is handle:
                was_busy = not self._is_idle()
                while filled < frames:
                    chunk = self._current
                    if chunk is None:
                        if not self._queue:
                            break
                        chunk = self._current = self._queue.popleft()
                        events.append(ChunkStarted(chunk.text, chunk.tag))
                    count = min(frames - filled, chunk.audio.size - chunk.position)
                    start = chunk.position
                    out[filled : filled + count] = chunk.audio[start : start + count]
                    filled += count
                    chunk.position += count
                    if chunk.position >= chunk.audio.size:
                        self._current = None
                self._played += filled
                if was_busy and self._is_idle():
                    events += self._became_idle()
            target = DUCK_GAIN if self._ducked else 1.0
            if filled and (target != 1.0 or self._gain != 1.0):
                ramp = np.linspace(self._gain, target, filled, dtype=np.float32)
                out[:filled] *= ramp
            self._gain = target
        out[filled:] = 0.0
        if self._tap is not None:
            self._call_tap(out, time_info)
        self._notify(events)

    def _call_tap(self, out: Any, time_info: Any) -> None:
        at_s = stream_clock_s(
            float(getattr(time_info, "outputBufferDacTime", 0.0)),
            float(getattr(time_info, "currentTime", 0.0)),
        )
        try:
            assert self._tap is not None
            self._tap(np.array(out, dtype=np.float32), self.sample_rate_hz, at_s)
        except Exception:  # the reference must never break playback
            log.exception("speech player output tap failed")

    def _finished(self, handle: _StreamHandle) -> None:
        """The stream ended: fine if we closed it, otherwise the device went away."""
        if handle.closing:
            return
        log.warning("audio output stream ended unexpectedly")
        with self._lock:
            if self._handle is handle:
                self._handle = None
            self._queue.clear()
            self._current = None
            events: list[PlayerEvent | WakeWaiters] = [
                PlaybackFailed(
                    SpeechOutputError(
                        AudioErrorKind.DEVICE_LOST,
                        "The audio output device stopped working (was it unplugged?). "
                        "Reconnect it or choose another output device in Settings → Audio.",
                    )
                )
            ]
            events += self._became_idle()
            self._cond.notify_all()
        self._notify(events)

    def _close_when_idle(self, handle: _StreamHandle) -> None:
        """Housekeeping thread for one stream: close it after ``idle_close_s`` of idleness."""
        with self._cond:
            while self._handle is handle:
                since = self._idle_since
                if since is None or not self._is_idle():
                    self._cond.wait()
                    continue
                remaining = since + self._idle_close_s - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self._handle = None
            if self._closed:
                return  # close() shuts the stream itself
        self._shut(handle)

    @staticmethod
    def _shut(handle: _StreamHandle) -> None:
        handle.closing = True
        try:
            handle.stream.stop()
            handle.stream.close()
        except Exception:  # a vanished device may fail to close; nothing left to do
            log.debug("closing the output stream failed", exc_info=True)

    # -- helpers (call with the lock held) -------------------------------------------------

    def _is_idle(self) -> bool:
        return self._current is None and not self._queue

    def _became_idle(self) -> list[PlayerEvent | WakeWaiters]:
        self._idle_since = time.monotonic()
        self._cond.notify_all()
        waiters, self._waiters = self._waiters, []
        return [PlaybackIdle(), WakeWaiters(waiters)]

    def _notify(self, events: list[PlayerEvent | WakeWaiters]) -> None:
        """Outside the lock: listeners first, then ``wait_idle`` callers, in that order."""
        for event in events:
            if isinstance(event, WakeWaiters):
                event.wake()
                continue
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # a listener bug must not kill the audio thread
                    log.exception("speech player listener failed")
