"""Text-to-speech: the bundled Piper voice, the espeak-ng fallback, and choosing between them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from audio.capture import resample
from audio.errors import AudioErrorKind, SpeechOutputError
from audio.model_resolution import load_whisper_model
from audio.transcriber import whisper_options
from audio.tts import EspeakTts, PiperTts, Tts, bundled_voice_path, load_with_fallback

pytestmark = pytest.mark.slow


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


@pytest.fixture
def broken_piper(tmp_path: Path) -> PiperTts:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"not an onnx model")
    Path(f"{model}.json").write_text(bundled_voice_path().with_suffix(".onnx.json").read_text())
    return PiperTts(str(model))


def test_sample_rate_comes_from_the_voice_config_before_loading() -> None:
    config = json.loads(Path(f"{bundled_voice_path()}.json").read_text())
    voice = PiperTts()
    assert not voice.loaded
    assert voice.sample_rate_hz == config["audio"]["sample_rate"] == 22_050


def test_piper_speaks_a_sentence(piper: PiperTts) -> None:
    assert isinstance(piper, Tts)
    chunks = list(piper.synthesize("Hello there. How are you today?"))
    assert len(chunks) >= 1
    assert all(chunk.dtype == np.float32 and chunk.ndim == 1 for chunk in chunks)
    audio = np.concatenate(chunks)
    assert 1.0 < audio.size / piper.sample_rate_hz < 6.0
    assert rms(audio) > 0.02
    assert np.max(np.abs(audio)) <= 1.0


def test_piper_first_audio_is_quick(piper: PiperTts) -> None:
    started = time.perf_counter()
    first = next(iter(piper.synthesize("Sure, here is what I found.")))
    assert time.perf_counter() - started < 2.0  # sanity bound; the benchmark measures it
    assert rms(first) > 0.02


def test_piper_speech_is_intelligible_to_whisper(piper: PiperTts) -> None:
    text = "Please set a timer for ten minutes."
    audio = np.concatenate(list(piper.synthesize(text)))
    at_16k = resample(audio, piper.sample_rate_hz, 16_000)
    model = load_whisper_model(None).model
    segments, _ = model.transcribe(at_16k, **whisper_options(at_16k.size / 16_000, "en"))
    heard = " ".join(segment.text for segment in segments).lower()
    assert "timer" in heard and "minutes" in heard, heard


def test_missing_piper_voice_is_a_clear_error(tmp_path: Path) -> None:
    voice = PiperTts(str(tmp_path / "nope.onnx"))
    assert voice.sample_rate_hz == 22_050  # a default, so playback can still be set up
    with pytest.raises(SpeechOutputError) as caught:
        voice.load()
    assert caught.value.kind is AudioErrorKind.MODEL
    assert "nope.onnx" in str(caught.value) and "missing" in str(caught.value)


def test_corrupt_piper_voice_is_a_clear_error(broken_piper: PiperTts) -> None:
    with pytest.raises(SpeechOutputError, match="could not be loaded"):
        broken_piper.load()


def test_espeak_speaks() -> None:
    voice = EspeakTts()
    voice.load()
    chunks = list(voice.synthesize("Hello from the system voice."))
    audio = np.concatenate(chunks)
    assert voice.sample_rate_hz == 22_050
    assert audio.dtype == np.float32 and rms(audio) > 0.02
    assert 0.5 < audio.size / voice.sample_rate_hz < 5


def test_missing_espeak_is_a_clear_error() -> None:
    with pytest.raises(SpeechOutputError, match="not installed"):
        EspeakTts("espeak-ng-not-here").load()


def test_fallback_to_the_system_voice_says_why(broken_piper: PiperTts) -> None:
    voice, warning = load_with_fallback(broken_piper)
    assert isinstance(voice, EspeakTts)
    assert warning is not None and "could not be loaded" in warning and "espeak-ng" in warning
    assert rms(np.concatenate(list(voice.synthesize("Still talking.")))) > 0.02


def test_preferred_voice_loads_without_warning(piper: PiperTts) -> None:
    assert load_with_fallback(piper) == (piper, None)


def test_no_voice_at_all_names_both_failures(broken_piper: PiperTts) -> None:
    with pytest.raises(SpeechOutputError) as caught:
        load_with_fallback(broken_piper, lambda: EspeakTts("espeak-ng-not-here"))
    message = str(caught.value)
    assert "No voice is available" in message
    assert "voice.onnx" in message and "espeak-ng-not-here" in message


def test_resample_keeps_duration_and_pitch() -> None:
    rate = 22_050
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = resample(tone, rate, 16_000)
    assert out.size == 16_000 and out.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 s of audio: bin = Hz
