"""A hands-free reply is heard only once the user has stayed quiet: a thinking pause is
not answered aloud.

Whisper reads "Tell me a joke" as a finished sentence, so the turn ends at the
pause and its reply streams at once. Its speech is held
(``app.agent.reply_pause``) until the user has been quiet ``speak_after``; if
they go on talking, the continuation merges the turn away and nobody heard a
word of it. Real Piper voice and player (a fake sound card), real Whisper,
real server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import numpy as np
import pytest

from app.agent import events as ev
from app.agent.controller import AgentController
from app.agent.input_pump import InputPump
from app.agent.live_transcription import LiveOptions, LiveTranscription
from audio.segmenter import SpeechSegmenter
from audio.vad import SileroVad
from providers.events import UserMessage
from tests.support.controller_harness import Controllers, EventLog, Speaker, wire_speaker
from tests.support.speech import SpeechLibrary, compose, cough, without_tail
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

BLOCK = 512
RATE = 16_000
REPLY = ["Paris is the capital. ", "It lies on the Seine."]


QUESTION = "What is the capital of France?"
Ask = Callable[..., Awaitable[tuple[AgentController, EventLog, float, ev.ReplyDelta]]]


@pytest.fixture
def ask(
    server: ScriptedServer,
    whisper: object,
    speech: SpeechLibrary,
    speaker: Speaker,
    controllers: Controllers,
) -> Ask:
    """``await ask(held_s, then=[replies], **controller options)``: QUESTION spoken, its
    reply held ``held_s``; returns (controller, log, speak_after, the reply's first text)."""

    async def asked(
        held_s: float, *, then: Sequence[str] = (), **options: object
    ) -> tuple[AgentController, EventLog, float, ev.ReplyDelta]:
        for reply in [REPLY, *([text] for text in then)]:
            server.add(sse_reply(openai_stream(reply)))
        controller, log, _output = wire_speaker(controllers, whisper, speaker, **options)
        speak_after = time.monotonic() + held_s
        audio = compose(0.3, speech.say(QUESTION), 0.3).audio
        controller.utterance(audio, speak_after=speak_after)
        first = await log.wait_for(ev.ReplyDelta, timeout_s=30)
        return controller, log, speak_after, first

    return asked


async def test_the_reply_streams_at_once_and_is_heard_once_the_user_stayed_quiet(
    ask: Ask,
) -> None:
    controller, log, speak_after, _first = await ask(2.0)
    shown_at = time.monotonic()
    await log.wait_for(ev.TtsStarted, timeout_s=30)
    heard_at = time.monotonic()
    assert shown_at < speak_after <= heard_at  # shown at once, heard once quiet long enough
    assert heard_at - speak_after < 2.0  # and then at once
    await controller.wait_idle()


async def test_the_user_talking_when_the_hold_is_due_keeps_it_silent_until_they_said_nothing(
    ask: Ask,
) -> None:
    controller, log, _speak_after, _first = await ask(1.0)
    controller.speech_started()  # a cough begins
    await asyncio.sleep(1.5)  # the hold is due meanwhile
    assert log.of(ev.TtsStarted) == []
    controller.utterance(compose(0.2, cough(0.3), 0.2).audio)  # no words: a false interruption
    await log.wait_for(ev.TtsStarted, timeout_s=30)
    assert log.index(ev.FalseInterruption) < log.index(ev.TtsStarted)
    await controller.wait_idle()


async def test_with_barge_in_off_the_hold_waits_for_the_user_to_stop_then_plays(
    ask: Ask, speech: SpeechLibrary
) -> None:
    """No pause holds the reply then (speech does not interrupt): the due hold looks again
    until the user is quiet, and the queued turn runs after the reply was heard."""
    controller, log, _speak_after, first = await ask(1.0, then=["Madrid."], barge_in=False)
    controller.speech_started()
    await asyncio.sleep(1.5)  # due while the user talks
    assert log.of(ev.TtsStarted) == []
    controller.utterance(compose(0.3, speech.say("And of Spain?"), 0.3).audio)
    heard = await log.wait_for(ev.TtsStarted, timeout_s=30)
    assert heard.turn_id == first.turn_id
    second = await log.wait_for(ev.TurnStarted, lambda e: e.turn_id != first.turn_id, 30)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == second.turn_id, timeout_s=30)
    assert log.index(ev.TurnFinished) < log.index(ev.TurnStarted, lambda e: e is second)


