"""A reply requested at a pause, held until the turn is confirmed (app.agent.early_request).

Against the real local SSE server and the real Whisper model on espeak-ng
speech: the turn takes the early stream over only when it would send exactly
that request; otherwise the early one is closed and a fresh one sent; nothing
of an early reply is shown before its turn starts; the user going on drops it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from app.agent import events as ev
from app.agent.controller import AgentController
from audio.transcriber import WhisperTranscriber
from providers import RetryPolicy
from providers.events import AssistantMessage, UserMessage
from tests.support.controller_harness import Controllers, EventLog
from tests.support.speech import SpeechLibrary
from tests.support.sse_server import Hold, ScriptedServer, openai_stream, sse_reply

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

QUESTION = "What time is it in Tokyo?"


@pytest.fixture
def talk(
    controllers: Controllers, whisper: WhisperTranscriber, quiet: object
) -> tuple[AgentController, EventLog]:
    patient = RetryPolicy(base_delay_s=0.05, max_delay_s=0.2, stale_timeout_s=120)
    return controllers(transcriber=whisper, speech=quiet, retry=patient)


async def _question(speech: SpeechLibrary, whisper: WhisperTranscriber) -> tuple[Any, str]:
    """The question's audio and what the turn itself will hear: the same model on it."""
    audio = speech.say(QUESTION)
    return audio, (await whisper.transcribe(audio)).text


def _pause_after(controller: AgentController, text: str) -> int:
    """The user spoke and paused; a quick pass read ``text``: request it early."""
    utterance = controller.next_utterance_id()
    controller.speech_started()
    assert controller.early_request(utterance, text)
    return utterance


async def test_the_turn_takes_over_an_early_request_for_the_same_words(
    server: ScriptedServer,
    talk: tuple[AgentController, EventLog],
    speech: SpeechLibrary,
    whisper: WhisperTranscriber,
) -> None:
    controller, log = talk
    audio, text = await _question(speech, whisper)
    server.add(sse_reply(openai_stream(["It is ", "noon."], delay_s=0.01)))
    utterance = _pause_after(controller, text)
    await asyncio.to_thread(server.wait_for_completion, 5.0, 0)  # the whole reply is in
    assert log.of(ev.ReplyDelta) == [] and log.of(ev.TurnStarted) == []  # held, not shown
    controller.utterance(audio, utterance_id=utterance)
    finished = await log.wait_for(ev.TurnFinished, timeout_s=30)
    assert finished.text == "It is noon."
    assert len(server.requests) == 1  # the early request was the turn's
    assert log.index(ev.TurnStarted) < log.index(ev.ReplyDelta)
    sent = server.requests[0].json()["messages"]
    assert sent[-1] == {"role": "user", "content": text}
    assert controller.conversation.messages == [UserMessage(text), AssistantMessage("It is noon.")]


async def test_the_same_words_punctuated_otherwise_keep_the_early_wording(
    server: ScriptedServer,
    talk: tuple[AgentController, EventLog],
    speech: SpeechLibrary,
    whisper: WhisperTranscriber,
) -> None:
    controller, log = talk
    audio, text = await _question(speech, whisper)
    quick = text.upper().rstrip("?.!") + "!"  # the quick pass's reading: same words
    server.add(sse_reply(openai_stream(["It is ", "noon."], delay_s=0.01)))
    utterance = _pause_after(controller, quick)
    controller.utterance(audio, utterance_id=utterance)
    await log.wait_for(ev.TurnFinished, timeout_s=30)
    assert len(server.requests) == 1  # taken over
    (echo,) = log.of(ev.Transcript)
    assert echo.text == quick  # what the model was sent is what the user sees and history keeps
    assert controller.conversation.messages[0] == UserMessage(quick)


