"""A pause is not the end of a turn: speech right after an end of turn continues it.

Real VAD, real Whisper, real server: "Set a timer for" ends (a fixed
0.5 s silence, so the first part does become a turn), "ten minutes" follows
within the window. One user message with both parts is sent; the first
part's turn is retracted (``turn_interrupted`` by "continuation") and neither
it nor its reply stays in the history; the window shows one 🎙 message.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.agent import events as ev
from app.agent.barge_in import CONTINUATION_HEARD_S, _adds_words
from app.agent.conversation import Conversation
from app.agent.input_pump import InputPump
from app.agent.live_transcription import LiveOptions, LiveTranscription
from app.desktop.conversation.conversation_model import ConversationModel, ReplyEntry, UserEntry
from app.runtime.history_store import HistoryStore
from app.runtime.history_writer import ConversationRef, HistoryWriter
from audio.segmenter import SpeechSegmenter
from audio.transcriber import WhisperTranscriber
from audio.vad import SileroVad
from providers.events import AssistantMessage, UserMessage
from tests.support.controller_harness import EventLog, make_controller
from tests.support.speech import SpeechLibrary, compose
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

BLOCK = 512
RATE = 16_000
REPLY = [f"Sure {i}, " for i in range(20)]


def wire(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object, **options: object
) -> tuple[InputPump, EventLog, object]:
    controller, log, client = make_controller(server, transcriber=whisper, speech=quiet)
    segmenter = SpeechSegmenter(SileroVad(), hangover_s=0.5)
    live = LiveTranscription(
        controller, segmenter, whisper, emit=log, options=LiveOptions(adaptive=False, **options)
    )  # type: ignore[arg-type]
    return InputPump(controller, segmenter, emit=log, live=live), log, client


async def speak(pump: InputPump, audio: np.ndarray, log: EventLog) -> None:
    """Real time: each block waits until its moment, so Whisper runs while the user talks."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(0, len(audio) // BLOCK * BLOCK, BLOCK):
        pump.feed(audio[i : i + BLOCK])
        await asyncio.sleep(max(0.0, start + (i + BLOCK) / RATE - loop.time()))


@pytest.mark.slow
async def test_speech_right_after_an_end_of_turn_is_the_same_turn(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object, speech: SpeechLibrary
) -> None:
    for _ in range(2):
        server.add(sse_reply(openai_stream(REPLY, delay_s=0.1)))
    pump, log, client = wire(server, whisper, quiet)
    first, rest = speech.say("Set a timer for"), speech.say("ten minutes.")
    await speak(pump, compose(0.3, first, 1.0, rest, 1.0).audio, log)
    transcripts = [await log.wait_for(ev.Transcript, timeout_s=60)]
    merged = await log.wait_for(
        ev.Transcript, lambda e: e.turn_id != transcripts[0].turn_id, timeout_s=60
    )
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == merged.turn_id, timeout_s=60)
    fragment = transcripts[0]
    assert merged.utterance_id == fragment.utterance_id  # one 🎙 message, grown
    assert "timer" in merged.text.lower() and "minutes" in merged.text.lower()
    interrupted = log.of(ev.TurnInterrupted)
    assert [(e.turn_id, e.by) for e in interrupted] == [(fragment.turn_id, "continuation")]
    # Transcribe first, then echo, then interrupt.
    assert (
        log.index(ev.Transcript, lambda e: e is merged)
        < log.index(ev.TurnInterrupted)
        < log.index(ev.TurnStarted, lambda e: e.turn_id == merged.turn_id)
    )
    sent = server.requests[-1].json()["messages"]
    assert [m["role"] for m in sent if m["role"] != "system"] == ["user"]
    assert sent[-1]["content"] == merged.text
    kept = pump.controller.conversation.messages
    assert kept == [UserMessage(merged.text), AssistantMessage("".join(REPLY))]
    await pump.controller.close()
    await client.aclose()  # type: ignore[attr-defined]


