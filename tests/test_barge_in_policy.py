"""What the user says over a reply, decided in one place (app.agent.barge_in).

Backchannels let the reply go on, stop phrases cancel it without a new
request, anything else interrupts it — with the real Whisper model on
espeak-ng speech, against the real local SSE server.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.agent import events as ev
from app.agent.barge_in import Verdict
from app.agent.controller import AgentController
from app.agent.conversation import INTERRUPTED_MARKER
from app.agent.phrases import Kind, Phrases
from app.config.settings import load_settings
from app.runtime.composition import RuntimeOptions
from providers import ProviderConfig, RetryPolicy
from providers.events import AssistantMessage, UserMessage
from tests.support.controller_harness import EventLog, make_controller
from tests.support.speech import SpeechLibrary
from tests.support.sse_server import Hold, ScriptedServer, openai_stream, sse_reply

STORY = [f"word{i} " for i in range(60)]  # ~3 s at 0.05 s a piece


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("Uh-huh.", Kind.BACKCHANNEL),
        ("Mm-hmm.", Kind.BACKCHANNEL),
        ("Mm-mm.", Kind.BACKCHANNEL),  # how Whisper often writes mm-hmm
        ("Uh-uh.", Kind.BACKCHANNEL),
        ("Yeah, yeah.", Kind.BACKCHANNEL),
        ("I see.", Kind.BACKCHANNEL),
        ("Got it!", Kind.BACKCHANNEL),
        ("Stop.", Kind.STOP),
        ("Okay, stop please.", Kind.STOP),
        ("Never mind.", Kind.STOP),
        ("That's enough.", Kind.STOP),
        ("cancelled", Kind.STOP),  # Whisper's "Cancel."
        ("Stop and tell me a joke.", None),
        ("Yeah, but why?", None),
        ("Okay, what time is it?", None),
        ("", None),
    ],
)
def test_a_transcript_is_a_backchannel_or_stop_only_when_every_word_is(
    said: str, kind: Kind | None
) -> None:
    assert Phrases().classify(said) is kind


def test_the_word_lists_come_from_settings_toml(private_dirs: Path) -> None:
    path = private_dirs / "config" / "harken" / "settings.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[barge_in]\nbackchannels = ["roger", "copy that"]\nstop_phrases = [3]\n')
    loaded = load_settings()
    assert loaded.settings.barge_in.backchannels == ("roger", "copy that")
    assert any("barge_in.stop_phrases" in m for m in loaded.messages)  # bad type: default
    config = ProviderConfig(kind="openai", base_url="http://127.0.0.1:9/v1", model="m")
    phrases = RuntimeOptions.from_settings(loaded.settings, config).phrases
    assert phrases.classify("Roger.") is Kind.BACKCHANNEL
    assert phrases.classify("Okay.") is None  # replaced, not added to
    assert phrases.classify("Stop!") is Kind.STOP


@pytest.fixture
async def talk(
    server: ScriptedServer, whisper: object, quiet: object
) -> AsyncIterator[tuple[AgentController, EventLog]]:
    # Replies hold mid-stream while the user talks: a stale timeout must not end them.
    patient = RetryPolicy(base_delay_s=0.05, max_delay_s=0.2, stale_timeout_s=120)
    controller, log, client = make_controller(
        server, transcriber=whisper, speech=quiet, retry=patient
    )
    yield controller, log
    await controller.close()
    await client.aclose()


async def _over_the_reply(
    controller: AgentController, log: EventLog, speech: SpeechLibrary, said: str
) -> None:
    audio = speech.say(said)
    controller.speech_started()
    controller.utterance(audio, start_s=0.0, end_s=len(audio) / 16000)


def _count(log: EventLog) -> int:
    return len(log.of(ev.FalseInterruption))


async def test_backchannels_let_the_reply_go_on(
    server: ScriptedServer, talk: tuple[AgentController, EventLog], speech: SpeechLibrary
) -> None:
    controller, log = talk
    # The reply holds its second half until the five were heard: however slow Whisper is on
    # a loaded machine, every backchannel really falls inside the reply.
    heard = threading.Event()
    story = openai_stream(STORY, delay_s=0.02)
    server.add(sse_reply([*story[:20], Hold(heard, timeout_s=120), *story[20:]]))
    controller.submit_text("Tell me a long story")
    await log.wait_for(ev.ReplyDelta)
    said = ["Uh-huh.", "Yeah.", "Okay.", "I see.", "Got it."]
    for n, word in enumerate(said, start=1):
        await _over_the_reply(controller, log, speech, word)
        await log.wait_for(ev.FalseInterruption, lambda _e, n=n: _count(log) >= n, timeout_s=60)
    heard.set()
    finished = await log.wait_for(ev.TurnFinished, timeout_s=30)
    reasons = [e.reason for e in log.of(ev.FalseInterruption)]
    assert reasons == ["backchannel"] * 5
    assert finished.text == "".join(STORY)  # the same reply, to its end
    assert log.of(ev.Transcript) == [] and log.of(ev.TurnInterrupted) == []
    assert len(server.requests) == 1  # nothing sent
    assert controller.state is ev.State.IDLE


@pytest.mark.parametrize("said", ["Stop.", "Never mind.", "Be quiet."])
async def test_a_stop_phrase_cancels_the_reply_and_sends_nothing(
    server: ScriptedServer,
    talk: tuple[AgentController, EventLog],
    speech: SpeechLibrary,
    said: str,
) -> None:
    controller, log = talk
    never = threading.Event()  # the reply streams until the stop phrase closes it
    story = openai_stream(STORY, delay_s=0.02)
    server.add(sse_reply([*story[:20], Hold(never, timeout_s=120), *story[20:]]))
    controller.submit_text("Tell me a long story")
    await log.wait_for(ev.ReplyDelta)
    await _over_the_reply(controller, log, speech, said)
    interrupted = await log.wait_for(ev.TurnInterrupted, timeout_s=60)
    await controller.wait_idle()
    await asyncio.to_thread(server.wait_for_disconnect, 2.0, 0)
    (echo,) = log.of(ev.Transcript)
    assert Phrases().classify(echo.text) is Kind.STOP and echo.turn_id == 0
    assert log.index(ev.Transcript) < log.index(ev.TurnInterrupted)  # echoed, then cancelled
    assert interrupted.turn_id == 1 and interrupted.by == "user"
    assert not server.completed(0) and len(server.requests) == 1  # closed; no new request
    assert [e.turn_id for e in log.of(ev.TurnStarted)] == [1]
    assert controller.state is ev.State.IDLE
    history = controller.conversation.messages
    assert [type(m) for m in history] == [UserMessage, AssistantMessage]
    assert history[1].text.endswith(INTERRUPTED_MARKER)  # type: ignore[union-attr]


async def test_an_instruction_that_starts_with_stop_interrupts_and_runs(
    server: ScriptedServer, talk: tuple[AgentController, EventLog], speech: SpeechLibrary
) -> None:
    controller, log = talk
    never = threading.Event()
    story = openai_stream(STORY, delay_s=0.02)
    server.add(
        sse_reply([*story[:20], Hold(never, timeout_s=120), *story[20:]]),
        sse_reply(openai_stream(["Why did ", "the chicken…"])),
    )
    controller.submit_text("Tell me a long story")
    await log.wait_for(ev.ReplyDelta)
    await _over_the_reply(controller, log, speech, "Stop and tell me a joke.")
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    interrupted = await log.wait_for(ev.TurnInterrupted, timeout_s=20)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == transcript.turn_id, timeout_s=20)
    assert interrupted.by == transcript.turn_id == 2
    assert "joke" in transcript.text.lower() and len(server.requests) == 2


async def test_with_barge_in_off_words_over_a_reply_are_messages_in_order(
    server: ScriptedServer, whisper: object, quiet: object, speech: SpeechLibrary
) -> None:
    controller, log, client = make_controller(
        server,
        transcriber=whisper,
        speech=quiet,
        barge_in=False,
        retry=RetryPolicy(base_delay_s=0.05, max_delay_s=0.2, stale_timeout_s=120),
    )
    try:
        echoed = threading.Event()
        story = openai_stream(STORY[:10], delay_s=0.02)
        server.add(
            sse_reply([*story[:5], Hold(echoed, timeout_s=120), *story[5:]]),
            sse_reply(openai_stream(["Fine."])),
        )
        controller.submit_text("Tell me a short story")
        await log.wait_for(ev.ReplyDelta)
        await _over_the_reply(controller, log, speech, "Okay.")
        await log.wait_for(ev.Transcript, timeout_s=60)
        echoed.set()
        await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2, timeout_s=30)
        assert log.of(ev.FalseInterruption) == [] and log.of(ev.TurnInterrupted) == []
        assert server.requests[1].json()["messages"][-1]["content"] == "Okay."
    finally:
        await controller.close()
        await client.aclose()


def test_decide_follows_the_rules_in_order(
    talk: tuple[AgentController, EventLog],
) -> None:
    controller, _ = talk
    policy = controller._barge_in  # the unit under test, reached through its owner
    running = controller._scheduler.new_turn("a story", "text")
    assert policy.decide("", running).reason == "no words"
    assert policy.decide("Mm-hmm.", running).reason == "backchannel"
    assert policy.decide("Never mind.", running).verdict is Verdict.STOP
    assert policy.decide("Stop and tell me a joke.", running).verdict is Verdict.RUN
    # With nothing running, such words are an ordinary message.
    assert policy.decide("Okay.", None).verdict is Verdict.RUN
    assert policy.decide("Stop.", None).verdict is Verdict.RUN
