"""SpeechPlayer on a real audio stack: PortAudio → ALSA → PulseAudio null sink, whose
monitor we record, so "stop is silent at once" is checked on what a listener would hear."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import pytest

from audio.playback import ChunkStarted, SpeechPlayer
from tests.support.pulse import PulseMic

pytest_plugins = ["tests.support.pulse"]
pytestmark = pytest.mark.pulse

PLAY_RATE = 22_050  # Piper's rate; PulseAudio resamples to the 16 kHz sink
LISTEN_RATE = 16_000
FRAME = LISTEN_RATE // 100  # 10 ms
LOUD = 0.05  # RMS of a 10 ms frame that counts as sound (the tone's is ~0.35)
# What PulseAudio and ALSA buffer after our callback goes silent: PortAudio's
# "low" latency plus the sink's own. Generous, to catch a stop that does not stop.
DEVICE_TAIL_S = 0.25


class Listener:
    """Records the sink's monitor; ``frames_rms`` is the RMS of each 10 ms frame."""

    def __init__(self, sd: Any) -> None:
        self.sd = sd
        self.chunks: list[np.ndarray] = []
        self.lock = threading.Lock()
        self.grew = threading.Condition(self.lock)
        self.count = 0
        self.heard_sound = threading.Event()
        self.stream = sd.InputStream(
            samplerate=LISTEN_RATE, channels=1, dtype="float32", callback=self._callback
        )

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        block = indata[:, 0].copy()
        with self.lock:
            self.chunks.append(block)
            self.count += block.size
            self.grew.notify_all()
        if np.sqrt(np.mean(block**2)) > LOUD:
            self.heard_sound.set()

    @property
    def samples_heard(self) -> int:
        with self.lock:
            return self.count

    def wait_for_samples(self, count: int, timeout_s: float = 5.0) -> bool:
        with self.grew:
            return self.grew.wait_for(lambda: self.count >= count, timeout_s)

    def frames_rms(self) -> np.ndarray:
        with self.lock:
            audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)
        usable = audio.size // FRAME * FRAME
        frames = audio[:usable].reshape(-1, FRAME)
        return np.sqrt(np.mean(frames**2, axis=1))


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(PLAY_RATE * seconds)) / PLAY_RATE
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


async def test_speech_is_heard_and_stop_silences_it(pulse_mic: PulseMic) -> None:
    import sounddevice

    listener = Listener(sounddevice)
    player = SpeechPlayer(PLAY_RATE, sounddevice_module=sounddevice)
    started: list[str] = []
    player.add_listener(lambda e: started.append(e.text) if isinstance(e, ChunkStarted) else None)
    with listener.stream:
        try:
            player.enqueue(tone(5.0), "a long tone")
            assert await asyncio.to_thread(listener.heard_sound.wait, 5)
            assert await asyncio.to_thread(listener.wait_for_samples, LISTEN_RATE // 2)
            player.stop()
            stopped_at = listener.samples_heard // FRAME
            more = (stopped_at + 60) * FRAME  # 0.6 s more
            assert await asyncio.to_thread(listener.wait_for_samples, more)
        finally:
            player.close()
    rms = listener.frames_rms()
    assert np.count_nonzero(rms[:stopped_at] > LOUD) >= 20  # it played before the stop
    loud_after_stop = np.flatnonzero(rms[stopped_at:] > LOUD)
    tail_s = (loud_after_stop[-1] + 1) / 100 if loud_after_stop.size else 0.0
    print(f"sound heard after stop(): {tail_s * 1000:.0f} ms")
    assert tail_s <= DEVICE_TAIL_S, tail_s
    after = rms[stopped_at + int(DEVICE_TAIL_S * 100) :]
    assert after.size >= 30
    assert not np.any(after > LOUD), np.flatnonzero(after > LOUD)[:5]
    assert started == ["a long tone"]
