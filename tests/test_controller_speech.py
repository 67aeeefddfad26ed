"""Barge-in with speech output playing: real Piper voice, real player, fake sound card.

Speech onset pauses the reply at once (silence in the very next blocks);
what happens next depends on the words: none or the assistant's own voice →
resume; real words → stop, keep what was heard, start the new turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from app.agent import events as ev
from app.agent.conversation import INTERRUPTED_MARKER
from app.agent.input_pump import InputPump
from audio.segmenter import SpeechSegmenter
from audio.vad import SileroVad
from tests.support.controller_harness import Controllers, wire_speaker
from tests.support.fake_sounddevice import FakeSoundDevice
from tests.support.speech import SpeechLibrary, silence, white_noise
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

REPLY = [
    "The first sentence is about the weather today. ",
    "The second sentence talks about the mountains and the rivers. ",
    "The third sentence describes a long walk through a quiet forest. ",
    "The fourth sentence ends the story with a cup of warm tea.",
]


def silent_after(card: FakeSoundDevice, first_block: int) -> bool:
    stream = card.last_stream
    stream.wait_for_blocks(first_block + 3)
    return bool(np.all(stream.samples(first_block) == 0))


async def test_onset_ducks_at_once_pauses_if_speech_goes_on_and_noise_resumes(
    server: ScriptedServer, whisper: Any, speaker: Any, controllers: Controllers
) -> None:
    """Issue 16: the onset turns the reply down from the next block on (an onset that is
    residual echo is then no audible stop); 0.5 s of speech later it is paused."""
    server.add(sse_reply(openai_stream(REPLY[:2])))
    controller, log, output = wire_speaker(controllers, whisper, speaker)
    controller.submit_text("Tell me about today.")
    await log.wait_for(ev.TtsStarted, timeout_s=20)
    card = speaker[1]
    stream = card.last_stream
    await asyncio.to_thread(stream.wait_for_blocks, stream.block_count + 25)
    loud = float(np.max(np.abs(stream.samples())))  # the peak of the first 0.5 s
    controller.speech_started()
    assert output.speaking
    ducked_at = stream.block_count
    await asyncio.to_thread(stream.wait_for_blocks, ducked_at + 5)
    ducked = stream.samples(ducked_at + 1)
    # −20 dB, still playing: bounded at −16.5 dB, since a later syllable may peak higher
    # than the first half second did (the first piece is only a few words now)
    assert 0 < float(np.max(np.abs(ducked))) <= 0.15 * loud
    assert silent_after(card, ducked_at + 30)  # 0.5 s of 20 ms blocks later: paused
    controller.utterance(white_noise(0.6, level_dbfs=-30.0))
    false = await log.wait_for(ev.FalseInterruption, timeout_s=20)
    assert false.reason == "no words"
    finished = await log.wait_for(ev.TurnFinished, timeout_s=60)
    assert finished.text == "".join(REPLY[:2])
    assert log.of(ev.TurnInterrupted) == []
    assert log.index(ev.TtsStopped) > log.index(ev.FalseInterruption)


async def test_words_interrupt_and_history_keeps_only_what_was_heard(
    server: ScriptedServer,
    whisper: Any,
    speaker: Any,
    controllers: Controllers,  # after speaker: the controller closes before the speaker
    speech: SpeechLibrary,
) -> None:
    server.add(sse_reply(openai_stream(REPLY)), sse_reply(openai_stream(["Sunny."])))
    controller, log, output = wire_speaker(controllers, whisper, speaker)
    controller.submit_text("Tell me a story.")
    await log.wait_for(ev.TtsStarted, timeout_s=20)
    await log.wait_for(ev.ReplyDelta, lambda e: e.text == REPLY[-1])  # all of it was shown
    controller.speech_started()
    heard_at_onset = output.heard_text
    controller.utterance(speech.say("Wait, what is the weather in Paris?"))
    cut = await log.wait_for(ev.TurnInterrupted, timeout_s=20)
    assert cut.kept_text == heard_at_onset
    # At least the reply's first piece (its first five words at most) was heard, not all.
    assert cut.kept_text.startswith("The first sentence is") and REPLY[-1] not in cut.kept_text
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2, timeout_s=20)
    sent = server.requests[1].json()["messages"]
    assert sent[-2]["content"] == f"{heard_at_onset.rstrip()} … {INTERRUPTED_MARKER}"
    assert "paris" in sent[-1]["content"].lower()


async def test_own_voice_heard_back_is_not_an_interruption(
    server: ScriptedServer,
    whisper: Any,
    speaker: Any,
    controllers: Controllers,  # after speaker: the controller closes before the speaker
    speech: SpeechLibrary,
) -> None:
    server.add(sse_reply(openai_stream(REPLY[:2])))
    controller, log, output = wire_speaker(controllers, whisper, speaker)
    controller.submit_text("Weather?")
    await log.wait_for(ev.TtsStarted, timeout_s=20)
    controller.speech_started()
    # The microphone picks up the speaker: the reply's own first sentence.
    controller.utterance(speech.say("The first sentence is about the weather today."))
    false = await log.wait_for(ev.FalseInterruption, timeout_s=20)
    assert "echo" in false.reason
    await log.wait_for(ev.TurnFinished, timeout_s=60)
    assert log.of(ev.TurnInterrupted) == [] and log.of(ev.Transcript) == []


async def test_push_to_talk_press_silences_and_release_interrupts(
    server: ScriptedServer,
    whisper: Any,
    speaker: Any,
    controllers: Controllers,  # after speaker: the controller closes before the speaker
    speech: SpeechLibrary,
) -> None:
    server.add(sse_reply(openai_stream(REPLY)), sse_reply(openai_stream(["Okay."])))
    controller, log, output = wire_speaker(controllers, whisper, speaker)
    pump = InputPump(controller, SpeechSegmenter(SileroVad()), emit=log, hands_free=False)
    controller.submit_text("Tell me a story.")
    await log.wait_for(ev.TtsStarted, timeout_s=20)
    card = speaker[1]
    pump.push_to_talk_press()
    pressed_at = card.last_stream.block_count
    assert silent_after(card, pressed_at + 1)
    assert controller.state is ev.State.LISTENING
    said = np.concatenate([speech.say("Stop the story please."), silence(0.2)])
    for start in range(0, len(said), 512):
        pump.feed(said[start : start + 512])
    pump.push_to_talk_release()
    transcript = await log.wait_for(ev.Transcript, timeout_s=20)
    assert "story" in transcript.text.lower()
    cut = await log.wait_for(ev.TurnInterrupted, timeout_s=5)
    assert cut.by == transcript.turn_id
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == transcript.turn_id, timeout_s=20)
    assert any(isinstance(e, ev.InputLevel) and e.normalised > 0.2 for e in log.events)


async def test_reply_does_not_start_speaking_over_the_user(
    server: ScriptedServer, whisper: Any, speaker: Any, controllers: Controllers
) -> None:
    """Onset while the agent is still thinking holds the first audio until the words are known."""
    server.add(sse_reply(openai_stream(REPLY[:2], delay_s=0.3)))
    controller, log, output = wire_speaker(controllers, whisper, speaker)
    controller.submit_text("Weather?")
    await log.wait_for(ev.TurnStarted)
    controller.speech_started()  # the user starts talking before any audio
    await log.wait_for(ev.ReplyDelta, lambda e: e.text == REPLY[1])  # sentence 1 is complete
    card = speaker[1]
    assert await asyncio.to_thread(card.wait_for_streams, 1, 20.0)  # first sentence is queued
    assert await asyncio.to_thread(card.last_stream.wait_for_blocks, 75, 20.0)  # 1.5 s
    assert not np.any(card.last_stream.samples(0))  # ... and held silent
    controller.utterance(white_noise(1.5, level_dbfs=-35.0))
    await log.wait_for(ev.FalseInterruption, timeout_s=20)
    await log.wait_for(ev.TurnFinished, timeout_s=60)
    assert log.index(ev.TtsStarted) > log.index(ev.FalseInterruption)