@pytest.mark.slow
async def test_speech_after_the_window_is_a_new_turn(
    server: ScriptedServer, whisper: WhisperTranscriber, quiet: object, speech: SpeechLibrary
) -> None:
    for _ in range(2):
        server.add(sse_reply(openai_stream(["Paris."], delay_s=0.05)))
    pump, log, client = wire(server, whisper, quiet)
    first, second = speech.say("What is the capital of France?"), speech.say("And of Spain?")
    await speak(pump, compose(0.3, first, 3.0, second, 1.0).audio, log)
    await log.wait_for(ev.Transcript, lambda e: e.turn_id == 2, timeout_s=60)
    await pump.controller.wait_idle()
    assert log.of(ev.TurnInterrupted) == []
    kinds = [type(m) for m in pump.controller.conversation.messages]
    assert kinds == [UserMessage, AssistantMessage, UserMessage, AssistantMessage]
    await pump.controller.close()
    await client.aclose()  # type: ignore[attr-defined]


def test_a_continuation_must_add_words_to_merge() -> None:
    assert _adds_words("What is the capital of?", "What is the capital of France?")
    assert not _adds_words("Tell me a joke.", "Tell me a joke.")  # a cough after it
    assert not _adds_words("Tell me a joke.", "Tell me, a joke")
    assert _adds_words("Tell me a joke.", "Tell me a joke, a joke.")  # said again: new words


def test_the_window_shows_one_message_that_grows() -> None:
    model = ConversationModel()
    for event in [
        ev.Transcript(text="What is the capital of?", turn_id=1, utterance_id=4),
        ev.TurnStarted(turn_id=1, text="What is the capital of?", source="voice"),
        ev.ReplyDelta(turn_id=1, text="The capital of"),
        ev.PartialTranscript(utterance_id=4, text="What is the capital of France"),
    ]:
        model.apply(event)
    users = [e for e in model.entries if isinstance(e, UserEntry)]
    assert [(u.text, u.partial) for u in users] == [("What is the capital of France", True)]
    for event in [
        ev.Transcript(text="What is the capital of France?", turn_id=2, utterance_id=4),
        ev.TurnInterrupted(turn_id=1, by="continuation"),
        ev.TurnStarted(turn_id=2, text="What is the capital of France?", source="voice"),
        ev.ReplyDelta(turn_id=2, text="Paris."),
    ]:
        model.apply(event)
    assert [(type(e), getattr(e, "text", None)) for e in model.entries] == [
        (UserEntry, "What is the capital of France?"),
        (ReplyEntry, "Paris."),
    ]


def test_a_continuation_with_no_new_words_restores_the_message() -> None:
    model = ConversationModel()
    model.apply(ev.Transcript(text="Tell me a joke.", turn_id=1, utterance_id=2))
    model.apply(ev.PartialTranscript(utterance_id=2, text="Tell me a joke. Hmm"))
    model.apply(ev.PartialTranscript(utterance_id=2, text=""))  # withdrawn: no new words
    assert [(e.text, e.partial) for e in model.entries if isinstance(e, UserEntry)] == [
        ("Tell me a joke.", False)
    ]


def test_a_retracted_turn_leaves_the_saved_history(tmp_path: Path) -> None:
    """Through the history writer, as the window saves: the removal runs in queue order."""
    path = tmp_path / "history.sqlite3"
    writer = HistoryWriter(path)
    ref = ConversationRef()
    conversation = Conversation()
    conversation.add_listener(lambda m, meta: writer.add_message(ref, m, meta))
    conversation.add_retract_listener(lambda n: writer.retract(ref, n))
    conversation.add_user("Hello")
    conversation.add_assistant("Hi.")
    start = len(conversation)
    conversation.add_user("What is the capital of?", voice=True)
    conversation.add_assistant("The capital of … [interrupted by the user]")
    conversation.retract(start)
    conversation.add_user("What is the capital of France?", voice=True)
    expected = [
        UserMessage("Hello"),
        AssistantMessage("Hi."),
        UserMessage("What is the capital of France?"),
    ]
    assert conversation.messages == expected
    assert writer.close() == 0 and ref.id is not None
    store = HistoryStore(path)
    assert store.load_messages(ref.id) == expected
    store.close()


