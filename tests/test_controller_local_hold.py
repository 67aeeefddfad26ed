"""Barge-in on the in-process model: while the user talks over the reply the model computes
no tokens (Whisper gets the cores); a cough lets the same reply go on, words start the new
turn on a model that is not held. Real parts: Gemma 3 270M in llama.cpp, Whisper tiny.en."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from app.agent import events as ev
from app.agent.controller import AgentController
from app.agent.tools import build_default_registry
from providers import LocalModelConfig, LocalModelSource, LocalProvider
from tests.support.controller_harness import EventLog
from tests.support.local_llm import CountingEval, HoldWatch, gemma_gguf, requires_llama
from tests.support.speech import SpeechLibrary, white_noise

pytestmark = [requires_llama, pytest.mark.slow]
HANG_S = 30


@pytest.fixture(scope="module")
def source() -> Iterator[LocalModelSource]:
    src = LocalModelSource(
        LocalModelConfig(str(gemma_gguf()), chat_format="gemma", context_length=1024, threads=1)
    )
    src.start().result(timeout=HANG_S)
    yield src
    src.close()


@pytest.fixture
async def closing() -> AsyncIterator[list[AgentController]]:
    """Controllers to close when the test ends, also when it failed half-way."""
    controllers: list[AgentController] = []
    yield controllers
    for controller in controllers:
        controller.stop()
        await controller.close()


async def talking_over_a_reply(
    source: LocalModelSource, whisper: object, quiet: object, closing: list[AgentController]
) -> tuple[LocalProvider, AgentController, EventLog, HoldWatch]:
    """A controller on the local model, its reply streaming, and the user starting to talk.
    The watch says when the generation is parked in the hold ``speech_started`` took."""
    provider = LocalProvider(source)
    watch = HoldWatch(provider.generation_hold)
    log = EventLog()
    controller = AgentController(
        provider=provider,
        model="gemma",
        transcriber=whisper,  # type: ignore[arg-type]
        speech=quiet,  # type: ignore[arg-type]
        tools=build_default_registry(),
        emit=log,
        system_prompt=None,
    )
    closing.append(controller)
    controller.submit_text("Write a very long story about a dragon and a knight.")
    await log.wait_for(ev.ReplyDelta, timeout_s=HANG_S)
    controller.speech_started()
    return provider, controller, log, watch


async def test_noise_over_a_local_reply_holds_it_then_lets_it_go_on(
    source: LocalModelSource, whisper: object, quiet: object, closing: list[AgentController]
) -> None:
    model = await source.get()
    with CountingEval(model.llama) as evals:
        held_at = time.monotonic()
        provider, controller, log, watch = await talking_over_a_reply(
            source, whisper, quiet, closing
        )
        assert provider.generation_hold.held
        # The generation stops in the hold, after what was under way when it came
        # (a text chunk may take two tokens), and stays there.
        assert await asyncio.to_thread(watch.parked.wait, HANG_S)
        assert evals.since(held_at) <= 2 and not watch.left.is_set()
        shown = len(log.of(ev.ReplyDelta))
        controller.utterance(white_noise(0.8, level_dbfs=-30.0), start_s=0.0, end_s=0.8)
        await log.wait_for(ev.FalseInterruption, timeout_s=HANG_S)
        assert not provider.generation_hold.held
        # The same reply goes on (this base model writes until its context is full).
        await log.wait_for(
            ev.ReplyDelta, lambda _e: len(log.of(ev.ReplyDelta)) >= shown + 5, timeout_s=HANG_S
        )
    assert {d.turn_id for d in log.of(ev.ReplyDelta)} == {1}
    assert log.of(ev.TurnInterrupted) == [] and len(log.of(ev.TurnStarted)) == 1


async def test_words_over_a_local_reply_start_the_new_turn_unheld(
    source: LocalModelSource,
    whisper: object,
    quiet: object,
    speech: SpeechLibrary,
    closing: list[AgentController],
) -> None:
    provider, controller, log, _ = await talking_over_a_reply(source, whisper, quiet, closing)
    assert provider.generation_hold.held
    audio = speech.say("What time is it now?")
    controller.utterance(audio, start_s=0.0, end_s=len(audio) / 16000)
    transcript = await log.wait_for(ev.Transcript, timeout_s=HANG_S)
    await log.wait_for(ev.TurnInterrupted, lambda e: e.turn_id == 1, timeout_s=HANG_S)
    assert not provider.generation_hold.held
    await log.wait_for(ev.ReplyDelta, lambda e: e.turn_id == transcript.turn_id, timeout_s=HANG_S)


async def test_a_discarded_blip_releases_the_hold(
    source: LocalModelSource, whisper: object, quiet: object, closing: list[AgentController]
) -> None:
    provider, controller, log, _ = await talking_over_a_reply(source, whisper, quiet, closing)
    assert provider.generation_hold.held
    controller.speech_discarded()
    assert not provider.generation_hold.held
