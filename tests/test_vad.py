"""SileroVad streams the model faster-whisper bundles, frame by frame, with state carried."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from faster_whisper.vad import get_vad_model

from audio.errors import AudioErrorKind, CaptureError
from audio.vad import FRAME_SAMPLES, SileroVad
from tests.support.speech import silence, white_noise


@pytest.fixture(scope="module")
def jfk(jfk_audio: np.ndarray) -> np.ndarray:
    """Whole frames of it (the batch model takes no partial frame)."""
    return jfk_audio[: len(jfk_audio) // FRAME_SAMPLES * FRAME_SAMPLES]


def stream(vad: SileroVad, audio: np.ndarray) -> np.ndarray:
    vad.reset()
    frames = audio[: len(audio) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    return np.array([vad.speech_prob(f) for f in frames])


def test_streamed_probabilities_equal_faster_whispers_batch_run(
    vad: SileroVad, jfk: np.ndarray
) -> None:
    batch = get_vad_model()(jfk).reshape(-1)  # the whole recording at once
    streamed = stream(vad, jfk)
    assert streamed.shape == batch.shape == (len(jfk) // FRAME_SAMPLES,)
    np.testing.assert_allclose(streamed, batch, atol=1e-5)


def test_speech_scores_high_and_silence_low(vad: SileroVad, jfk: np.ndarray) -> None:
    probs = stream(vad, jfk)
    assert np.mean(probs > 0.5) > 0.6  # JFK talks for most of the 11 s
    assert np.max(stream(vad, silence(2.0))) < 0.1
    assert np.max(stream(vad, white_noise(2.0, -20))) < 0.5


def test_reset_starts_a_fresh_stream(vad: SileroVad, jfk: np.ndarray) -> None:
    first = stream(vad, jfk[: 100 * FRAME_SAMPLES])
    again = stream(vad, jfk[: 100 * FRAME_SAMPLES])
    np.testing.assert_array_equal(first, again)
    # Without reset, state carries over: the same audio scores differently.
    carried = np.array([vad.speech_prob(f) for f in jfk[: 10 * FRAME_SAMPLES].reshape(-1, 512)])
    assert not np.allclose(carried, first[:10])


def test_wrong_frame_size_is_refused(vad: SileroVad) -> None:
    with pytest.raises(ValueError, match="512 samples"):
        vad.speech_prob(np.zeros(480, np.float32))


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError) as info:
        SileroVad(str(tmp_path / "gone.onnx"))
    assert info.value.kind is AudioErrorKind.MODEL
    assert "gone.onnx" in str(info.value) and "Reinstall" in str(info.value)


def test_damaged_model_is_a_model_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00not a model" * 100)
    with pytest.raises(CaptureError) as info:
        SileroVad(str(broken))
    assert info.value.kind is AudioErrorKind.MODEL
