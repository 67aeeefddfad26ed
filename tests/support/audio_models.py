"""The real speech models, loaded once per test module: Whisper tiny.en, Silero VAD, Piper.

A pytest plugin (registered in ``tests/conftest.py``): ``whisper`` is a
``WhisperTranscriber`` loading in the background (closed after the module),
``vad`` a ``SileroVad``, ``piper`` the bundled Piper voice (loaded), and
``shared_whisper`` a ``SharedWhisper`` for tests that start and quit the whole
app several times (the app closes its transcriber on quit; this one stays
loaded until the module ends).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audio.transcriber import WhisperTranscriber
from audio.tts import PiperTts
from audio.vad import SileroVad


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperTranscriber]:
    """The real Whisper model, loaded once per test module."""
    transcriber = WhisperTranscriber()
    transcriber.start_loading()
    yield transcriber
    transcriber.close()


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


@pytest.fixture(scope="module")
def piper() -> PiperTts:
    voice = PiperTts()
    voice.load()
    return voice


class SharedWhisper(WhisperTranscriber):
    """The real model, kept loaded across the app restarts of one test module."""

    def close(self) -> None:  # the app closes its transcriber on quit; the fixture does
        pass

    def dispose(self) -> None:
        super().close()


@pytest.fixture(scope="module")
def shared_whisper() -> Iterator[SharedWhisper]:
    model = SharedWhisper()
    model.start_loading()
    yield model
    model.dispose()
