"""SpeechOutput end to end: real Piper voice, real SpeechPlayer, fake sound card."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from audio.playback import SpeechPlayer
from audio.speakable import CODE_NOTE
from audio.speech_output import SENTENCE_GAP_S, SpeechOutput
from audio.trailing_silence import trim_trailing_silence
from audio.tts import EspeakTts, PiperTts
from tests.support.fake_sounddevice import FakeSoundDevice

pytestmark = pytest.mark.slow

REPLY = (
    "Here is the **plan**. Second, we check the [docs](https://example.com/a.b) "
    "carefully. Third, we ship it."
)


@dataclass
class Events:
    """Records on_event calls and checks they arrive on the loop's thread."""

    loop_thread: int = field(default_factory=threading.get_ident)
    calls: list[tuple[str, int, str | None]] = field(default_factory=list)
    off_loop: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, name: str, turn_id: int, detail: str | None) -> None:
        if threading.get_ident() != self.loop_thread:
            self.off_loop.append(name)
        self.calls.append((name, turn_id, detail))
        self.changed.set()

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    async def wait_for(self, name: str, timeout_s: float = 10.0) -> tuple[str, int, str | None]:
        async with asyncio.timeout(timeout_s):
            while True:
                for call in self.calls:
                    if call[0] == name:
                        return call
                self.changed.clear()
                await self.changed.wait()


@dataclass
class Rig:
    speech: SpeechOutput
    sd: FakeSoundDevice
    events: Events

    @property
    def player(self) -> SpeechPlayer:
        return self.speech._player


async def make_rig(tts: PiperTts | EspeakTts, *, speed: float = 4.0, **options: object) -> Rig:
    fake_sd = options.pop("sd", None) or FakeSoundDevice(speed=speed)
    assert isinstance(fake_sd, FakeSoundDevice)
    events = Events()
    player = SpeechPlayer(tts.sample_rate_hz, sounddevice_module=fake_sd, idle_close_s=30)
    speech = SpeechOutput(tts, player, on_event=events, **options)  # type: ignore[arg-type]
    return Rig(speech, fake_sd, events)


@pytest.fixture
async def rig(piper: PiperTts) -> AsyncIterator[Rig]:
    made = await make_rig(piper)
    assert await made.speech.wait_loaded() is None
    yield made
    made.speech.close()


async def feed_in_pieces(speech: SpeechOutput, text: str, size: int = 3) -> None:
    for start in range(0, len(text), size):
        speech.feed(text[start : start + size])
        await asyncio.sleep(0)


async def test_a_streamed_reply_is_spoken_and_reported(rig: Rig) -> None:
    speech = rig.speech
    speech.begin(7)
    assert speech.speaking
    await feed_in_pieces(speech, REPLY)
    speech.finish()
    await asyncio.wait_for(speech.wait_done(), timeout=30)
    assert rig.events.names() == ["tts_started", "tts_stopped"]
    assert [turn for _, turn, _ in rig.events.calls] == [7, 7]
    assert rig.events.off_loop == []
    assert speech.heard_text == REPLY
    assert not speech.speaking
    spoken = speech.recent_spoken_text()
    assert spoken == "Here is the plan. Second, we check the docs carefully. Third, we ship it."
    audio = rig.sd.last_stream.samples()
    assert float(np.sqrt(np.mean(audio**2))) > 0.02
    assert audio.size / rig.player.sample_rate_hz > 2.0  # three sentences of speech


async def test_speech_starts_before_the_reply_is_finished(rig: Rig) -> None:
    rig.speech.begin(1)
    rig.speech.feed("Sure thing. Now I will keep")
    await rig.events.wait_for("tts_started")
    assert rig.speech.heard_text == "Sure thing."
    rig.speech.feed(" talking for a while.")
    rig.speech.finish()
    await asyncio.wait_for(rig.speech.wait_done(), timeout=30)
    assert rig.speech.heard_text == "Sure thing. Now I will keep talking for a while."


async def test_stop_silences_at_once_and_drops_everything(piper: PiperTts) -> None:
    rig = await make_rig(piper, speed=1.0)
    speech = rig.speech
    try:
        await speech.wait_loaded()
        speech.begin(3)
        speech.feed("First sentence here. Second sentence is a little longer than that. ")
        speech.feed("Third one ends it, after a good deal more words than the others. And more.")
        await rig.events.wait_for("tts_started")
        stream = rig.sd.last_stream
        started = time.perf_counter()
        speech.stop()
        stopped_in_s = time.perf_counter() - started
        at_stop = stream.block_count
        assert stopped_in_s < 0.05  # sanity: stop never waits for synthesis or audio
        await asyncio.wait_for(speech.wait_done(), timeout=0.1)  # at once
        await rig.events.wait_for("tts_stopped")
        assert rig.events.names() == ["tts_started", "tts_stopped"]
        assert not speech.speaking
        assert speech.heard_text == "First sentence here."
        # the worker had more sentences to synthesise: none of them may play
        assert await asyncio.to_thread(stream.wait_for_blocks, at_stop + 40)
        assert not np.any(stream.samples(at_stop + 1))
        assert rig.player.idle
        assert speech.recent_spoken_text() == "First sentence here."
    finally:
        speech.close()