async def test_other_words_drop_the_early_request_and_send_the_turns_own(
    server: ScriptedServer,
    talk: tuple[AgentController, EventLog],
    speech: SpeechLibrary,
    whisper: WhisperTranscriber,
) -> None:
    controller, log = talk
    audio, text = await _question(speech, whisper)
    never = threading.Event()
    server.add(
        sse_reply([*openai_stream(["Wrong ", "answer."])[:1], Hold(never, timeout_s=60)]),
        sse_reply(openai_stream(["It is ", "noon."], delay_s=0.01)),
    )
    utterance = _pause_after(controller, "What time is it in Paris?")  # a misheard quick pass
    controller.utterance(audio, utterance_id=utterance)
    finished = await log.wait_for(ev.TurnFinished, timeout_s=30)
    assert finished.text == "It is noon."
    await asyncio.to_thread(server.wait_for_disconnect, 2.0, 0)  # the early stream closed
    assert len(server.requests) == 2
    assert server.requests[1].json()["messages"][-1]["content"] == text
    assert "Wrong" not in "".join(e.text for e in log.of(ev.ReplyDelta))
    assert controller.conversation.messages == [UserMessage(text), AssistantMessage("It is noon.")]


async def test_speaking_again_drops_the_early_request(
    server: ScriptedServer, talk: tuple[AgentController, EventLog]
) -> None:
    controller, log = talk
    never = threading.Event()
    server.add(sse_reply([*openai_stream(["Sure."])[:1], Hold(never, timeout_s=60)]))
    _pause_after(controller, "Remind me to call my mother.")
    await asyncio.to_thread(server.wait_for_requests, 1, 5.0)
    controller.speech_started()  # the user went on
    await asyncio.to_thread(server.wait_for_disconnect, 2.0, 0)
    assert log.of(ev.TurnStarted) == [] and log.of(ev.ReplyDelta) == []
    assert len(controller.conversation) == 0


async def test_over_a_running_reply_the_early_request_carries_the_interrupted_reply(
    server: ScriptedServer,
    talk: tuple[AgentController, EventLog],
    speech: SpeechLibrary,
    whisper: WhisperTranscriber,
) -> None:
    controller, log = talk
    audio, text = await _question(speech, whisper)
    never = threading.Event()
    story = openai_stream([f"Once upon a time {i}. " for i in range(3)], delay_s=0.01)
    server.add(
        sse_reply([*story[:4], Hold(never, timeout_s=60)]),
        sse_reply(openai_stream(["It is ", "noon."], delay_s=0.01)),
    )
    controller.submit_text("Tell me a story.")
    await log.wait_for(ev.ReplyDelta, lambda _e: len(log.of(ev.ReplyDelta)) >= 3)
    utterance = _pause_after(controller, text)
    await asyncio.to_thread(server.wait_for_requests, 2, 5.0)
    assert log.of(ev.TurnInterrupted) == []  # words first: nothing interrupted yet
    controller.utterance(audio, utterance_id=utterance)
    finished = await log.wait_for(ev.TurnFinished, timeout_s=30)
    assert finished.text == "It is noon." and len(server.requests) == 2  # taken over
    sent = server.requests[1].json()["messages"]
    assert sent[-2]["role"] == "assistant" and "interrupted" in sent[-2]["content"]
    assert sent[-2]["content"].startswith("Once upon a time 0.")
    i_started = log.index(ev.TurnStarted, lambda e: e.turn_id == 2)
    assert log.index(ev.Transcript) < log.index(ev.TurnInterrupted) < i_started
    await asyncio.to_thread(server.wait_for_disconnect, 2.0, 0)  # the story's stream closed


async def test_words_the_rules_would_not_run_send_nothing_early(
    server: ScriptedServer, talk: tuple[AgentController, EventLog]
) -> None:
    controller, log = talk
    never = threading.Event()
    server.add(sse_reply([*openai_stream(["A story."])[:2], Hold(never, timeout_s=60)]))
    controller.submit_text("Tell me a story.")
    await log.wait_for(ev.ReplyDelta)
    controller.speech_started()
    for said in ("Mm-hmm.", "Stop.", "Never mind."):  # a backchannel, stop phrases
        assert not controller.early_request(controller.next_utterance_id(), said)
    controller.barge_in = False  # a turn would be queued: nothing to send yet
    assert not controller.early_request(controller.next_utterance_id(), "What time is it?")
    assert len(server.requests) == 1
