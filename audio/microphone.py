"""The microphone as an ``AudioSource``: a PortAudio input stream fed into asyncio.

PortAudio calls ``_CallbackPipe.callback`` on its own thread; it downmixes,
resamples to 16 kHz when the device cannot do it, cuts 512-sample blocks and
hands them to the event loop with ``call_soon_threadsafe``. ``blocks()`` reads
them from an ``asyncio.Queue`` and watches for the ways a microphone fails:
it cannot be opened (missing, busy), it disappears mid-utterance (the stream
finishes on its own or stops delivering), or it delivers only exact zeros (a
muted input). Each failure is a ``CaptureError`` with a sentence to show; a
new ``async with`` opens the device again. Overruns (PortAudio dropped input
because the callback came too late: a busy machine) do not stop capture; they
are logged, at most once per ``OVERRUN_LOG_INTERVAL_S`` of audio, with how
many there were.

With an ``EchoCanceller`` the 16 kHz signal is echo-cancelled in the same
callback, before blocks are cut: the VAD, Whisper and the level meter all see
the cleaned signal. Each callback's samples are stamped with PortAudio's
``inputBufferAdcTime`` (when they were captured), which is what lines them up
with what the speakers were playing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Self

import numpy as np

from .capture import BLOCK_SAMPLES, SAMPLE_RATE_HZ, Block, BlockChunker, Resampler
from .devices import InputDevice, find_input_device, import_sounddevice
from .echo_canceller import EchoCanceller, stream_clock_s
from .errors import AudioErrorKind, CaptureError

log = logging.getLogger(__name__)

PA_INVALID_DEVICE = -9996
PA_DEVICE_UNAVAILABLE = -9985
OVERRUN_LOG_INTERVAL_S = 30.0  # of captured audio between two overrun warnings

SILENT_INPUT = (
    "The microphone is sending only silence — is it muted? "
    "Unmute it, or pick another microphone in Settings → Audio."
)


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_CLOSED = _Signal("closed")  # close() was called
_FINISHED = _Signal("finished")  # PortAudio says the stream ended
_OVERRUN = _Signal("overrun")  # PortAudio dropped input before the blocks that follow

_Item = Block | _Signal


class _CallbackPipe:
    """Runs in the PortAudio thread: raw device frames → 16 kHz blocks on the loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[list[_Item]], None],
        *,
        rate_hz: int,
        block_samples: int,
        echo_canceller: EchoCanceller | None = None,
    ) -> None:
        self._loop = loop
        self._deliver = deliver
        self._rate_hz = rate_hz
        self._echo = echo_canceller
        self._resampler = Resampler(rate_hz) if rate_hz != SAMPLE_RATE_HZ else None
        self._chunker = BlockChunker(block_samples)
        self.active = True
        self._raw_sound = False  # a non-zero sample arrived since the last check

    def callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if not self.active:
            return
        overrun = bool(status) and getattr(status, "input_overflow", False)
        if indata.shape[1] == 1:
            mono = np.array(indata[:, 0], dtype=np.float32)  # PortAudio reuses indata
        else:
            mono = indata.mean(axis=1, dtype=np.float32)
        if self._echo is not None and mono.any():
            self._raw_sound = True
        captured_s = 0.0
        if self._echo is not None:
            captured_s = stream_clock_s(
                float(getattr(time_info, "inputBufferAdcTime", 0.0)),
                float(getattr(time_info, "currentTime", 0.0)),
            )
        if self._resampler is not None:
            mono = self._resampler.process(mono)
            # The first new output sample lies this far before the end of this input.
            captured_s += (
                frames / self._rate_hz
                - self._resampler.output_delay_s
                - (len(mono) / SAMPLE_RATE_HZ)
            )
        if self._echo is not None:
            mono = self._echo.process(mono, captured_s)
        blocks: list[_Item] = list(self._chunker.push(mono))
        if overrun:
            blocks.insert(0, _OVERRUN)
        if blocks:
            self._post(blocks)

    def raw_sound_since_check(self) -> bool:
        """Did the device send a non-zero sample since the last call (with echo cancellation)?"""
        sound, self._raw_sound = self._raw_sound, False
        return sound

    def finished(self) -> None:
        self._post([_FINISHED])

    def _post(self, items: list[_Item]) -> None:
        try:
            self._loop.call_soon_threadsafe(self._deliver, items)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self.active = False


