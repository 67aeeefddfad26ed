"""The audio format every Harken source delivers, and the helpers that produce it.

Everything downstream (level meter, Silero VAD, segmenter, Whisper) expects
float32 mono numpy blocks of ``BLOCK_SAMPLES`` samples at ``SAMPLE_RATE_HZ``.
``AudioSource`` is the contract the microphone and file sources share;
``BlockChunker`` cuts arbitrary-length chunks into blocks, ``Resampler``
converts a device's native rate to 16 kHz, in a streaming way.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt

SAMPLE_RATE_HZ = 16000
BLOCK_SAMPLES = 512  # 32 ms: the frame Silero VAD takes at 16 kHz

Block = npt.NDArray[np.float32]


class AudioSource(Protocol):
    """A stream of 16 kHz mono float32 blocks.

    ``async with source:`` opens it (raises ``CaptureError``); ``blocks()``
    yields blocks until the input ends or ``close()`` is called, and raises
    ``CaptureError`` when the device fails. A closed source can be opened
    again with a new ``async with``.
    """

    @property
    def stream_time_s(self) -> float:
        """Seconds of audio delivered by ``blocks()`` since the source was opened."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def blocks(self) -> AsyncIterator[Block]: ...

    def close(self) -> None:
        """End ``blocks()`` (after the blocks already delivered); safe to call twice."""
        ...


class BlockChunker:
    """Cuts a stream of arbitrary-length float32 chunks into fixed-size blocks."""

    def __init__(self, block_samples: int = BLOCK_SAMPLES) -> None:
        if block_samples <= 0:
            raise ValueError("block_samples must be positive")
        self.block_samples = block_samples
        self._pending = np.zeros(0, dtype=np.float32)

    @property
    def pending_samples(self) -> int:
        return len(self._pending)

    def push(self, chunk: npt.NDArray[np.floating]) -> list[Block]:
        """Add ``chunk``; return every complete block now available (copies)."""
        data = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if len(self._pending):
            data = np.concatenate([self._pending, data])
        n_full = len(data) // self.block_samples * self.block_samples
        blocks = [
            data[i : i + self.block_samples].copy() for i in range(0, n_full, self.block_samples)
        ]
        self._pending = data[n_full:].copy()
        return blocks

    def flush(self) -> Block | None:
        """The last partial block padded with zeros, or None if nothing is pending."""
        if not len(self._pending):
            return None
        block = np.zeros(self.block_samples, dtype=np.float32)
        block[: len(self._pending)] = self._pending
        self._pending = np.zeros(0, dtype=np.float32)
        return block


class Resampler:
    """Streaming windowed-sinc rate converter (e.g. a 48 kHz device to 16 kHz).

    Each output sample is a Kaiser-windowed sinc over the neighbouring input
    samples, with the filter coefficients for every fractional phase of the
    (rational) rate ratio precomputed, so a 32 ms block costs one gather and
    one dot product per output sample. The low-pass sits at 7 kHz for 16 kHz
    output (0.45 of the lower rate in general), so content above the output's
    Nyquist frequency is removed instead of folding back as aliases. Output is
    time-aligned with the input (no group delay); it lags by the filter's
    half-width (``half_width`` input samples, ~1.25 ms) in availability.
    """

    def __init__(self, src_rate_hz: int, dst_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        if src_rate_hz <= 0 or dst_rate_hz <= 0:
            raise ValueError("sample rates must be positive")
        g = math.gcd(src_rate_hz, dst_rate_hz)
        self._up = dst_rate_hz // g
        self._down = src_rate_hz // g
        self.src_rate_hz = src_rate_hz
        self.dst_rate_hz = dst_rate_hz
        half = max(8, math.ceil(1.25e-3 * src_rate_hz))
        self.half_width = half
        cutoff_hz = 0.4375 * min(src_rate_hz, dst_rate_hz)  # 7 kHz for 16 kHz output
        fc = cutoff_hz / src_rate_hz  # normalised to input samples
        beta = 8.0  # ~80 dB stop band
        offsets = np.arange(-half + 1, half + 1)  # input samples around the output position
        phases = np.arange(self._up) / self._up
        t = offsets[None, :] - phases[:, None]  # distance of each tap from the output position
        window = np.i0(beta * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, 1.0))) / np.i0(beta)
        taps = 2 * fc * np.sinc(2 * fc * t) * window
        taps /= taps.sum(axis=1, keepdims=True)  # unity gain at DC for every phase
        self._taps = taps.astype(np.float32)
        self._offsets = offsets
        self.reset()

    @property
    def output_delay_s(self) -> float:
        """How much earlier than the last input sample the next output sample lies: the
        next output is at input position ``next_out · down / up`` (time-aligned)."""
        end = self._buf_start + len(self._buf)
        return (end - self._next_out * self._down / self._up) / self.src_rate_hz

    def reset(self) -> None:
        # The buffer starts with ``half`` zeros standing in for the samples before time 0.
        self._buf = np.zeros(self.half_width, dtype=np.float32)
        self._buf_start = -self.half_width  # absolute input index of _buf[0]
        self._next_out = 0  # absolute index of the next output sample

    def process(self, chunk: npt.NDArray[np.floating]) -> Block:
        """Feed input samples; return the output samples that are now complete."""
        data = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if self._up == self._down:
            return data.copy()
        self._buf = np.concatenate([self._buf, data])
        end = self._buf_start + len(self._buf)  # exclusive absolute input index
        last_centre = end - 1 - self.half_width  # largest usable centre index
        n_end = -(-(last_centre + 1) * self._up // self._down) if last_centre >= 0 else 0
        if n_end <= self._next_out:
            return np.zeros(0, dtype=np.float32)
        n = np.arange(self._next_out, n_end, dtype=np.int64)
        pos = n * self._down
        centre = pos // self._up
        phase = pos % self._up
        idx = (centre - self._buf_start)[:, None] + self._offsets[None, :]
        out: Block = np.einsum("ij,ij->i", self._buf[idx], self._taps[phase]).astype(np.float32)
        self._next_out = n_end
        keep_from = (n_end * self._down) // self._up - self.half_width + 1
        drop = keep_from - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start = keep_from
        return out
