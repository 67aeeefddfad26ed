"""Cancellation reaches the bytes (DESIGN rules 2-4), against a real local HTTP server.

Every test counts the server's requests (nothing retried after a cancel) and
waits for the server to see the client hang up (the connection really closed).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from providers import (
    CancelToken,
    ChatRequest,
    NetworkError,
    Provider,
    ProviderConfig,
    Retrying,
    RetryPolicy,
    StreamCancelled,
    StreamEvent,
    TextDelta,
    UserMessage,
    create_provider,
)
from tests.support.sse_server import (
    Drop,
    Reply,
    ScriptedServer,
    Stall,
    hanging_connect_url,
    json_reply,
    provider_stream,
    sse_reply,
)

KINDS = ["openai", "anthropic", "azure"]
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, jitter=0.0, stale_timeout_s=5.0)
REQUEST = ChatRequest(model="test-model", messages=[UserMessage("hello")])
SANITY_S = 2.0  # generous: catches hangs, not a timing assertion


def provider(
    kind: str, base_url: str, client: httpx.AsyncClient, policy: RetryPolicy = FAST
) -> Provider:
    config = ProviderConfig(kind, base_url, "test-model", api_key="sk-test", retry=policy)
    return create_provider(config, client)


async def stream_until_cancelled(
    stream: AsyncIterator[StreamEvent], token: CancelToken, cancel_after_deltas: int
) -> tuple[list[StreamEvent], float, StreamCancelled]:
    """Consume; cancel after N text deltas. Returns events, cancel time, the error."""
    events: list[StreamEvent] = []
    cancelled_at = 0.0
    with pytest.raises(StreamCancelled) as caught:
        async for event in stream:
            events.append(event)
            if sum(isinstance(e, TextDelta) for e in events) == cancel_after_deltas:
                cancelled_at = time.perf_counter()
                token.cancel("user barged in")
    return events, cancelled_at, caught.value


@pytest.mark.parametrize("kind", KINDS)
async def test_cancel_mid_stream_closes_connection_once(
    kind: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(sse_reply(provider_stream(kind, [f"w{i} " for i in range(200)], delay_s=0.005)))
    server.add(sse_reply(provider_stream(kind, ["never sent"])))  # a retry would take this
    token = CancelToken()
    stream = provider(kind, server.base_url(kind), client).stream(REQUEST, token)

    events, cancelled_at, error = await stream_until_cancelled(stream, token, 3)

    assert time.perf_counter() - cancelled_at < SANITY_S
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["w0 ", "w1 ", "w2 "]
    assert not any(isinstance(e, Retrying) for e in events)
    assert "user barged in" in str(error)
    disconnect = await asyncio.to_thread(server.wait_for_disconnect, SANITY_S, 0)
    assert disconnect - cancelled_at < SANITY_S
    assert not server.completed(0)
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_cancel_while_server_is_silent(
    kind: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """No bytes flow: the cancel must still interrupt the pending read."""
    body = provider_stream(kind, ["thinking"])
    through_first_delta = {"openai": 2, "anthropic": 4}[kind]
    server.add(sse_reply([*body[:through_first_delta], Stall(None)]))
    token = CancelToken()
    got_delta = asyncio.Event()

    async def consume() -> None:
        async for _ in provider(kind, server.base_url(kind), client).stream(REQUEST, token):
            got_delta.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_delta.wait(), SANITY_S)  # the stall is under way
    cancelled_at = time.perf_counter()
    token.cancel()
    with pytest.raises(StreamCancelled):
        await asyncio.wait_for(task, SANITY_S)
    disconnect = await asyncio.to_thread(server.wait_for_disconnect, SANITY_S)
    assert disconnect - cancelled_at < SANITY_S
    assert len(server.requests) == 1


async def test_cancel_while_the_consumer_is_busy_closes_at_once(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """The consumer is away (speaking, running a tool) when the token fires: the
    connection closes now, not when it next asks for an event."""
    server.add(sse_reply(provider_stream("openai", [f"{i}" for i in range(300)], delay_s=0.005)))
    token = CancelToken()
    stream = provider("openai", server.base_url("openai"), client).stream(REQUEST, token)
    first = await anext(stream)
    assert isinstance(first, TextDelta)
    cancelled_at = time.perf_counter()
    token.cancel()
    disconnect = await asyncio.to_thread(server.wait_for_disconnect, SANITY_S)  # not reading
    assert disconnect - cancelled_at < SANITY_S
    with pytest.raises(StreamCancelled):
        await anext(stream)  # and nothing more is yielded
    assert len(server.requests) == 1


async def test_cancel_during_tcp_connect_aborts_promptly(client: httpx.AsyncClient) -> None:
    """The connect itself hangs (the server's accept queue is full)."""
    policy = RetryPolicy(connect_timeout_s=30.0, base_delay_s=0.01, jitter=0.0)
    token = CancelToken()
    with hanging_connect_url() as url:
        stream = provider("openai", f"{url}/v1", client, policy).stream(REQUEST, token)
        asyncio.get_running_loop().call_later(0.2, token.cancel)
        started = time.perf_counter()
        events: list[StreamEvent] = []
        with pytest.raises(StreamCancelled):
            async for event in stream:
                events.append(event)
        assert time.perf_counter() - started < SANITY_S
        assert events == []


async def test_cancel_before_response_headers(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """Connected, request sent, the server has not answered yet."""
    server.add(Reply(head_delay_s=30.0, body=provider_stream("openai", ["late"])))
    token = CancelToken()
    task = asyncio.create_task(_drain(provider("openai", server.base_url("openai"), client), token))
    await asyncio.to_thread(server.wait_for_requests, 1)
    cancelled_at = time.perf_counter()
    token.cancel()
    with pytest.raises(StreamCancelled):
        await asyncio.wait_for(task, SANITY_S)
    disconnect = await asyncio.to_thread(server.wait_for_disconnect, SANITY_S)
    assert disconnect - cancelled_at < SANITY_S
    assert len(server.requests) == 1


async def test_token_cancelled_before_start_sends_nothing(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    token = CancelToken()
    token.cancel("stopped")
    with pytest.raises(StreamCancelled):
        await _drain(provider("openai", server.base_url("openai"), client), token)
    assert server.requests == []


async def test_cancel_during_backoff_sleep_stops_retrying(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(
        json_reply(503, {"error": {"message": "busy"}}), sse_reply(provider_stream("openai"))
    )
    slow = RetryPolicy(base_delay_s=30.0, max_delay_s=30.0, jitter=0.0)
    token = CancelToken()
    events: list[StreamEvent] = []
    started = 0.0
    with pytest.raises(StreamCancelled):
        async for event in provider("openai", server.base_url("openai"), client, slow).stream(
            REQUEST, token
        ):
            events.append(event)
            if isinstance(event, Retrying):
                started = time.perf_counter()
                token.cancel()
    assert time.perf_counter() - started < SANITY_S
    assert [type(e) for e in events] == [Retrying]
    assert len(server.requests) == 1


async def test_error_after_cancel_is_a_cancellation(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """The server drops the connection and the user cancels: not a network
    error, not retried (DESIGN rule 2)."""
    body = provider_stream("openai", ["one", "two"])
    server.add(sse_reply([*body[:2], Drop()]), sse_reply(provider_stream("openai", ["retry"])))
    token = CancelToken()
    with pytest.raises(StreamCancelled):
        async for event in provider("openai", server.base_url("openai"), client).stream(
            REQUEST, token
        ):
            assert isinstance(event, TextDelta)
            await asyncio.to_thread(server.wait_for_completion, SANITY_S, 0)  # dropped by now
            token.cancel()
    assert len(server.requests) == 1


async def test_cancelled_then_genuine_drop_is_retried(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """No cancellation state leaks from one request into the next."""
    chat = provider("openai", server.base_url("openai"), client)
    server.add(sse_reply(provider_stream("openai", [f"{i} " for i in range(100)], delay_s=0.005)))
    first = CancelToken()
    await stream_until_cancelled(chat.stream(REQUEST, first), first, 2)
    await asyncio.to_thread(server.wait_for_disconnect, SANITY_S, 0)

    role_chunk = provider_stream("openai", ["x"])[0]
    server.add(sse_reply([role_chunk, Drop()]), sse_reply(provider_stream("openai", ["fine"])))
    second = CancelToken()
    events = [event async for event in chat.stream(REQUEST, second)]

    assert isinstance(events[0], Retrying)
    assert events[0].reason == "the connection dropped"
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["fine"]
    assert len(server.requests) == 3
    assert first.cancelled and not second.cancelled


async def test_cancelled_token_stays_observable_from_a_worker_thread(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """A tool in a worker thread still sees the cancel after the stream ended
    (DESIGN rule 4); the next request's fresh token is unaffected."""
    chat = provider("anthropic", server.base_url("anthropic"), client)
    server.add(sse_reply(provider_stream("anthropic", ["a", "b", "c", "d"], delay_s=0.01)))
    token = CancelToken()
    tool_started = threading.Event()

    def tool() -> bool:
        tool_started.set()
        return token.wait_blocking(timeout_s=SANITY_S)

    tool_future = asyncio.ensure_future(asyncio.to_thread(tool))
    await asyncio.to_thread(tool_started.wait, SANITY_S)
    await stream_until_cancelled(chat.stream(REQUEST, token), token, 1)

    assert await asyncio.wait_for(tool_future, SANITY_S) is True
    assert await asyncio.to_thread(lambda: token.cancelled) is True

    server.add(sse_reply(provider_stream("anthropic", ["next turn"])))
    fresh = CancelToken()
    events = [event async for event in chat.stream(REQUEST, fresh)]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["next turn"]
    assert token.cancelled and token.reason == "user barged in"
    assert not fresh.cancelled


async def test_cancel_from_another_thread(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(sse_reply(provider_stream("openai", [f"{i}" for i in range(300)], delay_s=0.005)))
    token = CancelToken()
    first_delta = threading.Event()
    canceller = threading.Thread(target=lambda: first_delta.wait(SANITY_S) and token.cancel())
    canceller.start()
    with pytest.raises(StreamCancelled):
        async for event in provider("openai", server.base_url("openai"), client).stream(
            REQUEST, token
        ):
            if isinstance(event, TextDelta):
                first_delta.set()
    canceller.join(SANITY_S)
    await asyncio.to_thread(server.wait_for_disconnect, SANITY_S)
    assert len(server.requests) == 1


async def test_cancelling_the_consumer_task_propagates_and_closes(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """The stream never swallows asyncio.CancelledError."""
    server.add(sse_reply([*provider_stream("openai", ["a"])[:2], Stall(None)]))
    got_delta = asyncio.Event()

    async def consume() -> None:
        async for _ in provider("openai", server.base_url("openai"), client).stream(
            REQUEST, CancelToken()
        ):
            got_delta.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_delta.wait(), SANITY_S)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, SANITY_S)
    await asyncio.to_thread(server.wait_for_disconnect, SANITY_S)
    assert len(server.requests) == 1


async def test_network_error_without_cancel_is_not_a_cancellation(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """The converse of rule 2: a genuine drop after content is a NetworkError."""
    body = provider_stream("openai", ["one", "two", "three"])
    server.add(sse_reply([*body[:3], Drop()]))
    with pytest.raises(NetworkError) as caught:
        await _drain(provider("openai", server.base_url("openai"), client), CancelToken())
    assert not isinstance(caught.value, StreamCancelled)


async def _drain(chat: Provider, token: CancelToken) -> list[StreamEvent]:
    return [event async for event in chat.stream(REQUEST, token)]
