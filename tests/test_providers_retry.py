"""Genuine failures (no cancel) against a real local server: what is retried, how, what is not."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from providers import (
    AuthError,
    BadRequestError,
    CancelToken,
    ChatRequest,
    NetworkError,
    Provider,
    ProviderConfig,
    ProviderError,
    RateLimitError,
    Retrying,
    RetryPolicy,
    ServerError,
    StreamEvent,
    TextDelta,
    UserMessage,
    create_provider,
)
from providers.http_errors import error_for_status, retry_after_s, server_message
from tests.support.sse_server import (
    Drop,
    ScriptedServer,
    Stall,
    json_reply,
    provider_stream,
    sse_reply,
)

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, jitter=0.0, stale_timeout_s=5.0)
REQUEST = ChatRequest(model="test-model", messages=[UserMessage("hello")])
KEY = "sk-SECRET-0123456789abcdef"


def provider(
    server: ScriptedServer,
    client: httpx.AsyncClient,
    kind: str = "openai",
    policy: RetryPolicy = FAST,
    name: str | None = None,
) -> Provider:
    config = ProviderConfig(
        kind, server.base_url(kind), "test-model", api_key=KEY, display_name=name, retry=policy
    )
    return create_provider(config, client)


async def run(chat: Provider) -> tuple[list[StreamEvent], ProviderError | None]:
    events: list[StreamEvent] = []
    try:
        async for event in chat.stream(REQUEST, CancelToken()):
            events.append(event)
    except ProviderError as exc:
        return events, exc
    return events, None


def texts(events: list[StreamEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, TextDelta)]


def retries(events: list[StreamEvent]) -> list[Retrying]:
    return [e for e in events if isinstance(e, Retrying)]


@pytest.mark.parametrize("kind", ["openai", "anthropic", "azure"])
async def test_503_then_success_is_retried_with_a_status_event(
    kind: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(
        json_reply(503, {"error": {"message": "overloaded"}}),
        sse_reply(provider_stream(kind, ["Hello", " there"])),
    )
    events, error = await run(provider(server, client, kind))
    assert error is None
    [retry] = retries(events)
    assert (retry.attempt, retry.max_attempts, retry.reason) == (1, 4, "server error (503)")
    assert isinstance(events[0], Retrying)  # announced before any content
    assert texts(events) == ["Hello", " there"]
    assert len(server.requests) == 2


async def test_429_honours_retry_after(server: ScriptedServer, client: httpx.AsyncClient) -> None:
    server.add(
        json_reply(429, {"error": {"message": "slow down"}}, {"retry-after": "1"}),
        sse_reply(provider_stream("openai", ["ok"])),
    )
    events, error = await run(provider(server, client))
    assert error is None
    [retry] = retries(events)
    assert retry.delay_s == 1.0 and retry.reason == "rate limited (429)"
    first, second = server.requests
    assert second.received_at - first.received_at >= 0.95
    assert texts(events) == ["ok"]


async def test_429_with_a_long_retry_after_gives_up_at_once(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(json_reply(429, {"error": {"message": "quota"}}, {"retry-after": "3600"}))
    events, error = await run(provider(server, client))
    assert isinstance(error, RateLimitError)
    assert error.retry_after_s == 3600
    assert "OpenAI is rate-limiting requests (429): quota" in str(error)
    assert events == [] and len(server.requests) == 1


@pytest.mark.parametrize(
    ("kind", "name", "shown"),
    [("openai", None, "OpenAI"), ("anthropic", None, "Anthropic"), ("azure", None, "Azure OpenAI")]
    + [("openai", "Groq", "Groq")],
)
async def test_401_is_an_auth_error_naming_the_provider(
    kind: str, name: str | None, shown: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(json_reply(401, {"error": {"message": "Incorrect API key provided"}}))
    events, error = await run(provider(server, client, kind, name=name))
    assert isinstance(error, AuthError)
    assert str(error) == (
        f"The API key for {shown} was rejected (401). Open Settings → Provider to fix it."
    )
    assert events == [] and len(server.requests) == 1


async def test_unknown_model_is_a_bad_request_with_the_servers_message(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(json_reply(404, {"error": "model 'llama9' not found, try pulling it first"}))
    events, error = await run(provider(server, client, name="Ollama"))
    assert isinstance(error, BadRequestError)
    assert "Ollama refused the request (404): model 'llama9' not found" in str(error)
    assert "Settings → Provider" in str(error)
    assert events == [] and len(server.requests) == 1


async def test_stale_stream_times_out_and_is_retried(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    policy = RetryPolicy(base_delay_s=0.01, jitter=0.0, stale_timeout_s=0.3)
    role_chunk = provider_stream("openai")[0]
    server.add(sse_reply([role_chunk, Stall(None)]), sse_reply(provider_stream("openai", ["ok"])))
    started = time.perf_counter()
    events, error = await run(provider(server, client, policy=policy))
    assert error is None
    assert [r.reason for r in retries(events)] == ["no data for 0.3 s"]
    assert texts(events) == ["ok"]
    assert 0.25 < time.perf_counter() - started < 5.0
    server.wait_for_disconnect(index=0)  # the stale connection was closed, not leaked


async def test_drop_before_content_is_retried(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    body = provider_stream("anthropic", ["x"])
    server.add(sse_reply([*body[:3], Drop(reset=True)]))  # message_start, ping, block start
    server.add(sse_reply(provider_stream("anthropic", ["again"])))
    events, error = await run(provider(server, client, "anthropic"))
    assert error is None
    assert texts(events) == ["again"]
    assert len(retries(events)) == 1 and len(server.requests) == 2


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_drop_after_content_is_reported_not_replayed(
    kind: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    body = provider_stream(kind, ["Once", " upon", " a time"])
    cut = {"openai": 3, "anthropic": 5}[kind]  # after the second text delta
    server.add(sse_reply([*body[:cut], Drop()]), sse_reply(provider_stream(kind, ["replay"])))
    events, error = await run(provider(server, client, kind))
    assert isinstance(error, NetworkError)
    name = {"openai": "OpenAI", "anthropic": "Anthropic"}[kind]
    assert str(error) == f"The connection to {name} dropped mid-reply; the partial reply was kept."
    assert texts(events) == ["Once", " upon"]
    assert retries(events) == [] and len(server.requests) == 1


async def test_stall_after_content_is_reported_not_replayed(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    policy = RetryPolicy(base_delay_s=0.01, jitter=0.0, stale_timeout_s=0.2)
    body = provider_stream("openai", ["partial"])
    server.add(sse_reply([*body[:2], Stall(None)]), sse_reply(provider_stream("openai", ["no"])))
    events, error = await run(provider(server, client, policy=policy))
    assert isinstance(error, NetworkError)
    assert "stopped sending mid-reply" in str(error) and "partial reply was kept" in str(error)
    assert texts(events) == ["partial"] and len(server.requests) == 1


async def test_connect_refused_is_retried_then_reported(client: httpx.AsyncClient) -> None:
    with ScriptedServer() as gone:
        url = gone.base_url("openai")
    config = ProviderConfig(
        "openai", url, "m", retry=RetryPolicy(max_attempts=3, base_delay_s=0.01)
    )
    events: list[StreamEvent] = []
    with pytest.raises(NetworkError) as caught:
        async for event in create_provider(config, client).stream(REQUEST, CancelToken()):
            events.append(event)
    assert [r.attempt for r in retries(events)] == [1, 2]
    assert {r.reason for r in retries(events)} == {"could not connect"}
    assert "Could not connect to OpenAI at 127.0.0.1:" in str(caught.value)


async def test_attempts_are_bounded(server: ScriptedServer, client: httpx.AsyncClient) -> None:
    server.add(*[json_reply(500, {"error": {"message": "boom"}}) for _ in range(5)])
    events, error = await run(provider(server, client, policy=RetryPolicy(3, 0.01, jitter=0.0)))
    assert isinstance(error, ServerError)
    assert str(error) == "OpenAI had a server error (500): boom"
    assert len(retries(events)) == 2 and len(server.requests) == 3


async def test_the_api_key_never_reaches_the_logs(
    server: ScriptedServer, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.add(
        json_reply(503, {"error": {"message": f"echoing your key {KEY}"}}),
        sse_reply(provider_stream("openai", ["hi"])),
        json_reply(401, {"error": {"message": f"bad key {KEY}"}}),
        json_reply(400, {"error": {"message": f"key {KEY} cannot use this model"}}),
    )
    for kind in ("openai", "azure"):
        await run(provider(server, client, kind))
    _, error = await run(provider(server, client, "anthropic"))
    assert str(error) == "Anthropic refused the request (400): key [api key] cannot use this model"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert server.requests[2].headers["api-key"] == KEY
    retry_logs = [r for r in caplog.records if r.name == "providers.retry"]
    assert len(retry_logs) == 1 and "[api key]" in retry_logs[0].getMessage()
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)
    assert KEY not in repr(ProviderConfig("openai", "http://x/v1", "m", api_key=KEY))


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0, jitter=0.0)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    jittered = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0, jitter=0.5)
    delays = {jittered.backoff_s(2) for _ in range(50)}
    assert len(delays) > 1 and all(1.0 <= d <= 2.0 for d in delays)


def test_retry_after_headers() -> None:
    assert retry_after_s(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after_s(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_s(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after_s(httpx.Headers()) is None


def test_server_messages_are_found_in_each_providers_shape() -> None:
    anthropic = b'{"type":"error","error":{"type":"not_found_error","message":"model: x"}}'
    assert server_message(anthropic) == "model: x"
    assert server_message(b'{"detail": "Not Found"}') == "Not Found"
    assert server_message(b"<html><body>502 Bad Gateway</body></html>") == ""
    assert server_message(b"upstream connect error") == "upstream connect error"
    error = error_for_status(422, {}, b'{"error": {"message": "bad tools"}}', "vLLM")
    assert isinstance(error, BadRequestError) and not error.retryable
    assert str(error) == "vLLM refused the request (422): bad tools"
