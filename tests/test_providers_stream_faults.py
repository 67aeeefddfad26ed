"""Streams that misbehave politely or not, against the real local server: events with no
data, a stream that stalls after its headers, and keys too short to be secrets."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.agent import events as ev
from app.config.logging_setup import redact, register_secret
from providers import (
    BadRequestError,
    CancelToken,
    ChatRequest,
    ProviderConfig,
    ProviderError,
    RetryPolicy,
    StreamEvent,
    TextDelta,
    UserMessage,
    create_provider,
)
from tests.support.controller_harness import make_controller
from tests.support.sse_server import (
    ScriptedServer,
    Send,
    Stall,
    json_reply,
    provider_stream,
    sse_reply,
)

REQUEST = ChatRequest(model="test-model", messages=[UserMessage("hello")])
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, jitter=0.0)


async def collect(
    server: ScriptedServer, client: httpx.AsyncClient, kind: str, api_key: str = "sk-test"
) -> tuple[list[StreamEvent], ProviderError | None]:
    config = ProviderConfig(kind, server.base_url(kind), "test-model", api_key=api_key, retry=FAST)
    events: list[StreamEvent] = []
    try:
        async for event in create_provider(config, client).stream(REQUEST, CancelToken()):
            events.append(event)
    except ProviderError as exc:
        return events, exc
    return events, None


@pytest.mark.parametrize("kind", ["openai", "anthropic", "azure"])
async def test_events_without_data_are_not_dispatched(
    kind: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """``event: ping`` alone and an empty ``data:`` carry nothing (SSE spec: not
    dispatched); the reply goes on around them."""
    body = provider_stream(kind, ["Hel", "lo."])
    nothing = [Send(b"event: ping\n\n"), Send(b"data:\n\n"), Send(b"event: ping\ndata: \n\n")]
    server.add(sse_reply([*body[:2], *nothing, *body[2:]]))
    events, error = await collect(server, client, kind)
    assert error is None, error
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello."
    assert len(server.requests) == 1


async def test_a_stall_after_the_headers_is_told_soon_retried_once_then_fails(
    server: ScriptedServer, whisper: object, quiet: object
) -> None:
    """Headers, then silence: the user hears "the server stopped sending; retrying" after
    one stall timeout, and the failure after the second (it was four 30 s read timeouts)."""
    role_only = provider_stream("openai", ["never"])[:1]
    server.add(
        sse_reply([*role_only, Stall()]),
        sse_reply([*role_only, Stall()]),
        sse_reply(provider_stream("openai", ["a third try"])),  # must not be asked for
    )
    policy = RetryPolicy(base_delay_s=0.05, jitter=0.0, stall_timeout_s=0.5)
    controller, log, client = make_controller(
        server, transcriber=whisper, speech=quiet, retry=policy
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    controller.submit_text("hi")
    status = await log.wait_for(ev.Status, lambda e: "stopped sending" in e.text)
    failed = await log.wait_for(ev.TurnFailed, timeout_s=20)
    assert loop.time() - started < 15  # a hang bound: 2 × 0.5 s + 0.05 s in theory
    assert status.text == "OpenAI: the server stopped sending — retrying in 0.1 s (attempt 2 of 2)"
    assert failed.kind == "network"
    assert failed.message == "OpenAI stopped sending: nothing for 0.5 s after the reply began."
    assert len(server.requests) == 2
    server.wait_for_disconnect(timeout_s=5.0, index=1)  # the stalled stream was closed
    await controller.close()
    await client.aclose()


async def test_a_short_key_does_not_mask_pieces_of_words(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """``--api-key k`` (a local server that wants some key) left "fa[api key]e server"."""
    server.add(json_reply(400, {"error": {"message": "the fake server wants a model"}}))
    _, error = await collect(server, client, "openai", api_key="k")
    assert isinstance(error, BadRequestError)
    assert "the fake server wants a model" in str(error)


async def test_a_real_key_is_masked_as_a_whole_token_only(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    key = "sk-0123456789abcdef"
    echo = f"bad key {key}; not this one: {key}XYZ"
    server.add(json_reply(400, {"error": {"message": echo}}))
    _, error = await collect(server, client, "openai", api_key=key)
    assert f"bad key [api key]; not this one: {key}XYZ" in str(error)


def test_log_redaction_masks_whole_secrets_and_leaves_short_strings_alone() -> None:
    register_secret("serv")  # too short to be a secret
    register_secret("local-key-1234")
    assert redact("the fake server said no") == "the fake server said no"
    assert redact("key local-key-1234 refused") == "key *** refused"
    assert redact("path /local-key-12345/x") == "path /local-key-12345/x"  # another token
