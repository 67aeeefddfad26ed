"""The request-local cancellation token shared by a turn, its HTTP stream and its tools.

Design rule 4: a cancelled token stays cancelled and observable from any
thread for as long as anyone holds it; the next request gets a new token.
Asyncio code awaits :meth:`CancelToken.wait`; worker threads poll
:attr:`CancelToken.cancelled` or block in :meth:`CancelToken.wait_blocking`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class Cancelled(Exception):
    """The work was cancelled through its :class:`CancelToken` (a transcription, a tool).

    Not an error a person is told about. A provider's stream raises the
    subclass ``providers.errors.StreamCancelled``, which is also a provider error.
    """


class CancelToken:
    """A one-way, thread-safe switch: once cancelled, cancelled forever."""

    __slots__ = ("_callbacks", "_event", "_lock", "_reason")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._callbacks: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        state = f"cancelled: {self._reason}" if self.cancelled else "live"
        return f"<CancelToken {state}>"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> str | None:
        """Why it was cancelled (the first reason given), or None while live."""
        return self._reason

    def cancel(self, reason: str = "cancelled") -> bool:
        """Cancel; safe from any thread. Returns True only for the call that cancelled."""
        with self._lock:
            if self._event.is_set():
                return False
            self._reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()
        return True

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled(self._reason or "cancelled")

    def add_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` once on cancel (at once if already cancelled), in the
        cancelling thread. Returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                registered = True
            else:
                registered = False
        if not registered:
            callback()

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    async def wait(self) -> None:
        """Return once the token is cancelled (immediately if it already is)."""
        if self._event.is_set():
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        def wake_threadsafe() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake)

        remove = self.add_callback(wake_threadsafe)
        try:
            await future
        finally:
            remove()

    def wait_blocking(self, timeout_s: float | None = None) -> bool:
        """For worker threads: block until cancelled or timeout; True if cancelled."""
        return self._event.wait(timeout_s)
