"""The cancel-aware SSE reader every provider streams through.

It sends one POST over the shared client, turns an error status into a
typed error, and yields server-sent events parsed by ``httpx-sse``. Each
read of the body (connect, every raw chunk, an error body) is raced against
the request's token, so a cancel closes the response and drops the
connection within one chunk, even while the server is silent; whatever
fails after the token is set is reported as :class:`StreamCancelled`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from .errors import BadRequestError, BadResponseError, NetworkError, ProviderError
from .http_errors import error_for_status, server_message
from .race import CancelRace
from .redaction import is_secret, redact_secret


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One streaming POST: where, with which headers (may hold the key), and the JSON body."""

    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: Mapping[str, Any] = field(repr=False)
    secret: str | None = field(default=None, repr=False)  # scrubbed from error bodies

    def redact(self, data: bytes) -> bytes:
        secret = self.secret
        if secret is None or not is_secret(secret) or secret.encode() not in data:
            return data
        return redact_secret(data.decode("utf-8", "replace"), secret).encode()


class TransportFailure(NetworkError):
    """A :class:`NetworkError` that also says in a few words what went wrong
    (``short``, for a status line) and whether the stream merely went silent."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        short: str,
        stalled: bool = False,
        body_stalled: bool = False,
    ) -> None:
        super().__init__(message, provider=provider)
        self.short = short
        self.stalled = stalled or body_stalled
        self.body_stalled = body_stalled  # silent after the headers (RetryPolicy.stall_*)


def body_stalled(provider: str, seconds: float) -> TransportFailure:
    return TransportFailure(
        f"{provider} stopped sending: nothing for {seconds:g} s after the reply began.",
        provider=provider,
        short="the server stopped sending",
        body_stalled=True,
    )


def stream_ended_early(provider: str) -> TransportFailure:
    return TransportFailure(
        f"{provider} ended the stream before the reply was complete.",
        provider=provider,
        short="the stream ended early",
    )


def sse_json(sse: ServerSentEvent, provider: str) -> dict[str, Any]:
    """The event's data as a JSON object, or :class:`BadResponseError`."""
    try:
        value = json.loads(sse.data)
    except ValueError:
        raise BadResponseError(
            f"{provider} sent a malformed chunk that is not valid JSON: {sse.data[:120]!r}",
            provider=provider,
        ) from None
    if not isinstance(value, dict):
        raise BadResponseError(
            f"{provider} sent a chunk that is not a JSON object: {sse.data[:120]!r}",
            provider=provider,
        )
    return value


async def read_sse(
    client: httpx.AsyncClient,
    call: HttpCall,
    race: CancelRace,
    timeouts: httpx.Timeout,
    provider: str,
    stall_timeout_s: float | None = None,
) -> AsyncGenerator[ServerSentEvent, None]:
    """POST ``call`` and yield its server-sent events until the body ends. Once the headers
    are in, a body silent for ``stall_timeout_s`` is a stall (:func:`body_stalled`)."""
    try:
        request = client.build_request(
            "POST",
            call.url,
            headers={**call.headers, "accept": "text/event-stream", "cache-control": "no-store"},
            json=dict(call.body),
            timeout=timeouts,
        )
    except httpx.InvalidURL as exc:
        raise invalid_url(provider, exc) from exc
    try:
        response = await race.run(client.send(request, stream=True), on_orphan=_close)
    except httpx.HTTPError as exc:
        raise _transport_error(exc, race, provider, timeouts) from exc
    forget_response = race.close_on_cancel(lambda: _close(response))
    body = _RacedBody(response, race, stall_timeout_s, provider)
    events = EventSource(
        httpx.Response(response.status_code, headers=response.headers, stream=body, request=request)
    )
    try:
        await _check_response(response, race, provider, call)
        seen = 0
        async with aclosing(events.aiter_sse()) as sse_events:
            async for sse in sse_events:
                seen += 1
                if not sse.data:
                    continue  # no data (``event: ping`` alone, an empty ``data:``): per the
                    # SSE specification such an event is not dispatched
                yield sse
        if seen == 0 and body.bytes_read > 0:
            raise BadResponseError(
                f"{provider} sent a reply that is not a valid event stream.", provider=provider
            )
    except httpx.HTTPError as exc:
        raise _transport_error(exc, race, provider, timeouts) from exc
    except SSEError as exc:
        race.check()
        raise BadResponseError(
            f"{provider} sent a malformed event stream ({exc}).", provider=provider
        ) from exc
    finally:
        forget_response()
        await _close(response)


