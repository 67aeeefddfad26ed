"""The real speech models, loaded once per test module: Whisper tiny.en and Silero VAD.

A pytest plugin (registered in ``tests/conftest.py``): ``whisper`` is a
``WhisperTranscriber`` loading in the background (closed after the module),
``vad`` a ``SileroVad``. A test module that needs another set-up (the app's
``SharedWhisper``) names its fixture differently.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audio.transcriber import WhisperTranscriber
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