async def test_pause_holds_the_reply_and_resume_finishes_it(piper: PiperTts) -> None:
    rig = await make_rig(piper, speed=2.0)
    speech = rig.speech
    try:
        await speech.wait_loaded()
        speech.begin(4)
        speech.feed("One short sentence. And another one to follow it.")
        speech.finish()
        await rig.events.wait_for("tts_started")
        speech.pause()
        stream = rig.sd.last_stream
        at_pause = stream.block_count
        assert await asyncio.to_thread(stream.wait_for_blocks, at_pause + 20)
        assert not np.any(stream.samples(at_pause + 1))
        assert speech.speaking
        assert "tts_stopped" not in rig.events.names()
        speech.resume()
        await asyncio.wait_for(speech.wait_done(), timeout=30)
        assert rig.events.names() == ["tts_started", "tts_stopped"]
        assert speech.heard_text == "One short sentence. And another one to follow it."
    finally:
        speech.close()


async def test_a_new_reply_stops_the_old_one(rig: Rig) -> None:
    speech = rig.speech
    speech.begin(1)
    speech.feed("This is the old reply that goes on and on. It has more. ")
    await rig.events.wait_for("tts_started")
    speech.begin(2)
    assert speech.heard_text == ""
    speech.feed("New reply.")
    speech.finish()
    await asyncio.wait_for(speech.wait_done(), timeout=30)
    assert rig.events.calls == [
        ("tts_started", 1, None),
        ("tts_stopped", 1, None),
        ("tts_started", 2, None),
        ("tts_stopped", 2, None),
    ]
    assert speech.heard_text == "New reply."


async def test_code_is_not_read_out(rig: Rig) -> None:
    reply = "Run this:\n```\nrm -rf build && make all\n```\nThat is all."
    rig.speech.begin(5)
    await feed_in_pieces(rig.speech, reply, size=4)
    rig.speech.finish()
    await asyncio.wait_for(rig.speech.wait_done(), timeout=30)
    assert rig.speech.recent_spoken_text() == f"Run this: {CODE_NOTE} That is all."
    assert rig.speech.heard_text == reply


async def test_an_empty_reply_is_done_at_once(rig: Rig) -> None:
    rig.speech.begin(6)
    rig.speech.feed("```\nonly code\n")
    rig.speech.stop()
    rig.speech.begin(7)
    rig.speech.finish()
    await asyncio.wait_for(rig.speech.wait_done(), timeout=5)
    assert "tts_started" not in [name for name, turn, _ in rig.events.calls if turn == 7]


async def test_disabled_speech_is_a_no_op(piper: PiperTts) -> None:
    rig = await make_rig(piper, enabled=False)
    speech = rig.speech
    assert await speech.wait_loaded() is None
    speech.begin(1)
    speech.feed("Hello there. How are you?")
    speech.finish()
    await asyncio.wait_for(speech.wait_done(), timeout=1)
    assert not speech.enabled and not speech.speaking
    assert speech.heard_text == "" and speech.recent_spoken_text() == ""
    assert rig.sd.streams == [] and rig.events.calls == []
    speech.close()


async def test_no_output_device_is_reported_once_and_the_turn_goes_on(piper: PiperTts) -> None:
    rig = await make_rig(piper, sd=FakeSoundDevice(output_available=False))
    speech = rig.speech
    try:
        await speech.wait_loaded()
        speech.begin(9)
        speech.feed("One. Two. Three. Four.")
        speech.finish()
        await asyncio.wait_for(speech.wait_done(), timeout=10)
        errors = [call for call in rig.events.calls if call[0] == "error"]
        assert len(errors) == 1 and errors[0][1] == 9
        assert errors[0][2] is not None and "Settings → Audio" in errors[0][2]
        assert speech.heard_text == ""
        assert "tts_started" not in rig.events.names()
    finally:
        speech.close()


