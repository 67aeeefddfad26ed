"""The one :class:`~providers.base.Provider` implementation, shared by every wire format.

A wire format knows how to phrase a request (URL, headers, JSON body) and
how to decode its server-sent events; everything else — the cancel-aware
SSE reader, retries, typed errors — is the same for OpenAI, Anthropic and
Azure and lives here, in ``streaming`` and in ``retry``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Protocol

import httpx
from httpx_sse import ServerSentEvent

from .cancel import CancelToken
from .errors import ProviderError
from .events import ChatRequest, StreamEvent
from .race import CancelRace
from .redaction import redact_secret
from .retry import RetryPolicy, retrying_stream
from .streaming import HttpCall, read_sse

DRAIN_LIMIT_S = 0.5


class EventDecoder(Protocol):
    """Turns one request's server-sent events into stream events (stateful)."""

    @property
    def done(self) -> bool:
        """True once the reply's terminal event has been decoded."""
        ...

    def feed(self, sse: ServerSentEvent) -> list[StreamEvent]:
        """Events for one SSE; raises a ``ProviderError`` for an error event or bad data."""
        ...

    def finish(self) -> list[StreamEvent]:
        """The body ended without the terminal event: the last events, or an error."""
        ...


class WireFormat(Protocol):
    def http_call(self, request: ChatRequest) -> HttpCall: ...

    def decoder(self) -> EventDecoder: ...


class SseProvider:
    """Streams replies from one endpoint over the shared client."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        wire: WireFormat,
        policy: RetryPolicy,
        secret: str | None = None,
    ) -> None:
        self.name = name
        self._client = client
        self._wire = wire
        self._policy = policy
        self._secret = secret
        self._timeout = httpx.Timeout(
            connect=policy.connect_timeout_s,
            read=policy.stale_timeout_s,
            write=policy.stale_timeout_s,
            pool=policy.connect_timeout_s,
        )

    def __repr__(self) -> str:
        return f"<SseProvider {self.name}>"

    def stream(self, request: ChatRequest, cancel: CancelToken) -> AsyncIterator[StreamEvent]:
        call = self._wire.http_call(request)
        return retrying_stream(
            lambda race: self._attempt(call, race),
            self._policy,
            cancel,
            self.name,
            redact=self._redact,
        )

    async def _attempt(self, call: HttpCall, race: CancelRace) -> AsyncGenerator[StreamEvent, None]:
        decoder = self._wire.decoder()
        sse_events = read_sse(
            self._client, call, race, self._timeout, self.name, self._policy.stall_timeout_s
        )
        async with aclosing(sse_events):
            async for sse in sse_events:
                for event in decoder.feed(sse):
                    yield event
                if decoder.done:
                    await _drain(sse_events)
                    return
        for event in decoder.finish():
            yield event

    def _redact(self, text: str) -> str:
        return redact_secret(text, self._secret)


async def _drain(sse_events: AsyncIterator[ServerSentEvent]) -> None:
    """Read the little that follows the terminal event (the end of the chunked
    body) so the connection goes back to the pool instead of being dropped —
    which would cost the next turn a new TCP and TLS handshake. Bounded: a
    server that keeps the stream open after the end is simply cut off."""
    try:
        async with asyncio.timeout(DRAIN_LIMIT_S):
            async for _ in sse_events:
                pass
    except (TimeoutError, ProviderError):
        pass  # the reply is complete; how the connection ends no longer matters
