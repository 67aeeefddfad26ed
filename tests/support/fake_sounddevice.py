"""A stand-in for the ``sounddevice`` module: a microphone that replays an array, a
speaker that records what it was given (``fake_output_stream``), and ``play()``.

There is no sound card here, so tests inject ``FakeSoundDevice`` where the app
would pass the real module. It implements what ``audio`` and the earcons use —
``query_devices``, ``query_hostapis``, ``check_input_settings``, ``default``,
``InputStream``, ``OutputStream``, ``play``, ``PortAudioError``,
``CallbackFlags`` — and drives the input stream
callback the way PortAudio does: from its own thread, with the real signature
``callback(indata, frames, time, status)``, reusing one ``indata`` buffer
(so code that forgets to copy is caught), calling ``finished_callback`` when
the stream ends.

Knobs (plain attributes; change them between opens to script a restart):

- ``audio`` / ``audio_rate_hz``: what the microphone hears (``None``: digital
  silence); after it ends the device keeps delivering zeros.
- ``speed``: 1.0 paces callbacks in real time, 20.0 twenty times faster.
- ``devices``: ``[]`` for a machine without microphones; ``FakeDevice(rates_hz=
  frozenset({48000}), default_samplerate=48000)`` for a 48 kHz-only device.
- ``busy``: opening the stream fails with PortAudio's "Device unavailable".
- ``unplug_after_s`` + ``unplug``: after that much audio, ``"finish"`` makes
  the last callback carry an ``input_overflow`` status and the stream end on
  its own (``finished_callback``, ``active`` False, and ``abort``/``stop``/
  ``close`` then raise ``PortAudioError``, as ALSA does for a vanished device);
  ``"stall"`` stops the callbacks while the stream still claims to be active.
- ``overrun_every``: every n-th callback carries an ``input_overflow`` status
  (PortAudio dropped input; the stream goes on).
- Output: ``output_available`` False makes opening an ``OutputStream`` fail as
  on a machine without speakers (``FakeOutputStream.lose_device()`` sets it);
  ``fail_start`` is raised by the next ``OutputStream.start()``.
- ``play(data, samplerate, device)`` records ``(len(data), samplerate, device)``
  in ``played`` and the calling thread's name in ``play_threads``;
  ``fail_play`` makes it raise as without an output device.

``streams`` lists every stream opened, input and output, in order.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

PA_INVALID_CHANNEL_COUNT = -9998
PA_INVALID_SAMPLE_RATE = -9997
PA_INVALID_DEVICE = -9996
PA_DEVICE_UNAVAILABLE = -9985
PA_UNANTICIPATED_HOST_ERROR = -9999

if TYPE_CHECKING:
    from tests.support.fake_output_stream import FakeOutputStream


class PortAudioError(Exception):
    """Same shape as ``sounddevice.PortAudioError``: (message, PaErrorCode[, host info])."""


class CallbackStop(Exception):
    pass


class CallbackAbort(Exception):
    pass


class CallbackFlags:
    """The status flags PortAudio passes to the callback (the subset we set)."""

    def __init__(self, input_overflow: bool = False, input_underflow: bool = False) -> None:
        self.input_overflow = input_overflow
        self.input_underflow = input_underflow

    def __bool__(self) -> bool:
        return self.input_overflow or self.input_underflow

    def __repr__(self) -> str:
        return f"<CallbackFlags overflow={self.input_overflow} underflow={self.input_underflow}>"


@dataclass
class FakeDevice:
    name: str = "Fake USB Microphone"
    max_input_channels: int = 1
    max_output_channels: int = 0
    default_samplerate: float = 16000.0
    rates_hz: frozenset[int] | None = None  # None: any rate works
    channel_counts: frozenset[int] | None = None  # None: 1..max_input_channels


class FakeInputStream:
    def __init__(
        self,
        owner: FakeSoundDevice,
        *,
        samplerate: float | None = None,
        blocksize: int | None = None,
        device: int | str | None = None,
        channels: int | None = None,
        dtype: str | None = None,
        callback: Callable[..., None] | None = None,
        finished_callback: Callable[[], None] | None = None,
        **_: Any,
    ) -> None:
        self._owner = owner
        index = owner._resolve(device)
        info = owner.devices[index]
        self.device = index
        self.samplerate = float(samplerate or info.default_samplerate)
        self.channels = channels or 1
        owner.check_input_settings(index, self.channels, dtype, self.samplerate)
        if owner.busy:
            raise PortAudioError(
                "Error opening InputStream: Device unavailable", PA_DEVICE_UNAVAILABLE
            )
        if dtype not in (None, "float32"):
            raise ValueError(f"the fake only delivers float32, not {dtype}")
        if owner.audio is not None and round(self.samplerate) != owner.audio_rate_hz:
            raise ValueError(
                f"the fake replays audio at {owner.audio_rate_hz} Hz; the stream asked for "
                f"{self.samplerate:.0f} Hz"
            )
        self.blocksize = blocksize or 512
        self.callback = callback
        self.finished_callback = finished_callback
        self.closed = False
        self.lost = False
        self.callbacks = 0
        self._active = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        owner._opened_stream(self)

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        self._check_lost("start")
        self._active = True
        self._thread = threading.Thread(target=self._run, name="fake-portaudio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt()
        self._check_lost("stop")

    def abort(self) -> None:
        self._halt()
        self._check_lost("abort")

    def close(self) -> None:
        self._halt()
        self.closed = True
        self._check_lost("close")

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._active = False

    def _check_lost(self, what: str) -> None:
        if self.lost:
            raise PortAudioError(
                f"Error in {what}: Unanticipated host error", PA_UNANTICIPATED_HOST_ERROR
            )

    def _source(self, start: int, frames: int) -> npt.NDArray[np.float32]:
        audio = self._owner.audio
        out = np.zeros(frames, dtype=np.float32)
        if audio is not None and start < len(audio):
            piece = audio[start : start + frames]
            out[: len(piece)] = piece
        return out

    def _run(self) -> None:
        owner = self._owner
        rate = self.samplerate
        n = self.blocksize
        indata = np.zeros((n, self.channels), dtype=np.float32)  # reused, like PortAudio's
        unplug_at = None if owner.unplug_after_s is None else round(owner.unplug_after_s * rate)
        t0 = time.monotonic()
        done = 0
        try:
            while not self._stop.is_set():
                if math.isfinite(owner.speed):
                    wait = t0 + (done + n) / rate / owner.speed - time.monotonic()
                    if wait > 0 and self._stop.wait(wait):
                        break
                status = CallbackFlags()
                every = owner.overrun_every
                if every is not None and (self.callbacks + 1) % every == 0:
                    status.input_overflow = True
                if unplug_at is not None and done + n >= unplug_at:
                    if owner.unplug == "stall":
                        self._stop.wait()
                        break
                    status.input_overflow = True
                    self.lost = True
                indata[:] = self._source(done, n)[:, None]
                assert self.callback is not None
                stamp = SimpleNamespace(inputBufferAdcTime=done / rate, currentTime=done / rate)
                try:
                    self.callback(indata, n, stamp, status)
                except (CallbackStop, CallbackAbort):
                    break
                self.callbacks += 1
                done += n
                if self.lost:
                    break
        finally:
            self._active = False
            if self.finished_callback is not None:
                self.finished_callback()


class FakeSoundDevice:
    """Use like the ``sounddevice`` module: ``MicrophoneSource(sounddevice_module=fake)``."""

    PortAudioError = PortAudioError
    CallbackFlags = CallbackFlags
    CallbackStop = CallbackStop
    CallbackAbort = CallbackAbort

    def __init__(
        self,
        audio: npt.NDArray[np.float32] | None = None,
        *,
        audio_rate_hz: int = 16000,
        devices: list[FakeDevice] | None = None,
        speed: float = 1.0,
        busy: bool = False,
        unplug_after_s: float | None = None,
        unplug: str = "finish",
        overrun_every: int | None = None,
        output_available: bool = True,
        fail_play: bool = False,
    ) -> None:
        self.audio = audio
        self.audio_rate_hz = audio_rate_hz
        self.devices = [FakeDevice()] if devices is None else devices
        self.speed = speed
        self.busy = busy
        self.unplug_after_s = unplug_after_s
        self.unplug = unplug
        self.overrun_every = overrun_every
        self.output_available = output_available
        self.fail_start: BaseException | None = None
        self.fail_play = fail_play
        self.played: list[tuple[int, int, object]] = []
        self.play_threads: list[str] = []
        self.streams: list[FakeInputStream | FakeOutputStream] = []
        self._opened = threading.Condition()
        first_input = next((i for i, d in enumerate(self.devices) if d.max_input_channels), -1)
        first_output = next((i for i, d in enumerate(self.devices) if d.max_output_channels), -1)
        self.default = SimpleNamespace(device=[first_input, first_output])

    def InputStream(self, **kwargs: Any) -> FakeInputStream:
        return FakeInputStream(self, **kwargs)

    def OutputStream(self, **kwargs: Any) -> FakeOutputStream:
        from tests.support.fake_output_stream import FakeOutputStream

        if not self.output_available:
            raise PortAudioError("Error querying device -1", PA_INVALID_DEVICE)
        stream = FakeOutputStream(self, **kwargs)
        self._opened_stream(stream)
        return stream

    def play(self, data: npt.NDArray[np.float32], samplerate: int, device: object = None) -> None:
        self.play_threads.append(threading.current_thread().name)
        if self.fail_play:
            raise PortAudioError("Error opening OutputStream: no default output device")
        self.played.append((len(data), samplerate, device))

    @property
    def last_stream(self) -> Any:
        with self._opened:
            return self.streams[-1]

    def wait_for_streams(self, count: int, timeout_s: float = 5.0) -> bool:
        with self._opened:
            return self._opened.wait_for(lambda: len(self.streams) >= count, timeout_s)

    def _opened_stream(self, stream: FakeInputStream | FakeOutputStream) -> None:
        with self._opened:
            self.streams.append(stream)
            self._opened.notify_all()

    def _info(self, index: int) -> dict[str, Any]:
        d = self.devices[index]
        return {
            "name": d.name,
            "index": index,
            "hostapi": 0,
            "max_input_channels": d.max_input_channels,
            "max_output_channels": d.max_output_channels,
            "default_samplerate": d.default_samplerate,
            "default_low_input_latency": 0.01,
            "default_high_input_latency": 0.04,
        }

    def _resolve(self, device: int | str | None) -> int:
        if device is None:
            device = self.default.device[0]
        if isinstance(device, str):
            matches = [i for i, d in enumerate(self.devices) if device.lower() in d.name.lower()]
            device = matches[0] if matches else -1
        if not 0 <= device < len(self.devices):
            raise PortAudioError(f"Error querying device {device}", PA_INVALID_DEVICE)
        return device

    def query_devices(self, device: int | str | None = None, kind: str | None = None) -> Any:
        if device is not None:
            return self._info(self._resolve(device))
        if kind in ("input", "output"):
            index = self.default.device[0 if kind == "input" else 1]
            if index < 0:
                raise PortAudioError(f"Error querying device {index}", PA_INVALID_DEVICE)
            return self._info(index)
        return [self._info(i) for i in range(len(self.devices))]

    def query_hostapis(self, index: int | None = None) -> Any:
        api = {"name": "Fake ALSA", "devices": list(range(len(self.devices)))}
        return api if index is not None else (api,)

    def check_input_settings(
        self,
        device: int | str | None = None,
        channels: int | None = None,
        dtype: str | None = None,
        samplerate: float | None = None,
        **_: Any,
    ) -> None:
        d = self.devices[self._resolve(device)]
        counts = d.channel_counts or frozenset(range(1, d.max_input_channels + 1))
        if (channels or 1) not in counts:
            raise PortAudioError("Invalid number of channels", PA_INVALID_CHANNEL_COUNT)
        rate = round(samplerate or d.default_samplerate)
        if d.rates_hz is not None and rate not in d.rates_hz:
            raise PortAudioError("Invalid sample rate", PA_INVALID_SAMPLE_RATE)
