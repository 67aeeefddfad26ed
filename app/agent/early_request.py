"""A reply requested while the user is still pausing, held until the turn is confirmed.

Whisper's full pass over a pause takes ~0.45 s on two cores, and only then
could the request go out. A quick pass (a short encoder window, ~0.15 s)
usually reads the same words. When those words end like a finished sentence,
the controller sends the request for them at once (``EarlyRequest``) and keeps
everything that streams back in a buffer: nothing is shown or spoken. Then
the ordinary path runs unchanged: the full pass, the end of turn, the
barge-in rules. When the full pass reads the same words (case and
punctuation aside: "No, stop." and "No stop."), the turn keeps the early
wording, so it sends *exactly* the request that went out early (same text,
same history, same tools) and takes the early stream over (``events``: the
buffer, then the live stream); any difference (the full pass heard other
words, the user went on talking, the history changed) and the early request
is cancelled — it cost the user nothing but a request the server saw. The
early stream's ``CancelToken`` is its own until a turn takes it over; from
then on the turn's token cancels it (DESIGN.md rule 3).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

from providers.base import Provider
from providers.cancel import CancelToken
from providers.events import ChatRequest, StreamEvent

log = logging.getLogger(__name__)


class EarlyRequest:
    """One request streaming into a buffer; ``events()`` replays it, then follows it live."""

    def __init__(
        self, provider: Provider, request: ChatRequest, utterance_id: int, text: str
    ) -> None:
        self.provider = provider
        self.request = request
        self.utterance_id = utterance_id
        self.text = text  # the user's words it was sent for
        self.token = CancelToken()
        self.sent_at = time.monotonic()
        self._events: list[StreamEvent] = []
        self._error: Exception | None = None
        self._done = False
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._pump(provider), name=f"early-request-{utterance_id}"
        )

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def cancel(self, reason: str) -> None:
        """Drop it: the stream closes within a chunk (the provider reads this token)."""
        if self.token.cancel(reason):
            log.info("early request for utterance %d dropped: %s", self.utterance_id, reason)

    def follow(self, turn_token: CancelToken) -> None:
        """A turn took it over: cancelling the turn cancels this stream too."""
        turn_token.add_callback(lambda: self.token.cancel(turn_token.reason or "cancelled"))
        log.info(
            "early request for utterance %d taken over %.3f s after it was sent",
            self.utterance_id,
            time.monotonic() - self.sent_at,
        )

    async def events(self) -> AsyncIterator[StreamEvent]:
        """Everything the stream produced so far, then the rest as it comes; its error, if
        it failed (a cancelled stream ends with the provider's ``StreamCancelled``)."""
        index = 0
        while True:
            while index < len(self._events):
                yield self._events[index]
                index += 1
            if self._done:
                if self._error is not None:
                    raise self._error
                return
            self._changed.clear()
            await self._changed.wait()

    async def aclose(self) -> None:
        """Quitting: cancel and wait for the stream task (bounded by the provider's close)."""
        self.cancel("closing")
        await asyncio.wait({self._task}, timeout=1.0)

    async def _pump(self, provider: Provider) -> None:
        try:
            async with aclosing(provider.stream(self.request, self.token)) as stream:
                async for event in stream:
                    self._events.append(event)
                    self._changed.set()
        except Exception as exc:  # kept for the turn that takes it over, which reports it
            self._error = exc
        finally:
            self._done = True
            self._changed.set()