async def test_a_hold_ends_with_its_turn(ask: Ask) -> None:
    """Stopped while held: never heard; the next (typed) reply is not held by it."""
    controller, log, held_until, first = await ask(3.0, then=["Hello there."])
    controller.stop()
    controller.submit_text("Say hello.")
    heard = await log.wait_for(ev.TtsStarted, timeout_s=30)
    assert time.monotonic() < held_until
    assert heard.turn_id != first.turn_id
    await controller.wait_idle()
    assert [e.turn_id for e in log.of(ev.TtsStarted)] == [heard.turn_id]


async def speak(pump: InputPump, audio: np.ndarray) -> float:
    """Real time, block by block; returns the loop time the audio started."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(0, len(audio) // BLOCK * BLOCK, BLOCK):
        pump.feed(audio[i : i + BLOCK])
        await asyncio.sleep(max(0.0, start + (i + BLOCK) / RATE - loop.time()))
    return start


@pytest.mark.slow
async def test_a_thinking_pause_that_sounds_finished_is_not_answered_aloud(
    server: ScriptedServer,
    whisper: object,
    speech: SpeechLibrary,
    speaker: Speaker,
    controllers: Controllers,
) -> None:
    """Hands-free: "Tell me a joke" + 1.1 s + "about penguins". A fixed 0.5 s hangover makes
    the first part a turn for sure; its reply streams but is not heard, and the whole
    sentence becomes one turn whose reply is heard after the user stopped."""
    for _ in range(2):
        server.add(sse_reply(openai_stream([f"Sure {i}, " for i in range(20)], delay_s=0.05)))
    controller, log, _output = wire_speaker(controllers, whisper, speaker)
    segmenter = SpeechSegmenter(SileroVad(), hangover_s=0.5)
    live = LiveTranscription(
        controller, segmenter, whisper, emit=log, options=LiveOptions(adaptive=False)
    )  # type: ignore[arg-type]
    controllers.on_teardown(live.close)
    pump = InputPump(controller, segmenter, emit=log, live=live)
    first = without_tail(speech.say("Tell me a joke"))
    song = compose(0.3, first, 1.1, speech.say("about penguins."), 2.0)
    loop = asyncio.get_running_loop()
    heard_at: list[float] = []  # every reply's first sound, held or not, as the card played it
    to_controller = speaker[2][0]

    def on_speech(name: str, turn_id: int, detail: str | None) -> None:
        if name == "tts_started":
            heard_at.append(loop.time())
        to_controller(name, turn_id, detail)

    speaker[2][0] = on_speech
    start = await speak(pump, song.audio)
    merged = await log.wait_for(
        ev.TurnStarted, lambda e: "penguins" in e.text.lower(), timeout_s=60
    )
    await log.wait_for(ev.TtsStarted, lambda e: e.turn_id == merged.turn_id, timeout_s=30)
    assert len(log.of(ev.TurnStarted)) >= 2, "the first part did not become a turn"
    assert [e.turn_id for e in log.of(ev.TtsStarted)] == [merged.turn_id]
    spoken_until = start + song.segments[-1][1]
    assert heard_at[0] >= spoken_until  # nothing was heard while the user still spoke
    assert [e.by for e in log.of(ev.TurnInterrupted)] == ["continuation"]
    users = [m for m in controller.conversation.messages if isinstance(m, UserMessage)]
    assert len(users) == 1 and "joke" in users[0].text.lower()
