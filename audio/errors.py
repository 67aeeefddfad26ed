"""Typed audio errors whose message says what the person can do about it.

Hierarchy::

    AudioError                 kind, message
    ├── CaptureError           microphone: none, busy, unplugged, only silence
    ├── TranscriptionError     model missing/corrupt, remote endpoint failed
    └── SpeechOutputError      no output device, TTS voice missing
"""

from __future__ import annotations

from enum import StrEnum


class AudioErrorKind(StrEnum):
    NO_DEVICE = "no_device"
    DEVICE_BUSY = "device_busy"
    DEVICE_LOST = "device_lost"
    SILENT_INPUT = "silent_input"
    BAD_FILE = "bad_file"
    MODEL = "model"
    REMOTE = "remote"
    OUTPUT = "output"


class AudioError(Exception):
    """Base class: ``str(err)`` is the sentence to show the user."""

    def __init__(self, kind: AudioErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class CaptureError(AudioError):
    pass


class TranscriptionError(AudioError):
    pass


class SpeechOutputError(AudioError):
    pass
