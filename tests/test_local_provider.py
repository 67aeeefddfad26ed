"""The in-process llama.cpp provider on a real GGUF (Gemma 3 270M, a base model: these tests
check the plumbing — streaming, cancel, reuse, errors — not the answers)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from providers import (
    AssistantMessage,
    CancelToken,
    ChatRequest,
    Done,
    LocalExtraMissing,
    LocalModelConfig,
    LocalModelSource,
    LocalProvider,
    ModelFileMissing,
    ModelFileUnreadable,
    ProviderConfig,
    StreamCancelled,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
    create_provider,
)
from providers.local_model import load_model
from tests.support.local_llm import CountingEval, HoldWatch, gemma_gguf, requires_llama

pytestmark = [requires_llama, pytest.mark.slow]
HANG_S = 60  # generous bound: only a hang fails on time


def request(text: str, max_tokens: int | None = 48, **kwargs: Any) -> ChatRequest:
    return ChatRequest(
        model="", messages=[UserMessage(text)], max_tokens=max_tokens, temperature=0, **kwargs
    )


@pytest.fixture(scope="module")
def source() -> Iterator[LocalModelSource]:
    """One loaded model for the module, as the app keeps one. This GGUF carries no chat
    template (under the ChatML fallback the base model says nothing), so the format is chosen."""
    fractions: list[float] = []
    src = LocalModelSource(
        LocalModelConfig(str(gemma_gguf()), chat_format="gemma", context_length=1024, threads=2),
        on_progress=fractions.append,
    )
    src.start().result(timeout=HANG_S)
    src.progress_seen = fractions  # type: ignore[attr-defined]
    yield src
    src.close()


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [event async for event in stream]


async def test_streams_text_deltas_then_done(source: LocalModelSource) -> None:
    provider = LocalProvider(source)
    events = await asyncio.wait_for(
        collect(provider.stream(request("The capital of France is"), CancelToken())), HANG_S
    )
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 2, events
    assert "".join(d.text for d in deltas).strip()
    assert isinstance(events[-1], Done)
    assert events[-1].finish_reason in ("stop", "length")
    assert not any(isinstance(e, Done) for e in events[:-1])


def test_a_model_without_a_template_falls_back_to_chatml() -> None:
    model = load_model(LocalModelConfig(str(gemma_gguf()), context_length=256))
    try:
        assert model.llama.metadata.get("tokenizer.chat_template") is None
        assert model.chat_format == model.llama.chat_format == "chatml"
    finally:
        model.close()


def test_loading_leaves_the_process_output_alone(capfd: pytest.CaptureFixture[str]) -> None:
    """llama-cpp-python's quiet mode points file descriptors 1 and 2 at /dev/null while a
    model loads, which would swallow what other threads print (headless JSON events)."""
    written: list[float] = []

    def progress(fraction: float) -> bool:
        if not written:
            os.write(1, b"an event printed during the load\n")
            written.append(fraction)
        return True

    load_model(LocalModelConfig(str(gemma_gguf()), context_length=256), progress).close()
    out, err = capfd.readouterr()
    assert written and "an event printed during the load" in out
    assert "llama_model_loader" not in err  # llama.cpp's own chatter goes to the log


def test_load_reported_progress(source: LocalModelSource) -> None:
    seen = source.progress_seen  # type: ignore[attr-defined]
    assert seen and seen[-1] == pytest.approx(1.0)
    assert seen == sorted(seen)


async def test_cancel_stops_generation_within_a_token(source: LocalModelSource) -> None:
    provider = LocalProvider(source)
    model = await source.get()
    token = CancelToken()
    received: list[str] = []
    with CountingEval(model.llama) as evals:
        stream = provider.stream(request("Count from one to five hundred:", 400), token)
        with pytest.raises(StreamCancelled):
            async for event in stream:
                if isinstance(event, TextDelta):
                    received.append(event.text)
                if len(received) == 3:
                    token.cancel("barge-in")
                    cancelled_at = time.monotonic()
        # The worker has left the model once the lock is free again.
        acquired = await asyncio.to_thread(model.lock.acquire, timeout=HANG_S)
        assert acquired
        model.lock.release()
    after_cancel = [t for t in evals.starts if t > cancelled_at]
    assert len(received) == 3  # nothing yielded after the cancel
    assert len(evals.starts) >= 3  # the prompt (which gives the first token) + two more shown
    assert len(after_cancel) <= 1, f"{len(after_cancel)} tokens evaluated after the cancel"


async def test_two_turns_in_a_row_reuse_the_loaded_model(source: LocalModelSource) -> None:
    provider = LocalProvider(source)
    model = await source.get()
    first_token = CancelToken()
    async for event in provider.stream(request("Once upon a time", 200), first_token):
        if isinstance(event, TextDelta):
            first_token.cancel("new turn")
            break
    events = await asyncio.wait_for(
        collect(provider.stream(request("Hello, my name is", 8), CancelToken())), HANG_S
    )
    assert any(isinstance(e, TextDelta) for e in events)
    assert isinstance(events[-1], Done)
    assert (await source.get()) is model


async def test_twenty_interrupts_leave_no_generation_behind(source: LocalModelSource) -> None:
    provider = LocalProvider(source)
    model = await source.get()
    with CountingEval(model.llama) as evals:
        for turn in range(20):
            token = CancelToken()
            with pytest.raises(StreamCancelled):
                async for event in provider.stream(request(f"Story {turn}: once upon", 200), token):
                    if isinstance(event, TextDelta):
                        token.cancel("barge-in")
        workers = [t for t in threading.enumerate() if t.name == "harken-local-generate"]
        for worker in workers:
            await asyncio.to_thread(worker.join, HANG_S)
    assert not any(worker.is_alive() for worker in workers)
    # each turn: the prompt, the token shown, at most one more (not 200)
    assert len(evals.starts) <= 20 * 4, len(evals.starts)
    events = await collect(provider.stream(request("Hello", 4), CancelToken()))
    assert isinstance(events[-1], Done)  # the model is free for the next turn


async def test_a_cancelled_token_streams_nothing(source: LocalModelSource) -> None:
    token = CancelToken()
    token.cancel("before start")
    with pytest.raises(StreamCancelled):
        await collect(LocalProvider(source).stream(request("Hi"), token))


async def test_tool_calls_are_assembled_into_the_same_events(source: LocalModelSource) -> None:
    """A chat handler that returns scripted chunks (the tiny base model calls no tools): the
    provider passes the tools through and assembles the partial tool-call deltas."""
    model = await source.get()
    seen: dict[str, Any] = {}

    def handler(**kwargs: Any) -> Iterator[dict[str, Any]]:
        seen.update(kwargs)

        def chunks() -> Iterator[dict[str, Any]]:
            for delta, reason in (
                ({"role": "assistant", "content": "Let me check. "}, None),
                ({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "now"}}]}, None),
                ({"tool_calls": [{"index": 0, "function": {"arguments": '{"tz": '}}]}, None),
                ({"tool_calls": [{"index": 0, "function": {"arguments": '"UTC"}'}}]}, None),
                ({}, "tool_calls"),
            ):
                yield {"choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}

        return chunks()

    tool = ToolSpec("now", "The current time", {"type": "object", "properties": {}})
    model.llama.chat_handler = handler
    try:
        events = await collect(
            LocalProvider(source).stream(request("What time is it?", tools=[tool]), CancelToken())
        )
    finally:
        model.llama.chat_handler = None
    assert seen["tools"][0]["function"]["name"] == "now" and seen["tool_choice"] == "auto"
    assert seen["stream"] is True
    assert events == [
        TextDelta("Let me check. "),
        ToolCall("call_1", "now", '{"tz": "UTC"}'),
        Done("tool_calls"),
    ]


async def test_tool_calls_written_in_tags_are_run_not_spoken(source: LocalModelSource) -> None:
    """A template that asks for ``<tool_call>`` tags (Qwen2.5 and others): the tools are
    passed to it, and the tagged call the model writes becomes a ToolCall, not text."""
    model = await source.get()
    seen: dict[str, Any] = {}
    text = 'Checking. <tool_call>\n{"name": "now", "arguments": {"tz": "UTC"}}\n</tool_call>'

    def handler(**kwargs: Any) -> Iterator[dict[str, Any]]:
        seen.update(kwargs)
        pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
        chunks = [{"choices": [{"delta": {"content": p}, "finish_reason": None}]} for p in pieces]
        return iter([*chunks, {"choices": [{"delta": {}, "finish_reason": "stop"}]}])

    model.llama.chat_handler, model.has_tool_template = handler, True
    tool = ToolSpec("now", "The current time")
    previous = AssistantMessage("", (ToolCall("call_9", "now", '{"tz": "CET"}'),))
    req = ChatRequest(
        model="",
        messages=[UserMessage("Time?"), previous, ToolResultMessage("call_9", "now", "12:00")],
        tools=[tool],
    )
    try:
        events = await collect(LocalProvider(source).stream(req, CancelToken()))
    finally:
        model.llama.chat_handler, model.has_tool_template = None, False
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Checking. "
    assert events[-2:] == [ToolCall("call_0", "now", '{"tz": "UTC"}'), Done("tool_calls")]
    assert seen["tools"][0]["function"]["name"] == "now"
    # Hugging Face templates render earlier calls' arguments as objects, not JSON strings
    assert seen["messages"][1]["tool_calls"][0]["function"]["arguments"] == {"tz": "CET"}


async def test_tools_are_not_offered_to_a_template_that_cannot_return_them(
    source: LocalModelSource,
) -> None:
    model = await source.get()
    original = model.llama.create_chat_completion
    seen: dict[str, Any] = {}

    def spy(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return original(**kwargs)

    model.llama.create_chat_completion = spy
    try:
        tool = ToolSpec("now", "The current time")
        await collect(LocalProvider(source).stream(request("Hi", 2, tools=[tool]), CancelToken()))
    finally:
        del model.llama.create_chat_completion
    assert "tools" not in seen and seen["messages"][-1]["content"] == "Hi"


async def test_create_provider_builds_a_local_provider() -> None:
    config = ProviderConfig(
        kind="local", base_url="", model="", local=LocalModelConfig(str(gemma_gguf()))
    )
    provider = create_provider(config, client=None)  # type: ignore[arg-type]
    assert isinstance(provider, LocalProvider) and provider.name == "Local model"


# -- errors a person can act on --------------------------------------------------------------


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileMissing, match="does not exist"):
        load_model(LocalModelConfig(str(tmp_path / "gone.gguf")))
    with pytest.raises(ModelFileMissing, match="No local model file is chosen"):
        load_model(LocalModelConfig(""))


def test_a_file_that_is_not_gguf_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"<!DOCTYPE html> this is a download page, not a model")
    with pytest.raises(ModelFileUnreadable, match="not a GGUF model file"):
        load_model(LocalModelConfig(str(bogus)))


def test_a_truncated_gguf_is_a_clear_error(tmp_path: Path) -> None:
    truncated = tmp_path / "half.gguf"
    with gemma_gguf().open("rb") as src, truncated.open("wb") as dst:
        dst.write(src.read(5 << 20))  # the header and a little of the weights
    with pytest.raises(ModelFileUnreadable, match="damaged, incomplete"):
        load_model(LocalModelConfig(str(truncated)))


async def test_a_load_error_reaches_the_turn(tmp_path: Path) -> None:
    provider = LocalProvider(LocalModelSource(LocalModelConfig(str(tmp_path / "gone.gguf"))))
    with pytest.raises(ModelFileMissing) as info:
        await collect(provider.stream(request("Hi"), CancelToken()))
    assert info.value.kind.value == "model"


def test_without_the_extra_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import fails as if not installed
    with pytest.raises(LocalExtraMissing) as info:
        load_model(LocalModelConfig(str(gemma_gguf())))
    assert "pip install 'harken[local]'" in str(info.value)
    assert "-DGGML_NATIVE=OFF" in str(info.value)


def test_closing_the_source_aborts_a_load_in_progress() -> None:
    started = threading.Event()
    release = threading.Event()
    answers: list[bool] = []

    def slow_loader(config: LocalModelConfig, progress: Any) -> Any:
        answers.append(progress(0.1))
        started.set()
        release.wait(HANG_S)
        answers.append(progress(0.5))
        return load_model(LocalModelConfig(""))  # never reached with a real file

    src = LocalModelSource(LocalModelConfig("x.gguf"), loader=slow_loader)
    future = src.start()
    assert started.wait(HANG_S)
    src.close()
    release.set()
    with pytest.raises(ModelFileMissing):
        future.result(HANG_S)
    assert answers == [True, False]  # llama.cpp is told to stop loading once closed


async def test_a_hold_stops_token_evaluation_until_it_is_released(
    source: LocalModelSource,
) -> None:
    """While the user talks over the reply no token is computed (Whisper gets the cores);
    released, the same reply goes on."""
    provider = LocalProvider(source)
    watch = HoldWatch(provider.generation_hold)
    model = await source.get()
    token = CancelToken()
    received: list[str] = []
    release = None
    with CountingEval(model.llama) as evals:
        async for event in provider.stream(request("Count from one to five hundred:", 24), token):
            if isinstance(event, TextDelta):
                received.append(event.text)
                if len(received) == 3:
                    release = provider.hold()
                    held_at = time.monotonic()
                    # The generation thread stops in the hold (after what was under way) ...
                    assert await asyncio.to_thread(watch.parked.wait, HANG_S)
                    during = evals.since(held_at)
                    assert not watch.left.is_set()  # ... and stays there while held
                    release()
                    released_at = time.monotonic()
                    assert await asyncio.to_thread(watch.left.wait, HANG_S)
    assert release is not None
    assert during <= 2, f"{during} tokens evaluated while held"
    assert evals.since(released_at), "generation did not go on"
    assert len(received) > 3 and provider.generation_hold.waits >= 1


async def test_a_cancel_ends_a_held_generation_at_once(source: LocalModelSource) -> None:
    provider = LocalProvider(source)
    watch = HoldWatch(provider.generation_hold)
    model = await source.get()
    token = CancelToken()
    provider.hold()  # never released: only the cancel may end it
    with CountingEval(model.llama) as evals:
        stream = provider.stream(request("Once upon a time", 200), token)
        consumer = asyncio.ensure_future(collect(stream))
        assert await asyncio.to_thread(watch.parked.wait, HANG_S)
        assert evals.starts == []  # held before the prompt was evaluated
        token.cancel("barge-in")
        with pytest.raises(StreamCancelled):
            await asyncio.wait_for(consumer, 2.0)
        started = time.monotonic()
        acquired = await asyncio.to_thread(model.lock.acquire, timeout=2.0)
        assert acquired, "the held generation did not leave the model"
        model.lock.release()
    assert time.monotonic() - started < 2.0
    assert evals.starts == []
