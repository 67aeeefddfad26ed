"""The reply the user is talking over: silenced, and resumable if they said nothing.

The one owner of "is a reply paused, and which": DESIGN.md wants speech
paused (not flushed) at the user's onset, so that a false interruption can
resume it. With an in-process model the generation is held too, so Whisper
has the CPU to itself while it decides whether the turn goes on
(``providers.Holdable``). Every change of that state goes through here:

- ``pause(turn)``: speech silent, model held (idempotent while paused); with
  ``duck=True`` speech is turned down first and paused if the user goes on;
- ``resume()``: the same reply goes on (speech plays, model computes), if
  it is still the running one and was not cancelled;
- ``release()``: forget the pause without resuming (the turn is being
  replaced or stopped; speech is stopped by whoever cancels it).

A hands-free reply is also **held** until its end of turn is confirmed
(``hold(turn, until)``): a thinking pause that Whisper read as a finished
sentence ("Remind me to call.") ends the turn ~0.2 s after the speech, and
the reply streams (shown, synthesised) at once, but nothing is *heard*
before the user has been quiet until ``until``. If they go on talking
meanwhile, the continuation rules merge the turn away and the user never
heard a word of it. The hold lifts at ``until`` when no speech of the user's
is on its way (``quiet``) and no pause holds the reply; otherwise the
``resume()`` that ends that pause lifts it, or it is checked again shortly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.agent.ports import SpeechPort
from app.agent.turn import Turn
from providers.base import Holdable, Provider

HOLD_RECHECK_S = 0.1  # the user was talking when the hold was due: look again this soon


class ReplyPause:
    def __init__(
        self,
        speech: SpeechPort,
        provider: Callable[[], Provider],
        running: Callable[[], Turn | None],
        quiet: Callable[[], bool] = lambda: True,
    ) -> None:
        self._speech = speech
        self._provider = provider
        self._running = running
        self._quiet = quiet  # no speech of the user's on its way (``BargeIn.may_resume``)
        self._turn: Turn | None = None
        self._release_hold: Callable[[], None] | None = None
        self._held: Turn | None = None  # a reply not to be heard before its end is confirmed
        self._hold_timer: asyncio.TimerHandle | None = None

    @property
    def paused_turn(self) -> Turn | None:
        return self._turn

    def pause(self, turn: Turn, *, duck: bool = False) -> None:
        # Also before the reply's first audio: it must not start over the user.
        # ``duck``: turned down at once, paused only if the user goes on (issue 16).
        if duck:
            self._speech.duck()
        else:
            self._speech.pause()
        self._turn = turn
        provider = self._provider()
        if self._release_hold is None and isinstance(provider, Holdable):
            self._release_hold = provider.hold()

    def resume(self) -> None:
        turn = self._turn
        self._forget_pause()
        running = self._running()
        if running is None or running.token.cancelled:
            return
        if turn is not running and self._held is not running:
            return
        if self._held is running:
            if self._hold_timer is not None:
                return  # not confirmed yet: stays silent until the hold is due
            self._held = None
        self._speech.resume()

    def release(self) -> None:
        self._forget_pause()
        self._drop_hold()

    def hold(self, turn: Turn, until: float) -> None:
        """``turn``'s speech (just begun) is not heard before ``until`` (monotonic)."""
        self._drop_hold()
        delay = until - time.monotonic()
        if delay <= 0:
            return
        self._speech.pause()
        self._held = turn
        self._hold_timer = asyncio.get_running_loop().call_later(delay, self._hold_due)

    def _hold_due(self) -> None:
        self._hold_timer = None
        turn = self._held
        if turn is None or turn is not self._running() or turn.token.cancelled:
            self._held = None
            return
        if self._turn is not None:
            return  # the user's pause holds it: the resume() that ends it lifts the hold
        if not self._quiet():
            loop = asyncio.get_running_loop()
            self._hold_timer = loop.call_later(HOLD_RECHECK_S, self._hold_due)
            return
        self._held = None
        self._speech.resume()

    def _forget_pause(self) -> None:
        self._turn = None
        release, self._release_hold = self._release_hold, None
        if release is not None:
            release()

    def _drop_hold(self) -> None:
        self._held = None
        timer, self._hold_timer = self._hold_timer, None
        if timer is not None:
            timer.cancel()
