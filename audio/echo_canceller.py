"""Acoustic echo cancellation: the microphone minus what the speakers just played.

On laptop speakers the microphone hears the reply; without this, the VAD
calls the reply speech and Harken pauses for (or answers) its own voice.
WebRTC's AEC3 (``livekit.rtc.AudioProcessingModule``) removes it, given the
exact signal the player wrote as the *reference*, in 10 ms frames, with the
reference fed before the microphone frame that may contain its echo.

Alignment is the part that is ours. PortAudio stamps every callback: the
player's block will reach the DAC at ``outputBufferDacTime``, the
microphone's block left the ADC at ``inputBufferAdcTime`` (both on the
stream's clock; ``currentTime`` is "now" on that clock). ``stream_clock_s``
turns those stamps into ``time.monotonic()`` seconds, so both sides share one
timeline whatever the host API's clock is. The player writes each block into
``EchoReference`` at the time it will be heard (resampled from the voice's
22.05 kHz to 16 kHz with ``soxr.ResampleStream``); for each 10 ms microphone
frame captured at time ``t`` the canceller reads what was playing from
``t + AHEAD_S`` on. Per-callback stamps matter: counting samples from the first
callback is off by the burst PortAudio delivers at start-up (0.7 s on the
PulseAudio test rig). AEC3 cancels an echo only of reference it was given
before (or with) the microphone frame holding it; a frame captured at ``t``
holds what the speakers played from ``t - acoustic delay`` on, and on a
laptop that delay is ~1 ms, so the reference must be read *ahead* of ``t``:
``AHEAD_S`` keeps it ahead of its echo even when a stamp is 10 ms late or
early; the acoustic delay itself (~1 ms on a laptop, 40 ms on the test rig's
loopback) is found by AEC3's own delay estimator. (Read 10 ms behind ``t``
instead, an echo 1–5 ms late lost 10 dB of cancellation for 42–47 dB ahead —
``test_an_echo_a_millisecond_late_is_cancelled``; the rig's 40 ms hid it.)
Reading ahead needs the player to have written that far, which its output
latency and the microphone's input latency (together well over 10 ms) see to:
on the rig 4 reads in 619 during playback reached past what was written, at
the starts and ends of the sound.

Measured on the PulseAudio rig (tests/bench/bench_echo.py): see the README's
figures. Cost: a microphone block is a handful of numpy calls on buffers made
once, and two native calls per 10 ms frame (``livekit_apm``): 0.17–0.19 ms of
CPU per frame in Harken on the rig, where the public livekit calls and
per-frame copies cost 0.25–0.27 ms (``bench_echo --cpu`` measures it offline).
Threads: ``EchoReference.push`` runs on the player's audio thread,
``EchoCanceller.process`` on the microphone's; the reference has a lock, the
canceller is used by one thread at a time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from .livekit_apm import FRAME_SAMPLES, RATE_HZ, LivekitApm

log = logging.getLogger(__name__)

AHEAD_S = 0.010  # the reference read is this much newer than the microphone frame
HISTORY_S = 4.0  # how much reference is kept
REANCHOR_S = 0.020  # a microphone stamp this far from the running timeline restarts it
SHIFT_S = 0.003  # player stamps this far from the timeline on average move it
UNDERRUN_S = 0.015  # one player stamp this far off moves it at once (a gap in the sound)
RESTART_S = 0.200  # ... this far: a new output stream, the timeline starts over
DRIFT_GAIN = 0.02  # how much of a stamp's deviation the timelines follow
MAX_WINDOWS = 3600  # an hour of speaking
ACTIVE_REFERENCE_RMS = 10 ** (-50 / 20)  # a frame with reference above -50 dBFS counts
_ACTIVE_FRAME_ENERGY = ACTIVE_REFERENCE_RMS**2 * FRAME_SAMPLES

Samples = npt.NDArray[np.float32]


def stream_clock_s(pa_time_s: float, pa_now_s: float, now_s: float | None = None) -> float:
    """A PortAudio stream time as ``time.monotonic()`` seconds.

    ``pa_now_s`` is the callback's ``currentTime`` (read at the same instant as
    ``now_s``); the difference is how far in the past or future ``pa_time_s`` is.
    Some host APIs report zeros: then the stamp is "now"."""
    now = time.monotonic() if now_s is None else now_s
    if pa_time_s <= 0.0 or pa_now_s <= 0.0:
        return now
    return now + (pa_time_s - pa_now_s)


class EchoReference:
    """What the speakers play, on the monotonic timeline, at 16 kHz.

    ``push`` is given each block the player writes (after any volume change:
    the exact signal) and when its first sample reaches the DAC. ``read``
    returns the samples that were playing at a given time; silence where
    nothing was written (before playback, during gaps, or older than
    ``HISTORY_S``)."""

    def __init__(self, *, history_s: float = HISTORY_S) -> None:
        self._size = int(history_s * RATE_HZ)
        self._buf = np.zeros(self._size, dtype=np.float32)
        self._stamp = np.full(self._size, -1, dtype=np.int64)  # absolute index held there
        self._ramp = np.arange(self._size, dtype=np.int64)
        self._valid = np.zeros(self._size, dtype=bool)  # read_into's scratch
        self._lock = threading.Lock()
        self._resampler: Any = None
        self._source_rate = 0
        self._anchor_index = 0  # absolute 16 kHz index of the timeline's first sample
        self._in_count = 0  # source samples pushed since the anchor
        self._out_count = 0  # 16 kHz samples produced since the anchor
        self._anchor_s = 0.0
        self._drift_s = 0.0  # the stamps' running mean deviation from the timeline
        self.reanchors = 0  # the timeline started over (a new output stream)
        self.shifts = 0  # the timeline moved to follow the stamps

    def push(self, block: npt.NDArray[np.floating[Any]], rate_hz: int, dac_time_s: float) -> None:
        """Player thread: ``block`` (mono, ``rate_hz``) starts playing at ``dac_time_s``.

        Blocks are laid end to end; stamps that stray from that timeline by more than
        ``SHIFT_S`` on average (clock drift), or one by more than ``UNDERRUN_S`` (an
        underrun), move the rest of it there; one more than ``RESTART_S`` away (a new
        output stream) starts it over."""
        data = np.asarray(block, dtype=np.float32).reshape(-1)
        deviation_s = dac_time_s - (self._anchor_s + self._in_count / max(rate_hz, 1))
        if rate_hz != self._source_rate or abs(deviation_s) > RESTART_S:
            self._restart(rate_hz, dac_time_s)
        else:
            # Stamps jitter by milliseconds on a busy machine while the sound does not:
            # follow their average, and jump only for a gap as long as an underrun's.
            self._drift_s += DRIFT_GAIN * (deviation_s - self._drift_s)
            if abs(deviation_s) > UNDERRUN_S or abs(self._drift_s) > SHIFT_S:
                shift_s = deviation_s if abs(deviation_s) > UNDERRUN_S else self._drift_s
                self._anchor_s += shift_s
                self._anchor_index += round(shift_s * RATE_HZ)
                log.debug(
                    "echo reference: timeline moved %+.1f ms (stamp %+.1f ms, mean %+.1f ms)",
                    1000 * shift_s,
                    1000 * deviation_s,
                    1000 * self._drift_s,
                )
                self._drift_s = 0.0
                self.shifts += 1
        self._in_count += data.size
        if rate_hz == RATE_HZ:
            out = data
        else:
            out = np.asarray(self._resampler.resample_chunk(data), dtype=np.float32)
        if out.size == 0:
            return
        start = self._anchor_index + self._out_count
        self._out_count += out.size
        with self._lock:
            self._write(start, out)

    def _restart(self, rate_hz: int, dac_time_s: float) -> None:
        import soxr

        if self._source_rate:
            self.reanchors += 1
        self._source_rate = rate_hz
        self._resampler = None
        if rate_hz != RATE_HZ:
            self._resampler = soxr.ResampleStream(rate_hz, RATE_HZ, 1, dtype="float32")
        self._anchor_s = dac_time_s
        self._drift_s = 0.0
        self._anchor_index = round(dac_time_s * RATE_HZ)
        self._in_count = 0
        self._out_count = 0

    def _write(self, start: int, out: Samples) -> None:
        if out.size > self._size:
            start, out = start + out.size - self._size, out[-self._size :]
        for slot, at, count in self._ring(start, out.size):
            self._buf[slot : slot + count] = out[at : at + count]
            np.add(self._ramp[:count], start + at, out=self._stamp[slot : slot + count])

    def _ring(self, start: int, count: int) -> list[tuple[int, int, int]]:
        """Absolute indices ``start`` … ``start + count - 1`` (count ≤ the history) as
        contiguous pieces of the ring: (slot, offset in the span, length)."""
        slot = start % self._size
        first = min(count, self._size - slot)
        if first == count:
            return [(slot, 0, count)]
        return [(slot, 0, first), (0, first, count - first)]

    def read(self, start_s: float, count: int) -> Samples:
        """The ``count`` samples that played from ``start_s`` on (zeros where none did)."""
        return self.read_into(start_s, np.empty(count, dtype=np.float32))

    def read_into(self, start_s: float, out: Samples) -> Samples:
        """``read`` into ``out`` (its length is the count); returns ``out``."""
        start = round(start_s * RATE_HZ)
        out[:] = 0.0
        with self._lock:
            for first in range(0, out.size, self._size):  # one pass unless out > history
                span = out[first : first + self._size]
                for slot, at, count in self._ring(start + first, span.size):
                    valid = self._valid[:count]
                    np.equal(
                        self._stamp[slot : slot + count],
                        self._ramp[:count] + (start + first + at),
                        out=valid,
                    )
                    np.copyto(span[at : at + count], self._buf[slot : slot + count], where=valid)
        return out


class Apm(Protocol):
    """One echo-cancelling backend, fed a block at a time: ``reverse`` (the reference) and
    ``capture`` (the microphone) are int16, the same length, a whole number of 10 ms
    frames; each frame's reference goes in before its capture frame, and ``capture`` is
    overwritten with the cleaned signal."""

    def process(self, reverse: npt.NDArray[np.int16], capture: npt.NDArray[np.int16]) -> None: ...


@dataclass
class EchoStats:
    """What the canceller did since it was made (for logs and the benchmark)."""

    frames: int = 0
    cpu_s: float = 0.0
    echo_in_energy: float = 0.0  # microphone energy in frames while the reference played
    echo_out_energy: float = 0.0  # the same frames after cancellation
    restarts: int = 0  # the microphone's timeline was re-anchored
    stray_stamps: int = 0  # microphone stamps far off the timeline, alone (not followed)
    # Per second of processed audio with the reference playing: (wall time at its end,
    # energy in, energy out), so a benchmark can leave out the seconds the user spoke.
    windows: list[tuple[float, float, float]] = field(default_factory=list)
    _window: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # frames, in, out

    @property
    def cpu_per_frame_ms(self) -> float:
        return 1000 * self.cpu_s / self.frames if self.frames else 0.0

    @property
    def reduction_db(self) -> float:
        """Energy removed while the speakers played (includes any double talk)."""
        if self.echo_in_energy <= 0 or self.echo_out_energy <= 0:
            return 0.0
        return float(10 * np.log10(self.echo_in_energy / self.echo_out_energy))


class EchoCanceller:
    """Removes the speakers' echo from 16 kHz microphone samples (see the module docstring).

    ``process(samples, start_s)``: ``samples`` were captured from ``start_s``
    (monotonic seconds) on; returns the cleaned samples available so far (up to
    9 samples are held until the next call completes their 10 ms frame)."""

    def __init__(
        self, reference: EchoReference, *, apm: Apm | None = None, ahead_s: float = AHEAD_S
    ) -> None:
        self.reference = reference
        self._apm: Apm = apm if apm is not None else LivekitApm()
        self._ahead_s = ahead_s
        # Buffers reused from call to call (grown for a larger block): row 0 the
        # microphone's samples (the held ones first), row 1 the reference; scratch; the
        # same as int16. One row each, so that each step is one numpy call for both.
        self._float = np.zeros((2, 0), dtype=np.float32)
        self._scratch = np.zeros((2, 0), dtype=np.float32)
        self._int16 = np.zeros((2, 0), dtype=np.int16)
        self._held = 0  # samples at the start of row 0 waiting for a whole frame
        self._next_s: float | None = None  # when the next new sample was captured
        self._stray_s: float | None = None  # ... according to the last stamp far off
        self.stats = EchoStats()

    def process(self, samples: Samples, start_s: float) -> Samples:
        """``samples`` were captured from ``start_s`` on; returns the cleaned samples of
        every complete 10 ms frame (the rest is held for the next call)."""
        began = time.thread_time()
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        start_s = self._continue_at(start_s, data.size)
        total = self._held + data.size
        if total > self._float.shape[1]:
            self._grow(total)
        mic_row = self._float[0]
        mic_row[self._held : total] = data
        n = total // FRAME_SAMPLES * FRAME_SAMPLES
        if n == 0:
            self._held = total
            return np.zeros(0, dtype=np.float32)
        both = self._float[:, :n]
        self.reference.read_into(start_s + self._ahead_s, both[1])
        both16 = self._int16[:, :n]
        _to_int16(both, both16, self._scratch[:, :n])
        self._apm.process(both16[1], both16[0])
        out: Samples = both16[0].astype(np.float32)
        out *= np.float32(1 / 32768)
        self._count(both[0], both[1], out)
        self._held = total - n
        mic_row[: self._held] = mic_row[n:total]
        self.stats.cpu_s += time.thread_time() - began
        return out

    def _grow(self, size: int) -> None:
        size = max(size, 2 * self._float.shape[1], 4 * FRAME_SAMPLES)
        grown = np.zeros((2, size), dtype=np.float32)
        grown[0, : self._held] = self._float[0, : self._held]
        self._float = grown
        self._scratch = np.zeros((2, size), dtype=np.float32)
        self._int16 = np.zeros((2, size), dtype=np.int16)

    def _continue_at(self, stamp_s: float, count: int) -> float:
        """The time of the first held (or new) sample: the running timeline, nudged
        towards the callbacks' stamps so it follows a drifting clock without jumping
        on every jittery stamp. A stamp far off restarts it only if the next one agrees
        (a reopened stream, dropped input): on the rig one stamp in a run is sometimes
        21–68 ms off and the next is back on time, and following it moved the
        reference by that much, twice."""
        held_s = self._held / RATE_HZ
        if self._next_s is None:
            self._next_s = stamp_s
        elif abs(stamp_s - self._next_s) <= REANCHOR_S:
            self._stray_s = None
            self._next_s += DRIFT_GAIN * (stamp_s - self._next_s)
        elif self._stray_s is not None and abs(stamp_s - self._stray_s) <= REANCHOR_S:
            self.stats.restarts += 1
            log.debug(
                "echo canceller: microphone timeline restarted %+.1f ms off",
                1000 * (stamp_s - self._next_s),
            )
            self._next_s = stamp_s
            self._stray_s = None
        else:  # off, alone so far: keep the timeline, see what the next stamp says
            self.stats.stray_stamps += 1
            log.debug(
                "echo canceller: microphone stamp %+.1f ms off", 1000 * (stamp_s - self._next_s)
            )
            self._stray_s = stamp_s + count / RATE_HZ
        first_s = self._next_s - held_s
        self._next_s += count / RATE_HZ
        return first_s

    def _count(self, mic: Samples, ref: Samples, out: Samples) -> None:
        """Per block: the energies of the frames in which the reference played."""
        stats = self.stats
        frames = mic.size // FRAME_SAMPLES
        stats.frames += frames
        by_frame = (frames, FRAME_SAMPLES)
        ref_frames = ref.reshape(by_frame)
        active = np.einsum("ij,ij->i", ref_frames, ref_frames) > _ACTIVE_FRAME_ENERGY
        window = stats._window
        window[0] += frames
        if active.all():  # while the reply plays: the whole block
            energy_in, energy_out = float(np.dot(mic, mic)), float(np.dot(out, out))
        elif active.any():
            mic_active = mic.reshape(by_frame)[active].reshape(-1)
            out_active = out.reshape(by_frame)[active].reshape(-1)
            energy_in = float(np.dot(mic_active, mic_active))
            energy_out = float(np.dot(out_active, out_active))
        else:
            energy_in = energy_out = 0.0
        stats.echo_in_energy += energy_in
        stats.echo_out_energy += energy_out
        window[1] += energy_in
        window[2] += energy_out
        if window[0] >= RATE_HZ // FRAME_SAMPLES:
            if window[1] > 0 and len(stats.windows) < MAX_WINDOWS:
                stats.windows.append((time.time(), window[1], window[2]))
            stats._window = [0.0, 0.0, 0.0]

    def log_stats(self) -> None:
        stats = self.stats
        if stats.frames:
            log.info(
                "echo canceller: %d frames, %.3f ms CPU per 10 ms frame, %.1f dB echo "
                "reduction while speaking; reference timeline: %d restarts, %d shifts; "
                "microphone timeline: %d restarts, %d stray stamps",
                stats.frames,
                stats.cpu_per_frame_ms,
                stats.reduction_db,
                self.reference.reanchors,
                self.reference.shifts,
                stats.restarts,
                stats.stray_stamps,
            )
            log.debug("echo canceller windows: %s", json.dumps(stats.windows))


def _to_int16(samples: Samples, out: npt.NDArray[np.int16], scratch: Samples) -> None:
    """``samples`` (±1.0 full scale) rounded to int16 into ``out``, clipped."""
    np.multiply(samples, np.float32(32768.0), out=scratch)
    np.rint(scratch, out=scratch)
    np.clip(scratch, -32768, 32767, out=scratch)
    out[:] = scratch
