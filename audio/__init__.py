"""Audio for Harken, free of Qt: capture, voice activity, speech-to-text, text-to-speech, playback.

Plain Python with threads and asyncio. Names are exported lazily so that
``import audio`` stays cheap: the heavy parts (onnxruntime, ctranslate2,
Piper) load only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "SAMPLE_RATE_HZ": "capture",
    "BLOCK_SAMPLES": "capture",
    "AudioSource": "capture",
    "MicrophoneSource": "microphone",
    "FileSource": "file_source",
    "InputDevice": "devices",
    "list_input_devices": "devices",
    "describe_devices": "devices",
    "Level": "level",
    "LevelMeter": "level",
    "SileroVad": "vad",
    "SpeechSegmenter": "segmenter",
    "SpeechStarted": "segmenter",
    "SpeechEnded": "segmenter",
    "SpeechDiscarded": "segmenter",
    "SpeechPaused": "segmenter",
    "SpeechResumed": "segmenter",
    "SpeechProgress": "segmenter",
    "SegmentEvent": "segmenter",
    "SpeculativeTranscriber": "speculative",
    "PreparedTranscript": "speculative",
    "HangoverPolicy": "end_of_turn",
    "hangover_for": "end_of_turn",
    "PushToTalkRecorder": "push_to_talk",
    "Transcriber": "transcriber",
    "Transcription": "transcriber",
    "WhisperTranscriber": "transcriber",
    "RemoteTranscriber": "remote_transcriber",
    "PiperTts": "tts",
    "EspeakTts": "tts",
    "Tts": "tts",
    "SentenceChunker": "sentence_chunker",
    "SpeechPlayer": "playback",
    "SpeechOutput": "speech_output",
    "AudioError": "errors",
    "AudioErrorKind": "errors",
    "CaptureError": "errors",
    "TranscriptionError": "errors",
    "SpeechOutputError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'audio' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
