"""Where tools run from: their context (token, permissions, clipboard) and what outlives a turn.

Countdown timers outlive the turn that set them; when one ends, its
announcement is shown as a status line and, when no reply is being spoken,
said aloud. The clipboard is the desktop's (set by the window), or None in
headless mode, where the clipboard tools then say they are unavailable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.agent import events as ev
from app.agent.ports import SpeechPort
from app.agent.tools import ToolContext
from app.agent.tools.timers import TimerService
from providers.cancel import CancelToken


class ToolHost:
    def __init__(
        self,
        *,
        speech: SpeechPort,
        emit: Callable[[ev.Event], None],
        permissions: Callable[[], frozenset[str]],
        replying: Callable[[], bool],
    ) -> None:
        self.clipboard: Any = None
        self._speech = speech
        self._emit = emit
        self._permissions = permissions
        self._replying = replying
        self._timers: TimerService | None = None

    def context(self, token: CancelToken) -> ToolContext:
        """The context for the tools of one turn (they share its token)."""
        if self._timers is None:
            self._timers = TimerService(asyncio.get_running_loop(), self.announce)
        return ToolContext(
            cancel=token,
            announce=self.announce,
            permissions=self._permissions(),
            clipboard=self.clipboard,
            extras={"timers": self._timers},
        )

    def announce(self, text: str) -> None:
        """A tool's message for the user (a timer ended): shown, and spoken when quiet."""
        self._emit(ev.Status(text=text))
        if not self._replying() and self._speech.enabled:
            self._speech.begin(0)
            self._speech.feed(text)
            self._speech.finish()

    def close(self) -> None:
        if self._timers is not None:
            self._timers.close()