class _RacedBody(httpx.AsyncByteStream):
    """The response's raw bytes, each chunk read raced against the token."""

    def __init__(
        self, response: httpx.Response, race: CancelRace, stall_s: float | None, provider: str
    ) -> None:
        self._raw = response.aiter_raw()
        self._race = race
        self._stall_s = stall_s
        self._provider = provider
        self.bytes_read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                chunk = await self._race.run(_next_chunk(self._raw, self._stall_s))
            except TimeoutError:
                self._race.check()
                raise body_stalled(self._provider, self._stall_s or 0) from None
            if chunk is None:
                return
            self.bytes_read += len(chunk)
            yield chunk


async def _next_chunk(chunks: AsyncIterator[bytes], within_s: float | None) -> bytes | None:
    """The next chunk, None at the end; TimeoutError after ``within_s`` of silence."""
    try:
        async with asyncio.timeout(within_s):
            return await anext(chunks)
    except StopAsyncIteration:
        return None


async def _check_response(
    response: httpx.Response, race: CancelRace, provider: str, call: HttpCall
) -> None:
    content_type = response.headers.get("content-type", "")
    if response.is_success and "text/event-stream" in content_type:
        return
    body = call.redact(await race.run(response.aread()))
    if not response.is_success:
        raise error_for_status(response.status_code, response.headers, body, provider)
    detail = server_message(body)
    raise BadResponseError(
        f"{provider} answered with {content_type or 'no content type'} instead of an event "
        f"stream{': ' + detail if detail else '.'}",
        provider=provider,
    )


async def _close(response: httpx.Response) -> None:
    """Close the response (dropping the connection unless the body was read to
    the end). A failure to close a dead connection is not worth reporting."""
    try:
        await response.aclose()
    except (httpx.HTTPError, OSError):
        pass


def _transport_error(
    exc: httpx.HTTPError, race: CancelRace, provider: str, timeout: httpx.Timeout
) -> ProviderError:
    if race.token.cancelled:
        return race.cancelled_error()
    host = exc.request.url.netloc.decode("ascii", "replace") if _has_request(exc) else "?"
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransportFailure(
            f"Could not reach {provider} at {host}: connecting took longer than "
            f"{timeout.connect or 0:g} s.",
            provider=provider,
            short="connection timed out",
        )
    if isinstance(exc, httpx.ConnectError):
        return TransportFailure(
            f"Could not connect to {provider} at {host}. Check the base URL and your network.",
            provider=provider,
            short="could not connect",
        )
    if isinstance(exc, httpx.ReadTimeout):
        return TransportFailure(
            f"{provider} sent nothing for {timeout.read or 0:g} s; the stream went stale.",
            provider=provider,
            short=f"no data for {timeout.read or 0:g} s",
            stalled=True,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return invalid_url(provider, exc)
    if isinstance(exc, httpx.DecodingError):
        return BadResponseError(
            f"{provider} sent a body that could not be decoded.", provider=provider
        )
    return TransportFailure(
        f"The connection to {provider} dropped ({type(exc).__name__}).",
        provider=provider,
        short="the connection dropped",
    )


def invalid_url(provider: str, exc: Exception) -> BadRequestError:
    return BadRequestError(
        f"The base URL for {provider} is not valid ({str(exc).rstrip('.')}). "
        "Open Settings → Provider to fix it.",
        provider=provider,
    )


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when no request is attached
    except RuntimeError:
        return False
    return True
