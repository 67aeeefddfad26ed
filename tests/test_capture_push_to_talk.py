"""PushToTalkRecorder returns exactly press..release plus the pre-roll, with no VAD gating."""

from __future__ import annotations

import numpy as np

from audio.push_to_talk import PushToTalkRecorder
from tests.support.speech import silence


def ramp(n_blocks: int, start: int = 0) -> list[np.ndarray]:
    """Distinct blocks: sample k of the stream holds k (as float32, exact below 2**24)."""
    return [
        np.arange(start + i * 512, start + (i + 1) * 512, dtype=np.float32) for i in range(n_blocks)
    ]


def test_release_returns_preroll_plus_what_was_held() -> None:
    rec = PushToTalkRecorder(preroll_s=0.3)  # 4800 samples
    blocks = ramp(40)
    for b in blocks[:20]:
        rec.feed(b)
    assert not rec.recording
    rec.press()
    assert rec.recording
    for b in blocks[20:35]:
        rec.feed(b)
    assert rec.recorded_s == 15 * 512 / 16000
    audio = rec.release()
    assert not rec.recording and audio is not None and audio.dtype == np.float32
    pressed_at = 20 * 512
    np.testing.assert_array_equal(audio, np.arange(pressed_at - 4800, 35 * 512, dtype=np.float32))
    for b in blocks[35:]:  # after release nothing is recorded
        rec.feed(b)
    assert rec.release() is None


def test_silence_is_kept_too_no_voice_gating() -> None:
    rec = PushToTalkRecorder(preroll_s=0.0)
    rec.press()
    rec.feed(silence(0.5))
    audio = rec.release()
    assert audio is not None and len(audio) == 8000 and not audio.any()


def test_short_history_gives_a_short_preroll() -> None:
    rec = PushToTalkRecorder(preroll_s=0.3)
    rec.feed(ramp(1)[0])  # only 32 ms heard before the press
    rec.press()
    rec.feed(ramp(1, start=512)[0])
    audio = rec.release()
    assert audio is not None
    np.testing.assert_array_equal(audio, np.arange(1024, dtype=np.float32))


def test_nothing_captured_is_none() -> None:
    rec = PushToTalkRecorder()
    assert rec.release() is None  # never pressed
    for b in ramp(20):
        rec.feed(b)
    rec.press()
    assert rec.release() is None  # a pre-roll alone is not a recording


def test_press_while_held_does_not_restart() -> None:
    rec = PushToTalkRecorder(preroll_s=0.0)
    rec.press()
    rec.feed(ramp(2)[0])
    rec.press()
    rec.feed(ramp(2)[1])
    audio = rec.release()
    assert audio is not None and len(audio) == 1024


def test_fed_blocks_are_copied() -> None:
    rec = PushToTalkRecorder(preroll_s=0.0)
    rec.press()
    buffer = np.ones(512, np.float32)
    rec.feed(buffer)
    buffer[:] = 0.0  # PortAudio-style buffer reuse must not change the recording
    audio = rec.release()
    assert audio is not None and audio.all()
