"""The reply the user is talking over: silenced, and resumable if they said nothing.

The one owner of "is a reply paused, and which": DESIGN.md wants speech
paused (not flushed) at the user's onset, so that a false interruption can
resume it. With an in-process model the generation is held too, so Whisper
has the CPU to itself while it decides whether the turn goes on
(``providers.Holdable``). Every change of that state goes through here:

- ``pause(turn)``: speech silent, model held (idempotent while paused);
- ``resume()``: the same reply goes on (speech plays, model computes), if
  it is still the running one and was not cancelled;
- ``release()``: forget the pause without resuming (the turn is being
  replaced or stopped; speech is stopped by whoever cancels it).
"""

from __future__ import annotations

from collections.abc import Callable

from app.agent.ports import SpeechPort
from app.agent.turn import Turn
from providers.base import Holdable, Provider


class ReplyPause:
    def __init__(
        self,
        speech: SpeechPort,
        provider: Callable[[], Provider],
        running: Callable[[], Turn | None],
    ) -> None:
        self._speech = speech
        self._provider = provider
        self._running = running
        self._turn: Turn | None = None
        self._release_hold: Callable[[], None] | None = None

    @property
    def paused_turn(self) -> Turn | None:
        return self._turn

    def pause(self, turn: Turn) -> None:
        # Also before the reply's first audio: it must not start over the user.
        self._speech.pause()
        self._turn = turn
        provider = self._provider()
        if self._release_hold is None and isinstance(provider, Holdable):
            self._release_hold = provider.hold()

    def resume(self) -> None:
        turn = self._turn
        self.release()
        if turn is not None and turn is self._running() and not turn.token.cancelled:
            self._speech.resume()

    def release(self) -> None:
        self._turn = None
        release, self._release_hold = self._release_hold, None
        if release is not None:
            release()