async def test_a_lost_device_mid_reply_is_reported(piper: PiperTts) -> None:
    rig = await make_rig(piper, speed=1.0)
    speech = rig.speech
    try:
        await speech.wait_loaded()
        speech.begin(2)
        speech.feed("A sentence that takes a while to say out loud. Then another. ")
        speech.finish()
        await rig.events.wait_for("tts_started")
        rig.sd.last_stream.lose_device()
        await asyncio.wait_for(speech.wait_done(), timeout=10)
        name, turn, detail = await rig.events.wait_for("error")
        assert turn == 2 and detail is not None and "unplugged" in detail
        await rig.events.wait_for("tts_stopped")
        # The first piece of a reply is at most 5 words (audio.sentence_chunker).
        assert speech.heard_text == "A sentence that takes a"
    finally:
        speech.close()


async def test_broken_piper_falls_back_to_the_system_voice(tmp_path: Path) -> None:
    broken = tmp_path / "voice.onnx"
    broken.write_bytes(b"garbage")
    rig = await make_rig(PiperTts(str(broken)))
    speech = rig.speech
    try:
        warning = await speech.wait_loaded()
        assert warning is not None and "espeak-ng" in warning
        assert speech.enabled
        speech.begin(1)
        speech.feed("Still speaking.")
        speech.finish()
        await asyncio.wait_for(speech.wait_done(), timeout=10)
        assert rig.events.names() == ["tts_started", "tts_stopped"]
    finally:
        speech.close()


async def test_no_voice_at_all_turns_speech_off_with_a_warning(tmp_path: Path) -> None:
    rig = await make_rig(
        PiperTts(str(tmp_path / "missing.onnx")),
        fallback_tts=lambda: EspeakTts("espeak-ng-not-here"),
    )
    speech = rig.speech
    warning = await speech.wait_loaded()
    assert warning is not None and warning.startswith("Speech output is off")
    assert not speech.enabled
    speech.begin(1)
    speech.feed("Nobody hears this.")
    speech.finish()
    await asyncio.wait_for(speech.wait_done(), timeout=1)
    assert speech.heard_text == "" and rig.sd.streams == []
    speech.close()


async def test_recent_spoken_text_forgets_old_sentences(rig: Rig) -> None:
    rig.speech.begin(1)
    rig.speech.feed("Remember me.")
    rig.speech.finish()
    await asyncio.wait_for(rig.speech.wait_done(), timeout=30)
    assert rig.speech.recent_spoken_text(15.0) == "Remember me."
    assert rig.speech.recent_spoken_text(0.0) == ""


LONG_FIRST_SENTENCE = (
    "The quick answer is that the capital of France has been Paris for many centuries "
    "and it remains the political and cultural centre of the country today with about "
    "two million people living inside the city limits and many more around it. Next one."
)


def pauses_s(audio: np.ndarray, rate_hz: int) -> list[float]:
    """Every stretch below -40 dBFS between two sounds, in seconds."""
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return [float(gap) / rate_hz for gap in np.diff(loud) if gap > 1]


async def test_a_first_sentence_spoken_in_pieces_runs_on_without_pauses(rig: Rig) -> None:
    queued: list[tuple[str, np.ndarray]] = []
    enqueue = rig.player.enqueue

    def spy(audio: np.ndarray, text: str = "", *, tag: object = None) -> None:
        queued.append((tag[1].text, audio))  # type: ignore[index]
        enqueue(audio, text, tag=tag)

    rig.player.enqueue = spy  # type: ignore[method-assign]
    rig.speech.begin(1)
    await feed_in_pieces(rig.speech, LONG_FIRST_SENTENCE, size=4)
    rig.speech.finish()
    await asyncio.wait_for(rig.speech.wait_done(), timeout=60)
    pieces = list(dict.fromkeys(text for text, _ in queued))
    assert len(pieces) >= 3 and pieces[0] == "The quick answer is"
    assert pieces[-1] == "Next one."
    rate = rig.player.sample_rate_hz
    sentence = np.concatenate([audio for text, audio in queued if text != "Next one."])
    # Cut where there is no punctuation, the pieces follow each other like words do
    # (a breath between them measured 0.30-0.35 s); the sentence's end keeps its breath.
    assert max(pauses_s(sentence, rate)) < 0.15
    whole = np.concatenate([audio for _, audio in queued])
    assert max(pauses_s(whole, rate)) >= SENTENCE_GAP_S


def test_trim_trailing_silence_keeps_a_short_tail_and_fades_it() -> None:
    rate = 1000
    tone = np.full(100, 0.5, dtype=np.float32)
    audio = np.concatenate([tone, np.full(200, 0.001, dtype=np.float32)])
    trimmed = trim_trailing_silence(audio, rate, 0.03)
    assert trimmed.size == 130
    assert trimmed[-1] == 0.0 and np.array_equal(trimmed[:100], tone)
    assert trim_trailing_silence(tone, rate, 0.03) is tone  # no tail to cut
    silent = np.zeros(50, dtype=np.float32)
    assert trim_trailing_silence(silent, rate, 0.03) is silent
