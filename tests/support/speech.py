"""Test speech with known timings: espeak-ng sentences, silences and noises.

API (16 kHz mono float32 arrays everywhere):

- ``speech`` — session fixture, a ``SpeechLibrary`` caching its files in one
  temporary directory per test session (``pytest_plugins = ["tests.support.speech"]``
  in a test module makes it available).
- ``SpeechLibrary.say(text, voice="en-us", wpm=160) -> np.ndarray`` — the
  sentence spoken by espeak-ng, resampled to 16 kHz (cached per text).
- ``SpeechLibrary.wav(text, ...) -> Path`` — the same as a 16 kHz WAV file.
- ``compose(*parts) -> Composition`` — concatenates parts: a float is that many
  seconds of silence, an array is a clip. ``Composition.audio`` is the result;
  ``Composition.segments`` lists the true ``(start_s, end_s)`` of every clip's
  active part (``active_span``: first to last 10 ms frame above -40 dBFS RMS).
- ``write_wav(path, audio)`` — 16-bit PCM WAV at 16 kHz.
- Noises: ``silence(s)``, ``white_noise(s, level_dbfs, seed)``, ``click()``
  (a 2 ms full-scale impulse), ``cough(s, seed)`` (a burst of shaped noise with
  a sharp attack and fast decay), ``sine(freq_hz, s, amplitude, rate_hz)``.

Skips the requesting test when espeak-ng is not installed.

(PYTEST_DONT_REWRITE: test modules import this before registering it as a plugin.)
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

SAMPLE_RATE_HZ = 16000
ACTIVE_DBFS = -40.0

Audio = npt.NDArray[np.float32]


def silence(duration_s: float) -> Audio:
    return np.zeros(round(duration_s * SAMPLE_RATE_HZ), dtype=np.float32)


def sine(freq_hz: float, duration_s: float, amplitude: float = 1.0, rate_hz: int = 16000) -> Audio:
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def white_noise(duration_s: float, level_dbfs: float = -20.0, seed: int = 0) -> Audio:
    """Gaussian noise with the given RMS level."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(round(duration_s * SAMPLE_RATE_HZ))
    return (noise * 10 ** (level_dbfs / 20)).astype(np.float32)


def click(level: float = 0.9) -> Audio:
    """A 2 ms impulse, like a key press or a tap on the microphone."""
    out = np.zeros(32, dtype=np.float32)
    out[:4] = level
    out[4:8] = -level
    return out


def cough(duration_s: float = 0.15, seed: int = 1) -> Audio:
    """A loud, voiced-sounding noise burst: 5 ms attack, exponential decay."""
    n = round(duration_s * SAMPLE_RATE_HZ)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(n)
    noise = np.convolve(noise, np.ones(6) / 6, mode="same")  # darker, like a throat sound
    t = np.arange(n) / SAMPLE_RATE_HZ
    buzz = 0.5 * np.sign(np.sin(2 * np.pi * 140 * t))  # a little glottal buzz
    envelope = np.minimum(t / 0.005, 1.0) * np.exp(-t / (duration_s / 3))
    out = (noise + buzz) * envelope
    return (0.5 * out / np.max(np.abs(out))).astype(np.float32)


def active_span(audio: Audio, threshold_dbfs: float = ACTIVE_DBFS) -> tuple[float, float]:
    """First and last 10 ms frame whose RMS is above ``threshold_dbfs`` (seconds)."""
    frame = SAMPLE_RATE_HZ // 100
    n = -(-len(audio) // frame)
    padded = np.zeros(n * frame, dtype=np.float64)
    padded[: len(audio)] = audio
    rms = np.sqrt(np.mean(padded.reshape(n, frame) ** 2, axis=1))
    active = np.flatnonzero(rms > 10 ** (threshold_dbfs / 20))
    if not len(active):
        raise ValueError("the clip has no frame above the activity threshold")
    return active[0] * frame / SAMPLE_RATE_HZ, (active[-1] + 1) * frame / SAMPLE_RATE_HZ


def without_tail(audio: Audio, keep_s: float = 0.05) -> Audio:
    """``audio`` cut ``keep_s`` after its last active frame: espeak-ng ends every clip with
    ~0.35 s of silence, which would lengthen a pause composed after it."""
    _start, end = active_span(audio)
    return audio[: round((end + keep_s) * SAMPLE_RATE_HZ)]


@dataclass(frozen=True, eq=False)
class Composition:
    audio: Audio
    segments: list[tuple[float, float]]

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE_HZ


def compose(*parts: Audio | float) -> Composition:
    """Concatenate clips (arrays) and silences (floats, seconds); note each clip's span."""
    chunks: list[Audio] = []
    segments: list[tuple[float, float]] = []
    at = 0
    for part in parts:
        if isinstance(part, int | float):
            chunk = silence(float(part))
        else:
            chunk = np.asarray(part, dtype=np.float32)
            start, end = active_span(chunk)
            segments.append((at / SAMPLE_RATE_HZ + start, at / SAMPLE_RATE_HZ + end))
        chunks.append(chunk)
        at += len(chunk)
    return Composition(np.concatenate(chunks) if chunks else silence(0), segments)


def write_wav(path: Path, audio: Audio, rate_hz: int = SAMPLE_RATE_HZ) -> Path:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.tobytes())
    return path


class SpeechLibrary:
    """espeak-ng sentences at 16 kHz, generated once per session into ``cache_dir``."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._memo: dict[str, Audio] = {}

    def wav(self, text: str, voice: str = "en-us", wpm: int = 160) -> Path:
        key = hashlib.sha1(f"{voice}|{wpm}|{text}".encode()).hexdigest()[:16]
        out = self.cache_dir / f"{key}.wav"
        if not out.exists():
            write_wav(out, self.say(text, voice, wpm))
        return out

    def say(self, text: str, voice: str = "en-us", wpm: int = 160) -> Audio:
        key = f"{voice}|{wpm}|{text}"
        if key not in self._memo:
            from faster_whisper import decode_audio

            digest = hashlib.sha1(key.encode()).hexdigest()[:16]
            raw = self.cache_dir / f"{digest}-espeak.wav"
            if not raw.exists():
                subprocess.run(
                    ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text],
                    check=True,
                    capture_output=True,
                )
            audio = decode_audio(str(raw), sampling_rate=SAMPLE_RATE_HZ)
            self._memo[key] = np.ascontiguousarray(audio, dtype=np.float32)
        return self._memo[key].copy()


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> SpeechLibrary:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return SpeechLibrary(tmp_path_factory.mktemp("speech"))
