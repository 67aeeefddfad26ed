"""Pause an in-process model between tokens while the user talks over its reply.

On a small machine the local model and Whisper share the same cores: while
the user speaks over a reply, every token the model computes is time taken
from the transcription that decides whether the reply is cancelled at all
(measured on two cores: a tiny.en pass took 0.45 s instead of 0.34 s next to
a generating Gemma 3 270M on one thread). The controller already silences the
reply at speech onset without cancelling it (the sound may be a cough); a
``GenerationHold`` lets it also stop the model from computing the next token
until the words are known. Released, generation goes on where it stopped; a
cancel ends it at once, held or not.

A hold is a handle: ``take()`` returns its own idempotent release, holds can
overlap, and a hold older than ``max_s`` no longer holds, so a release that
never comes costs a pause, not a reply. Plain threading: the generation
thread waits, the asyncio loop only takes and releases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HOLD_MAX_S = 65.0  # longer than an utterance may last (the segmenter cuts at 60 s)
POLL_S = 0.05  # how often a held generation checks its own stop condition


class GenerationHold:
    """Held while any handle taken by :meth:`take` is unreleased (and younger than ``max_s``)."""

    def __init__(self, max_s: float = HOLD_MAX_S) -> None:
        self.max_s = max_s
        self._cond = threading.Condition()
        self._handles: dict[int, float] = {}  # handle -> when it was taken
        self._next = 0
        self.waits = 0  # times a generation actually waited (for tests and logs)

    @property
    def held(self) -> bool:
        with self._cond:
            return self._held_locked(time.monotonic())

    def take(self) -> Callable[[], None]:
        """Hold from now on; returns the release (safe to call twice, from any thread)."""
        with self._cond:
            handle = self._next
            self._next += 1
            self._handles[handle] = time.monotonic()

        def release() -> None:
            with self._cond:
                if self._handles.pop(handle, None) is not None:
                    self._cond.notify_all()

        return release

    def wake(self) -> None:
        """Make waiting generations look at their stop condition now (e.g. on cancel)."""
        with self._cond:
            self._cond.notify_all()

    def wait(self, should_stop: Callable[[], bool]) -> float:
        """Block the calling (generation) thread while held and not ``should_stop()``;
        returns the seconds waited."""
        started = time.monotonic()
        with self._cond:
            if not self._held_locked(started):
                return 0.0
            self.waits += 1
            while not should_stop() and self._held_locked(time.monotonic()):
                self._cond.wait(POLL_S)
        return time.monotonic() - started

    def _held_locked(self, now: float) -> bool:
        return any(now - taken < self.max_s for taken in self._handles.values())
