"""FileSource: decoding, block shape, real-time pacing, closing, bad files."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import decode_audio

from audio.capture import BLOCK_SAMPLES, SAMPLE_RATE_HZ
from audio.errors import AudioErrorKind, CaptureError
from audio.file_source import FileSource
from tests.support.speech import silence, write_wav


async def test_blocks_cover_the_decoded_file(jfk_flac: Path) -> None:
    expected = decode_audio(str(jfk_flac), sampling_rate=SAMPLE_RATE_HZ)
    source = FileSource(jfk_flac)
    async with source:
        blocks = [b async for b in source.blocks()]
    assert all(b.shape == (BLOCK_SAMPLES,) and b.dtype == np.float32 for b in blocks)
    assert len(blocks) == -(-len(expected) // BLOCK_SAMPLES)
    audio = np.concatenate(blocks)
    np.testing.assert_array_equal(audio[: len(expected)], expected)
    assert not audio[len(expected) :].any()  # the last block is padded with zeros
    assert source.stream_time_s == pytest.approx(len(blocks) * BLOCK_SAMPLES / SAMPLE_RATE_HZ)
    assert source.duration_s == pytest.approx(11.0, abs=0.01)


async def test_reading_yields_to_the_event_loop(jfk_flac: Path) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    async with FileSource(jfk_flac) as source:
        async for _ in source.blocks():
            pass
    task.cancel()
    assert ticks > 300  # the other task ran between blocks


async def test_realtime_paces_like_a_microphone(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "one_second.wav", silence(1.0))
    async with FileSource(path, realtime=True) as source:
        started = time.monotonic()
        blocks = [b async for b in source.blocks()]
        elapsed = time.monotonic() - started
    assert len(blocks) == 32
    # Block i is released when a microphone would have finished recording it.
    assert 0.9 <= elapsed < 2.5


async def test_close_stops_a_realtime_read(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", silence(30.0))
    source = FileSource(path, realtime=True)
    async with source:
        got = []

        async def pump() -> None:
            async for block in source.blocks():
                got.append(block)
                if len(got) == 3:
                    source.close()

        await asyncio.wait_for(pump(), 2)
    assert len(got) == 3


async def test_reopening_replays_from_the_start(tmp_path: Path) -> None:
    ramp = np.linspace(-0.5, 0.5, 4 * BLOCK_SAMPLES).astype(np.float32)
    path = write_wav(tmp_path / "ramp.wav", ramp)
    source = FileSource(path)
    firsts = []
    for _ in range(2):
        async with source:
            firsts.append([b async for b in source.blocks()][0])
            assert source.stream_time_s == pytest.approx(4 * BLOCK_SAMPLES / SAMPLE_RATE_HZ)
    np.testing.assert_array_equal(firsts[0], firsts[1])


async def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.flac"
    with pytest.raises(CaptureError) as info:
        async with FileSource(path):
            pass
    assert info.value.kind is AudioErrorKind.BAD_FILE
    assert str(path) in str(info.value) and "does not exist" in str(info.value)


async def test_a_file_that_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 50)
    with pytest.raises(CaptureError) as info:
        async with FileSource(path):
            pass
    assert info.value.kind is AudioErrorKind.BAD_FILE
    assert str(path) in str(info.value) and "could not be read as audio" in str(info.value)
