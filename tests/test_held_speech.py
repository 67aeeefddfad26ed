"""Push-to-talk transcribed while the key is held: real VAD, real Whisper, real server.

At key-up after the user stopped talking, the pause's pass is the transcript
(no new pass); released mid-word, a full pass runs over everything held. The
rules stay: transcribe first, then echo, then interrupt.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.agent import events as ev
from app.agent.input_pump import InputPump
from audio.held_speech import HeldSpeech
from audio.segmenter import SpeechSegmenter
from audio.transcriber import WhisperTranscriber
from audio.vad import SileroVad
from tests.support.controller_harness import EventLog, make_controller
from tests.support.speech import SpeechLibrary, compose
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply

pytestmark = pytest.mark.slow

BLOCK = 512
RATE = 16_000


def wire(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object
) -> tuple[InputPump, HeldSpeech, EventLog, object]:
    controller, log, client = make_controller(server, transcriber=whisper, speech=quiet)
    held = HeldSpeech(
        whisper,
        SileroVad(),
        on_partial=lambda uid, text: log(ev.PartialTranscript(utterance_id=uid, text=text)),
    )
    segmenter = SpeechSegmenter(SileroVad())
    pump = InputPump(controller, segmenter, emit=log, hands_free=False, held=held)
    return pump, held, log, client


async def hold(pump: InputPump, audio: np.ndarray, pace: float = 0.5) -> None:
    """Press, feed ``audio`` like a microphone at ``pace`` × real time, and keep holding."""
    pump.feed(np.zeros(BLOCK * 4, np.float32))  # what the pre-roll keeps
    pump.push_to_talk_press()
    for i in range(0, len(audio) // BLOCK * BLOCK, BLOCK):
        pump.feed(audio[i : i + BLOCK])
        await asyncio.sleep(pace * BLOCK / RATE)


async def test_key_up_after_the_user_stopped_uses_the_pause_pass(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object, speech: SpeechLibrary
) -> None:
    server.add(sse_reply(openai_stream(["Paris."])))
    pump, held, log, client = wire(server, whisper, quiet)
    await hold(pump, compose(0.2, speech.say("What is the capital of France?"), 0.6).audio)
    await asyncio.wait_for(held.speculative.wait_idle(), 60)  # the pause's words are in
    pump.push_to_talk_release()
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    await log.wait_for(ev.TurnFinished, timeout_s=60)
    stats = held.speculative.stats
    assert (stats.speculative_reused, stats.final_passes) == (1, 0)
    assert "capital" in transcript.text.lower()
    assert server.requests[0].json()["messages"][-1]["content"] == transcript.text
    partials = log.of(ev.PartialTranscript)
    assert partials and all(p.utterance_id == transcript.utterance_id for p in partials)
    await pump.controller.close()
    await client.aclose()  # type: ignore[attr-defined]


async def test_key_up_while_still_talking_transcribes_everything_held(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object, speech: SpeechLibrary
) -> None:
    server.add(sse_reply(openai_stream(["ok"])))
    pump, held, log, client = wire(server, whisper, quiet)
    said = speech.say("Set a timer. For ten minutes please.")
    loud = int(np.argmax(np.abs(said[len(said) // 2 :]))) + len(said) // 2
    await hold(pump, compose(0.2, said[:loud]).audio)  # released mid-vowel
    pump.push_to_talk_release()
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    stats = held.speculative.stats
    assert stats.final_passes == 1 and stats.speculative_reused == 0
    assert "timer" in transcript.text.lower() and "10" in transcript.text  # words after the pause
    await pump.controller.close()
    await client.aclose()  # type: ignore[attr-defined]


async def test_held_speech_over_a_reply_is_transcribed_then_echoed_then_interrupts(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object, speech: SpeechLibrary
) -> None:
    endless = openai_stream([f"w{i} " for i in range(30)], delay_s=0.1, done=False)[:8]
    server.add(sse_reply([*endless, Stall()]), sse_reply(openai_stream(["Paris."])))
    pump, held, log, client = wire(server, whisper, quiet)
    pump.controller.submit_text("Tell me a long story")
    await log.wait_for(ev.ReplyDelta)
    await hold(pump, compose(0.2, speech.say("Stop. What is the capital of France?"), 0.6).audio)
    await asyncio.wait_for(held.speculative.wait_idle(), 60)
    pump.push_to_talk_release()
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == transcript.turn_id, timeout_s=60)
    assert (
        log.index(ev.Transcript)
        < log.index(ev.TurnInterrupted)
        < log.index(ev.TurnStarted, lambda e: e.turn_id == transcript.turn_id)
    )
    assert "capital" in server.requests[1].json()["messages"][-1]["content"].lower()
    await pump.controller.close()
    await client.aclose()  # type: ignore[attr-defined]


async def test_a_tap_too_short_to_be_speech_withdraws_its_preview(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object
) -> None:
    pump, held, log, client = wire(server, whisper, quiet)
    pump.push_to_talk_press()
    pump.feed(np.zeros(BLOCK, np.float32))
    pump.push_to_talk_release()
    assert log.of(ev.Transcript) == [] and held.utterance_id is None
    assert [p.text for p in log.of(ev.PartialTranscript)] in ([], [""])
    await pump.controller.close()
    await client.aclose()  # type: ignore[attr-defined]