@pytest.mark.slow
async def spoken_fragment(
    server: ScriptedServer, whisper: WhisperTranscriber, speech: SpeechLibrary
) -> tuple[Any, Any, Any, Any, ev.Transcript, int, np.ndarray]:
    """A controller with speech on (Piper into a fake device at real-time pace) whose reply to
    "Set a timer for" has started playing: (controller, log, client, voice, the fragment's
    transcript, its utterance id, the whole sentence's audio)."""
    from audio.playback import SpeechPlayer
    from audio.speech_output import SpeechOutput
    from audio.tts import PiperTts
    from tests.support.fake_sounddevice import FakeSoundDevice

    tts = PiperTts()
    holder: list[object] = []
    voice = SpeechOutput(
        tts,
        SpeechPlayer(tts.sample_rate_hz, sounddevice_module=FakeSoundDevice(speed=1.0)),
        on_event=lambda name, turn, detail: holder[0].speech_event(name, turn, detail),  # type: ignore[attr-defined]
    )
    await voice.wait_loaded()
    for _ in range(2):
        server.add(sse_reply(openai_stream(REPLY, delay_s=0.1)))
    controller, log, client = make_controller(server, transcriber=whisper, speech=voice)
    holder.append(controller)
    first, rest = speech.say("Set a timer for"), speech.say("ten minutes.")
    uid = controller.next_utterance_id()
    controller.utterance(compose(0.3, first, 0.3).audio, utterance_id=uid)
    fragment = await log.wait_for(ev.Transcript, timeout_s=60)
    await log.wait_for(ev.TtsStarted, timeout_s=60)
    joined = compose(0.3, first, 0.4, rest, 0.3).audio
    return controller, log, client, voice, fragment, uid, joined


async def test_a_reply_already_heard_is_interrupted_not_merged(
    server: ScriptedServer, whisper: WhisperTranscriber, speech: SpeechLibrary
) -> None:
    """Once the reply has played for CONTINUATION_HEARD_S, going on is a barge-in: the reply
    stays in history, cut, as heard."""
    controller, log, client, voice, fragment, uid, joined = await spoken_fragment(
        server, whisper, speech
    )
    async with asyncio.timeout(30):  # played_s counts device blocks: no event to wait on
        while voice.played_s < CONTINUATION_HEARD_S:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    controller.speech_started()
    controller.utterance(joined, utterance_id=uid, continues=uid)
    merged = await log.wait_for(ev.Transcript, lambda e: e is not fragment, timeout_s=60)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == merged.turn_id, timeout_s=60)
    assert [(e.turn_id, e.by) for e in log.of(ev.TurnInterrupted)] == [
        (fragment.turn_id, merged.turn_id)
    ]
    kinds = [type(m) for m in controller.conversation.messages]
    assert kinds == [UserMessage, AssistantMessage, UserMessage, AssistantMessage]
    await controller.close()
    voice.close()
    await client.aclose()  # type: ignore[attr-defined]


async def test_going_on_over_the_first_words_of_the_reply_is_still_one_turn(
    server: ScriptedServer, whisper: WhisperTranscriber, speech: SpeechLibrary
) -> None:
    """The reply's first piece has started playing when the user goes on (a thinking pause
    the words made look finished): still the same turn, one message, the reply retracted."""
    controller, log, client, voice, fragment, uid, joined = await spoken_fragment(
        server, whisper, speech
    )
    controller.speech_started()  # ducks at once, pauses 0.5 s later: under a second played
    controller.utterance(joined, utterance_id=uid, continues=uid)
    merged = await log.wait_for(ev.Transcript, lambda e: e is not fragment, timeout_s=60)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == merged.turn_id, timeout_s=60)
    assert voice.heard_text  # the first piece did play: "heard" by text, not for long
    assert [(e.turn_id, e.by) for e in log.of(ev.TurnInterrupted)] == [
        (fragment.turn_id, "continuation")
    ]
    assert merged.utterance_id == uid
    users = [m for m in controller.conversation.messages if isinstance(m, UserMessage)]
    assert len(users) == 1 and "minutes" in users[0].text.lower()
    await controller.close()
    voice.close()
    await client.aclose()  # type: ignore[attr-defined]
