"""Level meter on known signals; the block chunker and resampler that shape capture audio."""

from __future__ import annotations

import numpy as np
import pytest

from audio.capture import BlockChunker, Resampler, resample
from audio.level import FLOOR_DBFS, LevelMeter
from tests.support.speech import sine, white_noise


def test_full_scale_sine_is_minus_3_dbfs_rms() -> None:
    level = LevelMeter().update(sine(1000, 0.032 * 10, 1.0)[:512])
    assert level.rms_dbfs == pytest.approx(-3.01, abs=0.05)
    assert level.peak_dbfs == pytest.approx(0.0, abs=0.05)


def test_half_amplitude_is_6_db_lower() -> None:
    level = LevelMeter().update(sine(440, 0.1, 0.5)[:1600])
    assert level.rms_dbfs == pytest.approx(-9.03, abs=0.05)
    assert level.peak_dbfs == pytest.approx(-6.02, abs=0.05)


def test_silence_sits_on_the_floor() -> None:
    meter = LevelMeter()
    level = meter.update(np.zeros(512, np.float32))
    assert (level.rms_dbfs, level.peak_dbfs) == (FLOOR_DBFS, FLOOR_DBFS) == (-100.0, -100.0)
    assert meter.normalised == 0.0


def test_display_attacks_at_once_and_releases_slowly() -> None:
    meter = LevelMeter(release_db_per_s=24.0, range_db=60.0)
    meter.update(white_noise(0.032, -30))
    assert meter.smoothed_dbfs == pytest.approx(-30, abs=1.0)  # instant attack
    assert meter.normalised == pytest.approx(0.5, abs=0.02)
    loud = meter.smoothed_dbfs
    for _ in range(10):  # 0.32 s of silence: falls 24 dB/s × 0.32 s
        meter.update(np.zeros(512, np.float32))
    assert meter.smoothed_dbfs == pytest.approx(loud - 7.68, abs=0.01)
    for _ in range(200):
        meter.update(np.zeros(512, np.float32))
    assert meter.smoothed_dbfs == FLOOR_DBFS and meter.normalised == 0.0


def test_chunker_cuts_any_chunk_sizes_into_blocks() -> None:
    data = np.arange(5000, dtype=np.float32)
    chunker = BlockChunker(512)
    blocks = []
    for size in (1, 700, 300, 2000, 1999):
        start = sum(len(b) for b in blocks) + chunker.pending_samples
        blocks += chunker.push(data[start : start + size])
    assert [len(b) for b in blocks] == [512] * 9
    np.testing.assert_array_equal(np.concatenate(blocks), data[: 9 * 512])
    tail = chunker.flush()
    assert tail is not None and len(tail) == 512
    np.testing.assert_array_equal(tail[: 5000 - 9 * 512], data[9 * 512 :])
    assert not tail[5000 - 9 * 512 :].any() and chunker.flush() is None


@pytest.mark.parametrize("rate", [48000, 44100, 22050, 32000])
def test_resampler_keeps_a_tone_and_removes_what_would_alias(rate: int) -> None:
    resampler = Resampler(rate)
    tone = sine(1000, 1.0, 0.5, rate)
    pieces = [resampler.process(tone[i : i + 1411]) for i in range(0, len(tone), 1411)]
    held_back = 16000 - sum(len(piece) for piece in pieces)
    assert 0 <= held_back <= 0.025 * 16000  # available within 25 ms of its input
    out = np.concatenate([*pieces, resampler.flush()])
    assert len(out) == 16000
    expected = sine(1000, 1.0, 0.5)
    np.testing.assert_allclose(out[50:-50], expected[50:-50], atol=1e-3)  # no delay, no gain
    high = sine(0.45 * rate if rate < 32000 else 12000, 1.0, 0.5, rate)
    folded = Resampler(rate).process(high)[100:]
    assert 20 * np.log10(np.sqrt(np.mean(folded**2)) + 1e-12) < -60


@pytest.mark.parametrize("rate", [48000, 44100, 22050])
def test_resampler_in_blocks_matches_the_whole_clip(rate: int) -> None:
    """What the microphone gets block by block is what resampling the recording gives."""
    noise = white_noise(1.3 * rate / 16000, -20, seed=rate)  # 1.3 s at ``rate``
    clip = np.concatenate([noise, sine(440, 0.7, 0.3, rate)])
    whole = resample(clip, rate, 16000)
    assert len(whole) == round(len(clip) * 16000 / rate)
    resampler = Resampler(rate)
    sizes = [1, 480, 1411, 7, 4096]  # uneven blocks, as callbacks may deliver them
    pieces, at, i = [], 0, 0
    while at < len(clip):
        pieces.append(resampler.process(clip[at : at + sizes[i % len(sizes)]]))
        at += sizes[i % len(sizes)]
        i += 1
    streamed = np.concatenate([*pieces, resampler.flush()])
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-6)
    # ... and the content is the clip's: a 440 Hz tone where the tone was.
    tone_part = streamed[round(1.4 * 16000) : round(1.9 * 16000)]
    spectrum = np.abs(np.fft.rfft(tone_part))
    assert np.argmax(spectrum) * 16000 / len(tone_part) == pytest.approx(440, abs=3)


def test_resampler_at_16khz_passes_through() -> None:
    data = white_noise(0.1, -20)
    np.testing.assert_array_equal(Resampler(16000).process(data), data)