class MicrophoneSource:
    """Audio from a microphone as 16 kHz mono float32 blocks (see ``AudioSource``).

    ``device``: ``None`` for the system default, a PortAudio index, or part of
    a device name (case-insensitive). ``sounddevice_module`` is injected for
    tests; by default the real ``sounddevice`` is imported on open.
    ``silence_timeout_s``: raise ``CaptureError(SILENT_INPUT)`` after this long
    of exact zeros (``None`` turns the check off). ``stall_timeout_s``: a
    stream that delivers nothing for this long (after the first block, which
    may take ``start_timeout_s``) is treated as unplugged.
    """

    def __init__(
        self,
        device: str | int | None = None,
        *,
        sounddevice_module: Any = None,
        block_samples: int = BLOCK_SAMPLES,
        silence_timeout_s: float | None = 5.0,
        stall_timeout_s: float = 2.0,
        start_timeout_s: float = 5.0,
        echo_canceller: EchoCanceller | None = None,
    ) -> None:
        self.device = device
        self.echo_canceller = echo_canceller
        self._sd_module = sounddevice_module
        self.block_samples = block_samples
        self.silence_timeout_s = silence_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.start_timeout_s = start_timeout_s
        self.device_info: InputDevice | None = None
        self.device_rate_hz: int | None = None
        self._stream: Any = None
        self._pipe: _CallbackPipe | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._closing = False
        self._samples = 0
        self._zero_samples = 0
        self._overruns = 0  # since the last open
        self._overruns_logged = 0  # of those, how many are in the log
        self._overrun_logged_at_s: float | None = None

    @property
    def stream_time_s(self) -> float:
        return self._samples / SAMPLE_RATE_HZ

    async def __aenter__(self) -> Self:
        if self._stream is not None:
            raise RuntimeError("this MicrophoneSource is already open")
        sd = self._sd_module if self._sd_module is not None else import_sounddevice()
        dev = find_input_device(self.device, sd)
        rate_hz, channels = _choose_format(sd, dev)
        queue: asyncio.Queue[_Item] = asyncio.Queue()

        def deliver(items: list[_Item]) -> None:
            for item in items:
                queue.put_nowait(item)

        pipe = _CallbackPipe(
            asyncio.get_running_loop(),
            deliver,
            rate_hz=rate_hz,
            block_samples=self.block_samples,
            echo_canceller=self.echo_canceller,
        )
        stream = None
        try:
            stream = sd.InputStream(
                samplerate=rate_hz,
                blocksize=round(self.block_samples * rate_hz / SAMPLE_RATE_HZ),
                device=dev.index,
                channels=channels,
                dtype="float32",
                callback=pipe.callback,
                finished_callback=pipe.finished,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            pipe.active = False
            if stream is not None:
                _shutdown(stream)
            raise _open_error(exc, dev) from exc
        log.info("microphone %r open at %d Hz, %d channel(s)", dev.name, rate_hz, channels)
        self.device_info, self.device_rate_hz = dev, rate_hz
        self._stream, self._pipe, self._queue = stream, pipe, queue
        self._closing = False
        self._samples = 0
        self._zero_samples = 0
        self._overruns = 0
        self._overruns_logged = 0
        self._overrun_logged_at_s = None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        stream, self._stream = self._stream, None
        if self._pipe is not None:
            self._pipe.active = False
        self._log_overruns(final=True)
        if stream is not None:
            # Stopping PortAudio can take tens of ms: keep it off the event loop.
            await asyncio.to_thread(_shutdown, stream)

    def close(self) -> None:
        if self._queue is not None and not self._closing:
            self._closing = True
            self._queue.put_nowait(_CLOSED)

    async def blocks(self) -> AsyncIterator[Block]:
        queue = self._queue
        if queue is None:
            raise RuntimeError("open the MicrophoneSource with 'async with' before reading it")
        timeout_s = self.start_timeout_s
        while True:
            try:
                async with asyncio.timeout(timeout_s):
                    item = await queue.get()
            except TimeoutError:
                if self._closing:
                    return
                raise self._lost("stopped sending audio") from None
            timeout_s = self.stall_timeout_s
            if item is _CLOSED:
                return
            if item is _FINISHED:
                if self._closing:
                    return
                raise self._lost("stopped")
            if item is _OVERRUN:
                self._overruns += 1
                continue
            assert isinstance(item, np.ndarray)
            self._samples += len(item)
            self._check_silence(item)
            self._log_overruns()
            yield item

    def _log_overruns(self, *, final: bool = False) -> None:
        """Warn about input PortAudio dropped: the first overrun at once, then the count
        of new ones at most every ``OVERRUN_LOG_INTERVAL_S`` of audio, and on close."""
        total = self._overruns
        new = total - self._overruns_logged
        if new <= 0:
            return
        at_s = self.stream_time_s
        last = self._overrun_logged_at_s
        if not final and last is not None and at_s - last < OVERRUN_LOG_INTERVAL_S:
            return
        name = self.device_info.name if self.device_info else "microphone"
        since = "since it opened" if last is None else f"since {last:.1f} s"
        log.warning(
            "microphone %r dropped input %d time(s) %s (at %.1f s of audio; %d in all): "
            "the machine may be too busy to keep up",
            name,
            new,
            since,
            at_s,
            total,
        )
        self._overruns_logged = total
        self._overrun_logged_at_s = at_s

    def _check_silence(self, block: Block) -> None:
        # What the device sent, not the echo canceller's output (which may be exact
        # zeros while the speakers play): a muted microphone sends nothing but zeros.
        if block.any() or (self._pipe is not None and self._pipe.raw_sound_since_check()):
            self._zero_samples = 0
            return
        self._zero_samples += len(block)
        limit = self.silence_timeout_s
        if limit is not None and self._zero_samples >= limit * SAMPLE_RATE_HZ:
            raise CaptureError(AudioErrorKind.SILENT_INPUT, SILENT_INPUT)

    def _lost(self, what: str) -> CaptureError:
        name = self.device_info.name if self.device_info else "microphone"
        log.warning("microphone %r %s", name, what)
        return CaptureError(
            AudioErrorKind.DEVICE_LOST,
            f"The microphone “{name}” {what} — was it unplugged? "
            "Plug it back in or pick another in Settings → Audio, then start listening again.",
        )


def _choose_format(sd: Any, dev: InputDevice) -> tuple[int, int]:
    """16 kHz mono if the device takes it, else its own rate and/or two channels."""
    rates = [SAMPLE_RATE_HZ]
    if dev.default_samplerate_hz != SAMPLE_RATE_HZ:
        rates.append(dev.default_samplerate_hz)
    channel_options = [1, 2] if dev.max_input_channels >= 2 else [1]
    for channels in channel_options:
        for rate_hz in rates:
            try:
                sd.check_input_settings(
                    device=dev.index, channels=channels, dtype="float32", samplerate=rate_hz
                )
            except Exception as exc:  # PortAudioError/ValueError: try the next format
                log.debug("%r: %d Hz × %d not supported: %s", dev.name, rate_hz, channels, exc)
                continue
            return rate_hz, channels
    # Nothing checked out (some host APIs answer badly): let opening report the error.
    return dev.default_samplerate_hz, 1


def _open_error(exc: Exception, dev: InputDevice) -> CaptureError:
    code = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
    log.warning("could not open microphone %r: %s", dev.name, exc)
    if code == PA_INVALID_DEVICE:
        return CaptureError(
            AudioErrorKind.NO_DEVICE,
            f"The microphone “{dev.name}” is not available any more. "
            "Plug it back in or pick another in Settings → Audio.",
        )
    return CaptureError(
        AudioErrorKind.DEVICE_BUSY,
        f"The microphone “{dev.name}” could not be opened — another application may be "
        "using it. Close that application or pick another microphone in Settings → Audio.",
    )


def _shutdown(stream: Any) -> None:
    """Stop and close a stream, tolerating the errors an unplugged device gives."""
    for step in ("abort", "close"):
        try:
            getattr(stream, step)()
        except Exception as exc:  # PortAudioError from a device that is gone
            log.debug("stream.%s() failed: %s", step, exc)
