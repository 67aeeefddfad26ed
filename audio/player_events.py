"""What the speech player tells its listener, from the audio thread (``audio.playback``).

Each is a small frozen dataclass; the listener (the speech output) only hops
them onto the asyncio loop. A stopped or failed player ends with ``PlaybackIdle``.
``WakeWaiters`` goes with it, to the player's own ``wait_idle()`` callers instead.
"""

from __future__ import annotations

import asyncio
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


@dataclass(frozen=True)
class WakeWaiters:
    """The player went idle: resolve these ``wait_idle()`` futures, each on its loop."""

    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]

    def wake(self) -> None:
        for loop, future in self.waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
