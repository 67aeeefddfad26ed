"""The audio format every Harken source delivers, and the helpers that produce it.

Everything downstream (level meter, Silero VAD, segmenter, Whisper) expects
float32 mono numpy blocks of ``BLOCK_SAMPLES`` samples at ``SAMPLE_RATE_HZ``.
``AudioSource`` is the contract the microphone and file sources share;
``BlockChunker`` cuts arbitrary-length chunks into blocks; ``Resampler``
converts a device's native rate to 16 kHz as blocks arrive and ``resample``
converts a whole clip (both libsoxr).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt
import soxr

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
    """Streaming rate converter for audio that arrives in blocks (a 48 kHz device to 16 kHz).

    A thin wrapper over ``soxr.ResampleStream`` (libsoxr, "HQ" quality: the
    low-pass removes what would fold back above the output's Nyquist
    frequency). The output is time-aligned with the input; it becomes
    available ~10-20 ms after the input that produced it (the filter's
    look-ahead), and ``flush()`` returns that tail at the end of a stream.
    Fed in blocks, the result equals ``resample()`` of the whole signal.
    """

    def __init__(self, src_rate_hz: int, dst_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        if src_rate_hz <= 0 or dst_rate_hz <= 0:
            raise ValueError("sample rates must be positive")
        self.src_rate_hz = src_rate_hz
        self.dst_rate_hz = dst_rate_hz
        self.reset()

    @property
    def output_delay_s(self) -> float:
        """How much earlier than the last input sample the next output sample lies (the
        output is time-aligned, so this is what the filter still holds back)."""
        return self._in_samples / self.src_rate_hz - self._out_samples / self.dst_rate_hz

    def reset(self) -> None:
        self._in_samples = 0  # fed since the last reset
        self._out_samples = 0  # returned since the last reset
        self._stream = (
            None
            if self.src_rate_hz == self.dst_rate_hz
            else soxr.ResampleStream(self.src_rate_hz, self.dst_rate_hz, 1, dtype="float32")
        )

    def process(self, chunk: npt.NDArray[np.floating]) -> Block:
        """Feed input samples; return the output samples that are now complete."""
        data = np.ascontiguousarray(chunk, dtype=np.float32).reshape(-1)
        self._in_samples += len(data)
        if self._stream is None:
            self._out_samples += len(data)
            return data.copy()
        out: Block = self._stream.resample_chunk(data)
        self._out_samples += len(out)
        return out

    def flush(self) -> Block:
        """The end of the stream: the output still held back by the filter."""
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        out: Block = self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        self.reset()
        return out


def resample(audio: npt.NDArray[np.floating], from_hz: int, to_hz: int) -> Block:
    """A whole clip at another rate (``soxr.resample``), e.g. a voice's 22.05 kHz to the
    player's rate or to Whisper's 16 kHz; ``round(len * to_hz / from_hz)`` samples."""
    data = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    if from_hz == to_hz or data.size == 0:
        return data
    out: Block = soxr.resample(data, from_hz, to_hz)
    return out
