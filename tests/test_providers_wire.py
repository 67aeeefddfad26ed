"""Each provider speaks its own wire format: request bodies, URLs and headers as the
server receives them, tool calls assembled from many deltas, and bad streams reported."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from providers import (
    AssistantMessage,
    BadRequestError,
    BadResponseError,
    CancelToken,
    ChatRequest,
    Done,
    Provider,
    ProviderConfig,
    ProviderError,
    RetryPolicy,
    ServerError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    Usage,
    UserMessage,
    create_provider,
)
from tests.support.sse_server import (
    Reply,
    ScriptedServer,
    ScriptedToolCall,
    Send,
    Stall,
    json_reply,
    provider_stream,
    sse_event,
    sse_reply,
)

FAST = RetryPolicy(max_attempts=2, base_delay_s=0.01, jitter=0.0)
WEATHER = ToolSpec(
    "get_weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
HISTORY = ChatRequest(
    model="test-model",
    system="You are Harken.",
    tools=[WEATHER],
    max_tokens=300,
    temperature=0.2,
    messages=[
        UserMessage("Weather in Paris and Oslo?"),
        AssistantMessage(
            "Let me check.",
            (
                ToolCall("call_1", "get_weather", '{"city": "Paris"}'),
                ToolCall("call_2", "get_weather", '{"city": "Oslo"}'),
            ),
        ),
        ToolResultMessage("call_1", "get_weather", "18 °C, sunny"),
        ToolResultMessage("call_2", "get_weather", "service down", is_error=True),
        UserMessage("Thanks!"),
    ],
)
LONG_ARGS = json.dumps({"city": "San Francisco", "units": "metric", "note": "x" * 120})


def provider(
    server: ScriptedServer, client: httpx.AsyncClient, kind: str, **config: str
) -> Provider:
    settings = ProviderConfig(
        kind,
        config.pop("base_url", server.base_url(kind)),
        config.pop("model", "test-model"),
        api_key="k-123",
        retry=FAST,
        **config,
    )
    return create_provider(settings, client)


async def collect(chat: Provider, request: ChatRequest = HISTORY) -> list[StreamEvent]:
    return [event async for event in chat.stream(request, CancelToken())]


async def failure(chat: Provider) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await collect(chat)
    return caught.value


async def test_openai_request_format(server: ScriptedServer, client: httpx.AsyncClient) -> None:
    server.add(sse_reply(provider_stream("openai", ["ok"])))
    await collect(provider(server, client, "openai"))
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer k-123"
    assert request.headers["accept"] == "text/event-stream"
    body = request.json()
    assert body["model"] == "test-model" and body["stream"] is True
    assert (body["max_tokens"], body["temperature"]) == (300, 0.2)
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER.parameters,
            },
        }
    ]
    assert body["messages"] == [
        {"role": "system", "content": "You are Harken."},
        {"role": "user", "content": "Weather in Paris and Oslo?"},
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18 °C, sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": "Error: service down"},
        {"role": "user", "content": "Thanks!"},
    ]


async def test_local_server_without_key_sends_no_authorization(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(sse_reply(provider_stream("openai", ["ok"])))
    config = ProviderConfig("openai", server.base_url("openai") + "/", "llama3.2", retry=FAST)
    await collect(create_provider(config, client), ChatRequest("", [UserMessage("hi")]))
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert "authorization" not in request.headers
    assert request.json()["model"] == "llama3.2"  # the configured model when none is asked


async def test_anthropic_request_format(server: ScriptedServer, client: httpx.AsyncClient) -> None:
    server.add(sse_reply(provider_stream("anthropic", ["ok"])))
    await collect(provider(server, client, "anthropic"))
    [request] = server.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "k-123"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    body = request.json()
    assert body["system"] == "You are Harken."
    assert (body["max_tokens"], body["temperature"], body["stream"]) == (300, 0.2, True)
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "input_schema": WEATHER.parameters,
        }
    ]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Oslo?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "call_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "call_2",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                },
            ],
        },
        {
            "role": "user",  # tool results and the next user words share one turn
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18 °C, sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": "service down",
                    "is_error": True,
                },
                {"type": "text", "text": "Thanks!"},
            ],
        },
    ]


async def test_anthropic_drops_empty_turns_and_defaults_max_tokens(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """An interrupted reply with no words would be rejected as an empty turn."""
    server.add(sse_reply(provider_stream("anthropic", ["ok"])))
    request = ChatRequest("m", [UserMessage("first"), AssistantMessage(""), UserMessage("second")])
    await collect(provider(server, client, "anthropic"), request)
    body = server.requests[0].json()
    assert "system" not in body and "tools" not in body
    assert body["max_tokens"] == 4096
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}],
        }
    ]


async def test_azure_request_format(server: ScriptedServer, client: httpx.AsyncClient) -> None:
    server.add(sse_reply(provider_stream("azure", ["ok"])))
    chat = provider(server, client, "azure", model="my-gpt4o", api_version="2024-06-01")
    await collect(chat)
    [request] = server.requests
    assert request.path == "/openai/deployments/my-gpt4o/chat/completions"
    assert request.query == {"api-version": "2024-06-01"}
    assert request.headers["api-key"] == "k-123"
    assert "authorization" not in request.headers
    assert request.json()["messages"][0] == {"role": "system", "content": "You are Harken."}
    assert chat.name == "Azure OpenAI"


async def test_azure_defaults_the_api_version(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(sse_reply(provider_stream("azure", ["ok"])))
    await collect(provider(server, client, "azure", base_url=server.url + "/openai/"))
    assert server.requests[0].path == "/openai/deployments/test-model/chat/completions"
    assert server.requests[0].query == {"api-version": "2024-10-21"}


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_tool_calls_assemble_from_many_deltas(
    kind: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    calls = [
        ScriptedToolCall("call_a", "get_weather", LONG_ARGS, pieces=17),
        ScriptedToolCall("call_b", "get_time", '{"tz": "Europe/Oslo"}', pieces=6),
        ScriptedToolCall("call_c", "list_timers", "", pieces=1),
    ]
    server.add(sse_reply(provider_stream(kind, ["Checking", "…"], calls)))
    events = await collect(provider(server, client, kind))
    tool_calls = [e for e in events if isinstance(e, ToolCall)]
    assert tool_calls == [
        ToolCall("call_a", "get_weather", LONG_ARGS),
        ToolCall("call_b", "get_time", '{"tz": "Europe/Oslo"}'),
        ToolCall("call_c", "list_timers", "{}"),
    ]
    assert tool_calls[0].arguments()["note"] == "x" * 120
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Checking", "…"]
    assert events[-1] == Done("tool_calls", Usage(5, 7))


@pytest.mark.parametrize(
    ("kind", "reason", "normalised"),
    [
        ("openai", "length", "length"),
        ("openai", "content_filter", "content_filter"),
        ("anthropic", "end_turn", "stop"),
        ("anthropic", "max_tokens", "length"),
    ],
)
async def test_finish_reasons_are_normalised(
    kind: str, reason: str, normalised: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    option: dict[str, Any] = {"finish_reason" if kind == "openai" else "stop_reason": reason}
    server.add(sse_reply(provider_stream(kind, ["a"], **option)))
    events = await collect(provider(server, client, kind))
    assert events[-1] == Done(normalised, Usage(5, 7))


async def test_openai_stream_without_done_marker_still_finishes(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """Some compatible servers end the body after the finish reason, without [DONE]."""
    server.add(sse_reply(provider_stream("openai", ["hi"], usage=None, done=False)))
    events = await collect(provider(server, client, "openai"))
    assert events == [TextDelta("hi"), Done("stop", None)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([Send(b"data {no colon, not SSE}\n\n")], "not a valid event stream"),
        ([sse_event("{not json")], "not valid JSON"),
        ([sse_event("[1, 2]")], "not a JSON object"),
        ([sse_event({"choices": "nope"})], "choices are not a list"),
    ],
)
async def test_malformed_streams_are_bad_responses(
    body: list[Send], expected: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(sse_reply(body), sse_reply(provider_stream("openai", ["unused"])))
    error = await failure(provider(server, client, "openai"))
    assert isinstance(error, BadResponseError)
    assert expected in str(error) and "OpenAI" in str(error)
    assert len(server.requests) == 1  # a broken protocol is not retried


async def test_a_json_answer_instead_of_a_stream_is_a_bad_response(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(json_reply(200, {"choices": [{"message": {"content": "not streamed"}}]}))
    error = await failure(provider(server, client, "openai", display_name="LM Studio"))
    assert isinstance(error, BadResponseError)
    assert str(error).startswith("LM Studio answered with application/json instead of an event")


async def test_anthropic_error_event_before_content_is_retried(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server.add(
        sse_reply([sse_event(overloaded, event="error")]),
        sse_reply(provider_stream("anthropic", ["fine"])),
    )
    events = await collect(provider(server, client, "anthropic"))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["fine"]
    assert len(server.requests) == 2


async def test_openai_error_chunk_mid_stream(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """vLLM / OpenRouter report a failure inside the stream; after content it is kept."""
    body = provider_stream("openai", ["partial"])[:2]
    error_chunk = sse_event({"error": {"message": "upstream timed out", "code": 502}})
    server.add(Reply(body=[*body, error_chunk]))
    error = await failure(provider(server, client, "openai", display_name="OpenRouter"))
    assert isinstance(error, ServerError)
    assert str(error) == (
        "OpenRouter had a server error (502): upstream timed out. The partial reply was kept."
    )
    assert len(server.requests) == 1


async def test_unknown_kind_is_refused(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="use one of openai, anthropic, azure"):
        create_provider(ProviderConfig("gemini", "http://x", "m"), client)


@pytest.mark.parametrize("base_url", ["localhost:11434/v1", "ftp://host/v1", "http://[::1/v1"])
async def test_an_invalid_base_url_is_a_bad_request(
    base_url: str, client: httpx.AsyncClient
) -> None:
    config = ProviderConfig("openai", base_url, "m", retry=FAST)
    error = await failure(create_provider(config, client))
    assert isinstance(error, BadRequestError)
    assert str(error).startswith("The base URL for OpenAI is not valid (")
    assert str(error).endswith("Open Settings → Provider to fix it.")


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_finished_reply_leaves_the_connection_reusable(
    kind: str, server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    """The next turn must not pay for a new TCP (and, remotely, TLS) handshake."""
    server.add(*[sse_reply(provider_stream(kind, ["turn"])) for _ in range(3)])
    chat = provider(server, client, kind)
    for _ in range(3):
        assert isinstance((await collect(chat))[-1], Done)
    ports = {request.client_port for request in server.requests}
    assert len(server.requests) == 3 and len(ports) == 1


async def test_a_server_that_keeps_the_stream_open_after_the_end_is_cut_off(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.add(sse_reply([*provider_stream("openai", ["done"]), Stall(None)]))
    events = await asyncio.wait_for(collect(provider(server, client, "openai")), 2.0)
    assert events == [TextDelta("done"), Done("stop", Usage(5, 7))]
    await asyncio.to_thread(server.wait_for_disconnect, 2.0)
