"""Race any awaitable against a request's cancellation token.

Design rule 3: the token must reach the code that reads the bytes. Every
await that can block on the network (connect, each chunk read, an error
body, a backoff sleep) goes through :meth:`CancelRace.run`, so a cancel
interrupts it at once, even while the server sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from .cancel import CancelToken
from .errors import StreamCancelled

T = TypeVar("T")

OnOrphan = Callable[[Any], Awaitable[None]]


class CancelRace:
    """One per stream: wakes the event loop the moment ``token`` is cancelled.

    Create it inside the running loop; call :meth:`close` when the stream ends.
    """

    def __init__(self, token: CancelToken) -> None:
        self.token = token
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._fired: asyncio.Future[None] = self._loop.create_future()
        self._pending = 0
        self._closers: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._remove = token.add_callback(self._on_cancel)

    def _on_cancel(self) -> None:
        if threading.get_ident() == self._loop_thread:
            self._fire()
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to wake
                self._loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        if self._fired.done():
            return
        self._fired.set_result(None)
        if self._pending:
            return  # the pending read wakes up, and its owner closes what it reads
        for closer in self._closers:  # nobody is reading: close now, not at the next read
            task = self._loop.create_task(closer())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def close_on_cancel(
        self, closer: Callable[[], Coroutine[Any, Any, None]]
    ) -> Callable[[], None]:
        """Run ``closer`` (e.g. close the response) as soon as the token fires while
        no read is pending, so a consumer busy elsewhere does not keep the
        connection open. Returns a function that unregisters it."""
        self._closers.append(closer)
        return lambda: self._closers.remove(closer) if closer in self._closers else None

    def close(self) -> None:
        """The stream is over: stop listening to the token."""
        self._remove()
        self._closers.clear()
        self._fire()  # nothing is left waiting on it

    def cancelled_error(self) -> StreamCancelled:
        return StreamCancelled(f"The request was cancelled ({self.token.reason or 'cancelled'}).")

    def check(self) -> None:
        """Raise :class:`StreamCancelled` if the token is cancelled."""
        if self.token.cancelled:
            raise self.cancelled_error()

    async def run(self, coro: Coroutine[Any, Any, T], on_orphan: OnOrphan | None = None) -> T:
        """Await ``coro`` unless the token fires first; then cancel it and raise
        :class:`StreamCancelled`. If the token fires as ``coro`` completes, the
        cancel wins and ``on_orphan`` gets the result to dispose of (e.g. close a
        response). If the calling task is cancelled, ``coro`` is cancelled too and
        the ``CancelledError`` propagates."""
        if self.token.cancelled:
            coro.close()
            raise self.cancelled_error()
        task = asyncio.ensure_future(coro)
        self._pending += 1
        try:
            await asyncio.wait((task, self._fired), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await _abandon(task, on_orphan)
            raise
        finally:
            self._pending -= 1
        if not self.token.cancelled:
            return task.result()
        await _abandon(task, on_orphan)
        raise self.cancelled_error()


async def _abandon(task: asyncio.Future[Any], on_orphan: OnOrphan | None) -> None:
    """Cancel ``task``, wait until it has stopped, and dispose of what it returned."""
    task.cancel()
    await asyncio.wait((task,))
    if task.cancelled():
        return
    if task.exception() is not None:
        return  # after a cancel every error is the cancel's doing
    if on_orphan is not None:
        await on_orphan(task.result())
