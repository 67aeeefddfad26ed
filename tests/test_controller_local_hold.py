"""Barge-in on the in-process model: while the user talks over the reply the model computes
no tokens (Whisper gets the cores); a cough lets the same reply go on, words start the new
turn on a model that is not held. Real parts: Gemma 3 270M in llama.cpp, Whisper tiny.en."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from app.agent import events as ev
from app.agent.controller import AgentController
from app.agent.tools import build_default_registry
from providers import LocalModelConfig, LocalModelSource, LocalProvider
from tests.support.controller_harness import EventLog
from tests.support.local_llm import gemma_gguf, requires_llama
from tests.support.speech import SpeechLibrary, white_noise
from tests.test_local_provider import CountingEval

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


async def talking_over_a_reply(
    source: LocalModelSource, whisper: object, quiet: object
) -> tuple[LocalProvider, AgentController, EventLog]:
    """A controller on the local model, its reply streaming, and the user starting to talk."""
    provider = LocalProvider(source)
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
    controller.submit_text("Write a very long story about a dragon and a knight.")
    await log.wait_for(ev.ReplyDelta, timeout_s=HANG_S)
    controller.speech_started()
    return provider, controller, log


async def evaluations_while(evals: CountingEval, seconds: float) -> int:
    since = time.monotonic()
    await asyncio.sleep(seconds)
    return len([t for t in evals.starts if t > since])


async def test_noise_over_a_local_reply_holds_it_then_lets_it_go_on(
    source: LocalModelSource, whisper: object, quiet: object
) -> None:
    model = await source.get()
    with CountingEval(model.llama) as evals:
        provider, controller, log = await talking_over_a_reply(source, whisper, quiet)
        assert provider.generation_hold.held
        # what was under way when the hold came (a text chunk may take two tokens)
        assert await evaluations_while(evals, 0.5) <= 2
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
    controller.stop()
    await controller.close()


async def test_words_over_a_local_reply_start_the_new_turn_unheld(
    source: LocalModelSource, whisper: object, quiet: object, speech: SpeechLibrary
) -> None:
    provider, controller, log = await talking_over_a_reply(source, whisper, quiet)
    assert provider.generation_hold.held
    audio = speech.say("What time is it now?")
    controller.utterance(audio, start_s=0.0, end_s=len(audio) / 16000)
    transcript = await log.wait_for(ev.Transcript, timeout_s=HANG_S)
    await log.wait_for(ev.TurnInterrupted, lambda e: e.turn_id == 1, timeout_s=HANG_S)
    assert not provider.generation_hold.held
    await log.wait_for(ev.ReplyDelta, lambda e: e.turn_id == transcript.turn_id, timeout_s=HANG_S)
    await controller.close()


async def test_a_discarded_blip_releases_the_hold(
    source: LocalModelSource, whisper: object, quiet: object
) -> None:
    provider, controller, log = await talking_over_a_reply(source, whisper, quiet)
    assert provider.generation_hold.held
    controller.speech_discarded()
    assert not provider.generation_hold.held
    controller.stop()
    await controller.close()
