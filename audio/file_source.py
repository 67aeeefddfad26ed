"""An audio file as an ``AudioSource``: the microphone stand-in for headless runs and tests.

The file is decoded once (WAV, FLAC, MP3, … through faster-whisper's PyAV
decoder, which also resamples to 16 kHz mono) in a worker thread, then served
as 512-sample blocks. With ``realtime=True`` each block is released when a
microphone would have finished recording it; the due times are absolute, so
the pace does not drift however late the loop wakes up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import numpy.typing as npt

from .capture import BLOCK_SAMPLES, SAMPLE_RATE_HZ, Block
from .errors import AudioErrorKind, CaptureError

log = logging.getLogger(__name__)


def decode_file(path: str | Path) -> npt.NDArray[np.float32]:
    """The whole file as 16 kHz mono float32; ``CaptureError(BAD_FILE)`` if it cannot be read."""
    p = Path(path)
    if not p.is_file():
        raise CaptureError(
            AudioErrorKind.BAD_FILE, f"The audio file {p} does not exist. Check the path."
        )
    from faster_whisper import decode_audio  # heavy import (PyAV, ctranslate2): only when used

    try:
        with p.open("rb") as f:  # our own handle, so a decoding error cannot leak it
            audio = decode_audio(f, sampling_rate=SAMPLE_RATE_HZ)
    except Exception as exc:  # PyAV raises a zoo of errors (InvalidDataError, ValueError, …)
        log.warning("could not decode %s: %r", p, exc)
        raise CaptureError(
            AudioErrorKind.BAD_FILE,
            f"The file {p} could not be read as audio. Use a WAV, FLAC or MP3 file.",
        ) from exc
    return np.ascontiguousarray(audio, dtype=np.float32)


class FileSource:
    """Blocks from an audio file (see ``AudioSource``); the last block is zero-padded."""

    def __init__(
        self, path: str | Path, *, realtime: bool = False, block_samples: int = BLOCK_SAMPLES
    ) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.block_samples = block_samples
        self._audio: npt.NDArray[np.float32] | None = None
        self._samples = 0
        self._closing = False
        self._wake: asyncio.Event | None = None

    @property
    def stream_time_s(self) -> float:
        return self._samples / SAMPLE_RATE_HZ

    @property
    def duration_s(self) -> float:
        """Length of the decoded file (0 before it is opened)."""
        return 0.0 if self._audio is None else len(self._audio) / SAMPLE_RATE_HZ

    async def __aenter__(self) -> Self:
        if self._audio is None:
            self._audio = await asyncio.to_thread(decode_file, self.path)
        self._samples = 0
        self._closing = False
        self._wake = asyncio.Event()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closing = True
        if self._wake is not None:
            self._wake.set()

    async def blocks(self) -> AsyncIterator[Block]:
        audio, wake = self._audio, self._wake
        if audio is None or wake is None:
            raise RuntimeError("open the FileSource with 'async with' before reading it")
        loop = asyncio.get_running_loop()
        block_s = self.block_samples / SAMPLE_RATE_HZ
        start = loop.time()
        n = self.block_samples
        for index, offset in enumerate(range(0, len(audio), n)):
            if self.realtime:
                # Block i is complete (as from a microphone) at start + (i + 1) * block_s.
                delay = start + (index + 1) * block_s - loop.time()
                if delay > 0:
                    try:
                        async with asyncio.timeout(delay):
                            await wake.wait()  # set by close()
                    except TimeoutError:
                        pass
            else:
                await asyncio.sleep(0)  # let the loop breathe between blocks
            if self._closing:
                return
            block = audio[offset : offset + n]
            if len(block) < n:
                block = np.pad(block, (0, n - len(block)))
            else:
                block = block.copy()
            self._samples += n
            yield block
