"""End to end: the real MicrophoneSource (PortAudio → ALSA → PulseAudio) and the real
segmenter hear jfk.flac played into a virtual sink whose monitor is the microphone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import decode_audio

from audio.microphone import MicrophoneSource
from audio.segmenter import SegmentEvent, SpeechEnded, SpeechSegmenter, SpeechStarted
from audio.vad import SileroVad
from tests.support.pulse import PulseMic

pytest_plugins = ["tests.support.pulse"]
pytestmark = pytest.mark.pulse


def best_correlation(heard: np.ndarray, original: np.ndarray) -> float:
    """Normalised cross-correlation peak: ~1 when ``heard`` is a stretch of ``original``."""
    n = 1 << int(np.ceil(np.log2(len(heard) + len(original))))
    xc = np.fft.irfft(np.fft.rfft(original, n) * np.conj(np.fft.rfft(heard, n)), n)
    lag = int(np.argmax(xc[: len(original)]))
    piece = original[lag : lag + len(heard)]
    m = min(len(piece), len(heard))
    a, b = piece[:m], heard[:m]
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


async def test_microphone_hears_jfk_as_one_utterance(pulse_mic: PulseMic, jfk_flac: Path) -> None:
    # JFK pauses ~1.1 s twice; a 1.5 s hangover keeps the sentence together.
    segmenter = SpeechSegmenter(SileroVad(), hangover_s=1.5)
    events: list[SegmentEvent] = []
    async with MicrophoneSource() as mic:
        assert mic.device_info is not None and mic.device_rate_hz == 16000
        player = pulse_mic.play(jfk_flac)
        async with asyncio.timeout(40):
            async for block in mic.blocks():
                events += segmenter.feed(block)
                if any(isinstance(e, SpeechEnded) for e in events):
                    break
    assert await asyncio.to_thread(player.wait, 10) == 0
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    ended = events[1]
    assert isinstance(ended, SpeechEnded)
    # In the file, speech runs from 0.32 s to 10.50 s (the same segmenter on the file).
    assert ended.duration_s == pytest.approx(10.18, abs=0.3)
    original = decode_audio(str(jfk_flac), sampling_rate=16000)
    assert best_correlation(ended.audio, original) > 0.95
