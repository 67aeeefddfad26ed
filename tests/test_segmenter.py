"""SpeechSegmenter with the real Silero model on espeak-ng speech with known timings."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from audio.segmenter import (
    SegmentEvent,
    SpeechDiscarded,
    SpeechEnded,
    SpeechSegmenter,
    SpeechStarted,
)
from audio.vad import SileroVad
from tests.support.speech import (
    SAMPLE_RATE_HZ,
    SpeechLibrary,
    click,
    compose,
    cough,
    silence,
    white_noise,
)

pytest_plugins = ["tests.support.speech"]

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please set a timer for ten minutes.",
    "What is the weather like tomorrow in Paris?",
)
TOLERANCE_S = 0.15


Events = list[tuple[float, SegmentEvent]]
Make = Callable[..., SpeechSegmenter]


@pytest.fixture
def make(vad: SileroVad) -> Make:
    """A segmenter factory; the shared model starts each test from a fresh state."""
    vad.reset()
    return lambda **options: SpeechSegmenter(vad, **options)


def run(seg: SpeechSegmenter, audio: np.ndarray, block: int = 512) -> Events:
    """Feed ``audio`` in blocks, then flush; events paired with the stream time they came at."""
    out: Events = []
    for i in range(0, len(audio), block):
        for event in seg.feed(audio[i : i + block]):
            out.append(((i + block) / SAMPLE_RATE_HZ, event))
    out += [(len(audio) / SAMPLE_RATE_HZ, e) for e in seg.flush()]
    return out


def run_partial(seg: SpeechSegmenter, audio: np.ndarray) -> Events:
    """Feed without flushing (the stream goes on)."""
    return [(0.0, e) for i in range(0, len(audio), 512) for e in seg.feed(audio[i : i + 512])]


def kinds(events: Events) -> list[str]:
    return [type(e).__name__ for _, e in events]


def test_three_sentences_give_three_utterances_on_time(make: Make, speech: SpeechLibrary) -> None:
    clips = [speech.say(t) for t in SENTENCES]
    comp = compose(0.8, clips[0], 1.0, clips[1], 1.1, clips[2], 1.5)
    events = run(make(), comp.audio)
    assert kinds(events) == ["SpeechStarted", "SpeechEnded"] * 3
    for (truth_start, truth_end), (_, started), (emitted_at, ended) in zip(
        comp.segments, events[0::2], events[1::2], strict=True
    ):
        assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
        assert started.at_s == pytest.approx(truth_start, abs=TOLERANCE_S)
        assert ended.start_s == started.at_s
        assert ended.end_s == pytest.approx(truth_end, abs=TOLERANCE_S)
        # Emitted once hangover_s (0.5) of silence followed, within one block.
        assert 0.5 <= emitted_at - ended.end_s <= 0.5 + 0.033
        # The audio runs from the pre-roll before the onset to the emission.
        assert len(ended.audio) / SAMPLE_RATE_HZ == pytest.approx(
            emitted_at - (started.at_s - 0.3), abs=1 / SAMPLE_RATE_HZ
        )


def test_silence_and_noise_are_not_speech(make: Make) -> None:
    for audio in (silence(3.0), white_noise(3.0, -20), white_noise(3.0, -45, seed=3)):
        assert run(make(), audio) == []


def test_clicks_and_coughs_are_not_utterances(make: Make) -> None:
    comp = compose(0.5, click(), 0.3, click(), 0.5, cough(0.15), 0.6, cough(0.2, seed=2), 1.0)
    assert not [e for _, e in run(make(), comp.audio) if isinstance(e, SpeechEnded)]


def test_a_voiced_blip_shorter_than_min_speech_is_discarded(
    make: Make, speech: SpeechLibrary
) -> None:
    uh = compose(1.0, speech.say("uh"), 1.0)
    events = run(make(min_speech_s=0.25), uh.audio)
    assert kinds(events) == ["SpeechStarted", "SpeechDiscarded"]
    discarded = events[1][1]
    assert isinstance(discarded, SpeechDiscarded)
    assert discarded.end_s - discarded.start_s < 0.25
    assert discarded.at_s == pytest.approx(discarded.end_s + 0.5, abs=0.04)
    # It is min_speech_s that decides: a lower bar turns the same blip into an utterance.
    assert kinds(run(make(min_speech_s=0.05), uh.audio)) == ["SpeechStarted", "SpeechEnded"]


def test_preroll_keeps_the_first_syllable(make: Make, speech: SpeechLibrary) -> None:
    comp = compose(1.0, speech.say("Timer for five minutes."), 1.0)
    truth_start = comp.segments[0][0]
    for preroll_s in (0.3, 0.0):
        events = run(make(preroll_s=preroll_s), comp.audio)
        started, ended = events[0][1], events[1][1]
        assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
        begin = round((started.at_s - preroll_s) * SAMPLE_RATE_HZ)
        np.testing.assert_array_equal(ended.audio, comp.audio[begin : begin + len(ended.audio)])
        if preroll_s:
            assert begin / SAMPLE_RATE_HZ <= truth_start - 0.1  # onset and a margin included
        else:
            assert begin / SAMPLE_RATE_HZ > truth_start  # without it the "T" is cut


def test_hangover_decides_whether_a_pause_ends_the_utterance(
    make: Make, speech: SpeechLibrary
) -> None:
    comp = compose(0.5, speech.say("Set a timer"), 0.75, speech.say("for ten minutes."), 1.5)
    assert kinds(run(make(hangover_s=0.4), comp.audio)) == ["SpeechStarted", "SpeechEnded"] * 2
    events = run(make(hangover_s=1.2), comp.audio)
    assert kinds(events) == ["SpeechStarted", "SpeechEnded"]
    emitted_at, ended = events[1]
    assert isinstance(ended, SpeechEnded)
    assert ended.end_s == pytest.approx(comp.segments[1][1], abs=TOLERANCE_S)
    assert 1.2 <= emitted_at - ended.end_s <= 1.2 + 0.033


def test_hangover_can_change_while_listening(make: Make, speech: SpeechLibrary) -> None:
    comp = compose(0.5, speech.say("Set a timer"), 0.75, speech.say("for ten minutes."), 1.5)
    seg = make(hangover_s=0.4)
    half = round(1.0 * SAMPLE_RATE_HZ) // 512 * 512  # inside the first phrase
    first = run_partial(seg, comp.audio[:half])
    assert kinds(first) == ["SpeechStarted"]
    seg.hangover_s = 1.2  # the user moved the slider mid-sentence
    rest = run(seg, comp.audio[half:])
    assert kinds(rest) == ["SpeechEnded"]
    with pytest.raises(ValueError):
        seg.hangover_s = -0.1


def test_end_of_input_closes_an_open_utterance(make: Make, speech: SpeechLibrary) -> None:
    clip = speech.say("What is the weather like tomorrow in Paris?")
    comp = compose(0.5, clip)
    cut = comp.audio[: round(1.5 * SAMPLE_RATE_HZ) + 100]  # stops mid-sentence, odd length
    events = run(make(), cut)
    assert kinds(events) == ["SpeechStarted", "SpeechEnded"]
    ended = events[1][1]
    assert isinstance(ended, SpeechEnded)
    assert ended.end_s == pytest.approx(len(cut) / SAMPLE_RATE_HZ, abs=0.001)
    begin = round((ended.start_s - 0.3) * SAMPLE_RATE_HZ)
    np.testing.assert_array_equal(ended.audio, cut[begin:])


def test_block_size_does_not_change_the_result(make: Make, speech: SpeechLibrary) -> None:
    comp = compose(0.6, speech.say("Please set a timer for ten minutes."), 1.0)
    reference = run(make(), comp.audio)
    for block in (160, 1000):
        other = run(make(), comp.audio, block=block)
        assert [(type(e), getattr(e, "at_s", None)) for _, e in other] == [
            (type(e), getattr(e, "at_s", None)) for _, e in reference
        ]
        a, b = reference[1][1], other[1][1]
        assert isinstance(a, SpeechEnded) and isinstance(b, SpeechEnded)
        assert (a.start_s, a.end_s) == (b.start_s, b.end_s)


def test_reset_drops_the_open_utterance_and_keeps_the_clock(
    make: Make, speech: SpeechLibrary
) -> None:
    comp = compose(0.5, speech.say("Please set a timer for ten minutes."), 1.0)
    seg = make()
    first = run_partial(seg, comp.audio[: 512 * 40])
    assert kinds(first) == ["SpeechStarted"] and seg.in_speech
    seg.reset()
    assert not seg.in_speech
    rest = run(seg, comp.audio[512 * 40 :])
    starts = [e for _, e in rest if isinstance(e, SpeechStarted)]
    assert starts and starts[0].at_s >= 512 * 40 / SAMPLE_RATE_HZ  # stream time carried on
    seg.reset(at_s=100.0)
    again = run(seg, comp.audio)[0][1]
    assert isinstance(again, SpeechStarted) and isinstance(first[0][1], SpeechStarted)
    assert again.at_s == pytest.approx(100.0 + first[0][1].at_s)


def test_a_monologue_is_cut_at_max_utterance(make: Make, speech: SpeechLibrary) -> None:
    comp = compose(0.3, speech.say("Please set a timer for ten minutes and then remind me."), 0.8)
    events = run(make(max_utterance_s=1.0), comp.audio)
    ended = [e for _, e in events if isinstance(e, SpeechEnded)]
    assert len(ended) >= 2
    assert ended[0].duration_s == pytest.approx(1.0, abs=0.04)
    assert kinds(events)[:2] == ["SpeechStarted", "SpeechEnded"]


def test_a_reused_input_buffer_does_not_corrupt_the_audio(
    make: Make, speech: SpeechLibrary
) -> None:
    comp = compose(0.6, speech.say("Ten minutes."), 0.8)
    seg = make()
    buffer = np.zeros(512, np.float32)  # like PortAudio's indata, refilled for every block
    events: list[SegmentEvent] = []
    for i in range(0, len(comp.audio) // 512 * 512, 512):
        buffer[:] = comp.audio[i : i + 512]
        events += seg.feed(buffer)
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ended) == 1
    begin = round((ended[0].start_s - 0.3) * SAMPLE_RATE_HZ)
    np.testing.assert_array_equal(ended[0].audio, comp.audio[begin : begin + len(ended[0].audio)])
