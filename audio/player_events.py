"""What the speech player tells its listener, from the audio thread (``audio.playback``).

Each is a small frozen dataclass; the listener (the speech output) only hops
them onto the asyncio loop. A stopped or failed player ends with ``PlaybackIdle``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SpeechOutputError


@dataclass(frozen=True)
class ChunkStarted:
    """The chunk's first sample was handed to the output device."""

    text: str
    tag: object


@dataclass(frozen=True)
class PlaybackIdle:
    """Nothing is queued or playing any more (played out, stopped, or the device failed)."""


@dataclass(frozen=True)
class PlaybackFailed:
    error: SpeechOutputError


PlayerEvent = ChunkStarted | PlaybackIdle | PlaybackFailed
