"""Hands-free speech through the live transcription: real VAD, real Whisper, real server.

The rules stay (DESIGN.md): transcribe first, echo, then interrupt; a noise
or a cough while the reply plays cancels nothing. On top: partials carry the
utterance's id, the pause's pass becomes the final transcript, and the
adaptive end of turn shortens or lengthens the pause from the words heard.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.agent import events as ev
from app.agent.input_pump import InputPump
from app.agent.live_transcription import LiveOptions, LiveTranscription
from audio.segmenter import SpeechSegmenter
from audio.transcriber import WhisperTranscriber
from audio.vad import SileroVad
from tests.support.controller_harness import Controllers, EventLog
from tests.support.speech import SpeechLibrary, compose, cough, silence, white_noise
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply

pytestmark = pytest.mark.slow

BLOCK = 512
RATE = 16_000
STORY = [f"word{i} " for i in range(30)]


def wire(
    controllers: Controllers, whisper: WhisperTranscriber, quiet: object, **options: object
) -> tuple[InputPump, LiveTranscription, EventLog]:
    """A hands-free pump with live transcription; all of it closed when the test ends."""
    controller, log = controllers(transcriber=whisper, speech=quiet)
    segmenter = SpeechSegmenter(SileroVad(), hangover_s=0.5)
    live = LiveTranscription(
        controller,
        segmenter,
        whisper,
        emit=log,
        # Early requests off unless a test asks: the scripted server answers requests in
        # order, and an early request the turn did not take would use up the next reply.
        options=LiveOptions(**{"early_request": False, **options}),  # type: ignore[arg-type]
    )
    controllers.on_teardown(live.close)
    return InputPump(controller, segmenter, emit=log, live=live), live, log


async def speak(pump: InputPump, audio: np.ndarray, pace: float = 0.5) -> None:
    """Feed like a microphone, ``pace`` × real time (the loop runs between blocks)."""
    for i in range(0, len(audio) // BLOCK * BLOCK, BLOCK):
        pump.feed(audio[i : i + BLOCK])
        await asyncio.sleep(pace * BLOCK / RATE)


async def test_words_during_a_reply_interrupt_through_the_pause_pass(
    server: ScriptedServer,
    controllers: Controllers,
    whisper: WhisperTranscriber,
    quiet: object,
    speech: SpeechLibrary,
) -> None:
    endless = openai_stream(STORY, delay_s=0.1, done=False)[:8] + [Stall()]
    server.add(sse_reply(endless), sse_reply(openai_stream(["Paris."])))
    pump, live, log = wire(controllers, whisper, quiet)
    pump.controller.submit_text("Tell me a long story")
    await log.wait_for(ev.ReplyDelta)
    said = speech.say("Stop talking. What is the capital of France?")
    await speak(pump, compose(0.3, said, 1.2).audio)
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == transcript.turn_id, timeout_s=60)
    assert "capital" in transcript.text.lower()
    i_echo = log.index(ev.Transcript)
    assert (
        i_echo
        < log.index(ev.TurnInterrupted)
        < log.index(ev.TurnStarted, lambda e: e.turn_id == transcript.turn_id)
    )
    assert live.speculative.stats.speculative_reused == 1
    partials = log.of(ev.PartialTranscript)
    assert all(p.utterance_id == transcript.utterance_id for p in partials)
    assert server.requests[1].json()["messages"][-1]["content"] == transcript.text


async def test_noise_and_a_cough_during_the_reply_cancel_nothing(
    server: ScriptedServer, controllers: Controllers, whisper: WhisperTranscriber, quiet: object
) -> None:
    pieces = [f"w{i} " for i in range(12)]
    server.add(sse_reply(openai_stream(pieces, delay_s=0.25)))
    pump, live, log = wire(controllers, whisper, quiet)
    pump.controller.submit_text("count")
    await log.wait_for(ev.ReplyDelta)
    noises = compose(0.3, white_noise(0.8, level_dbfs=-25.0), 0.9, cough(0.25), 0.9)
    await speak(pump, noises.audio)
    finished = await log.wait_for(ev.TurnFinished, timeout_s=60)
    await pump.controller.wait_idle()
    assert finished.text == "".join(pieces)
    assert log.of(ev.TurnInterrupted) == [] and log.of(ev.Transcript) == []
    assert len(server.requests) == 1
    # Whatever preview was shown of the noise was withdrawn.
    shown = {p.utterance_id: p.text for p in log.of(ev.PartialTranscript)}
    assert all(text == "" for text in shown.values())


async def idle(live: LiveTranscription) -> None:
    """Wait (bounded) until no pass is queued or running."""
    await asyncio.wait_for(live.speculative.wait_idle(), 60)


async def _until_paused(pump: InputPump, audio: np.ndarray) -> int:
    """Feed until the segmenter sits in the last pause; returns the next sample to feed."""
    seg = pump.segmenter
    i = 0
    while i + BLOCK <= len(audio):
        pump.feed(audio[i : i + BLOCK])
        i += BLOCK
        if seg.pause_pending and not np.any(audio[i:]):  # the pause before trailing silence
            return i
    raise AssertionError("no final pause")


@pytest.mark.parametrize(
    ("said", "expected_s"),
    [("What is the capital of France?", 0.4), ("Tell me a joke and then", 1.2)],
)
async def test_the_words_at_the_pause_set_its_hangover(
    server: ScriptedServer,
    controllers: Controllers,
    whisper: WhisperTranscriber,
    quiet: object,
    speech: SpeechLibrary,
    said: str,
    expected_s: float,
) -> None:
    pump, live, log = wire(controllers, whisper, quiet, hangover_min_s=0.4, hangover_max_s=1.2)
    server.add(sse_reply(openai_stream(["ok"])))
    audio = compose(0.3, speech.say(said), 2.0).audio
    at = await _until_paused(pump, audio)
    pause_s = pump.segmenter.pause_end_s
    assert pause_s is not None
    await idle(live)  # the pause's words are known
    spoken = log.of(ev.PartialTranscript)[-1].text
    assert pump.segmenter.effective_hangover_s == expected_s, spoken
    clock_s = at / RATE
    while not log.of(ev.SpeechEnded):
        pump.feed(audio[at : at + BLOCK])
        at += BLOCK
        clock_s = at / RATE
    assert expected_s <= clock_s - pause_s <= expected_s + BLOCK / RATE + 1e-9


async def test_a_pause_already_long_enough_ends_on_the_next_block_once_its_words_are_known(
    server: ScriptedServer,
    controllers: Controllers,
    whisper: WhisperTranscriber,
    quiet: object,
    speech: SpeechLibrary,
) -> None:
    pump, live, log = wire(controllers, whisper, quiet)
    server.add(sse_reply(openai_stream(["ok"])))
    audio = compose(0.3, speech.say("What is the capital of France?"), 2.0).audio
    at = await _until_paused(pump, audio)
    for _ in range(14):  # 0.45 s of silence at once: past 0.4, short of 0.5
        pump.feed(audio[at : at + BLOCK])
        at += BLOCK
    assert not log.of(ev.SpeechEnded)
    await asyncio.wait_for(live.speculative.wait_idle(), 60)  # the pause's words are known
    assert live.segmenter.effective_hangover_s < 0.5 and not log.of(ev.SpeechEnded)
    pump.feed(audio[at : at + BLOCK])  # one way in: the next block (32 ms) ends it
    assert log.of(ev.SpeechEnded)
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    assert "capital" in transcript.text.lower()


async def test_fixed_hangover_and_no_speculation_keep_the_old_path(
    server: ScriptedServer,
    controllers: Controllers,
    whisper: WhisperTranscriber,
    quiet: object,
    speech: SpeechLibrary,
) -> None:
    pump, live, log = wire(controllers, whisper, quiet, speculate=False, adaptive=False)
    server.add(sse_reply(openai_stream(["ok"])))
    await speak(pump, compose(0.3, speech.say("What is the capital of France?"), 1.0).audio, 0)
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    stats = live.speculative.stats
    assert (stats.speculative_passes, stats.partial_passes, stats.final_passes) == (0, 0, 1)
    assert log.of(ev.PartialTranscript) == [] and "capital" in transcript.text.lower()
    assert silence(0).size == 0


async def test_a_finished_question_is_requested_at_the_pause_before_its_end_of_turn(
    server: ScriptedServer,
    controllers: Controllers,
    whisper: WhisperTranscriber,
    quiet: object,
    speech: SpeechLibrary,
) -> None:
    """Early requests (the default): the quick pass at the pause sends the request, the
    end of turn comes after; whichever request the turn used carries the full pass's words,
    and an early one it did not take over was closed."""
    server.answer("", sse_reply(openai_stream(["It is ", "noon."], delay_s=0.01)))
    pump, live, log = wire(controllers, whisper, quiet, early_request=True)
    controller = pump.controller
    early: list[int] = []  # how many events had been logged when an early request went out
    send = controller.early_request

    def spy(utterance_id: int, text: str) -> bool:
        sent = send(utterance_id, text)
        if sent:
            early.append(len(log.events))
        return sent

    controller.early_request = spy  # type: ignore[method-assign]
    await speak(pump, compose(0.3, speech.say("What time is it in Tokyo?"), 1.5).audio)
    finished = await log.wait_for(ev.TurnFinished, timeout_s=60)
    assert finished.text == "It is noon."
    assert live.speculative.stats.quick_passes >= 1
    assert early and early[0] <= log.index(ev.SpeechEnded)  # sent before the end of turn
    (transcript,) = log.of(ev.Transcript)
    requests = server.requests
    assert 1 <= len(requests) <= 2
    assert requests[-1].json()["messages"][-1]["content"] == transcript.text
    for request in requests[:-1]:  # closed, unless it had been answered in full already
        await asyncio.to_thread(server.wait_for_end, request, 2.0)
