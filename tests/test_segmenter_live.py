"""The segmenter's live events (pause, resume, progress) on real Silero VAD and espeak-ng speech."""

from __future__ import annotations

import numpy as np
import pytest

from audio.end_of_turn import HangoverPolicy, hangover_for
from audio.segmenter import (
    SegmentEvent,
    SpeechEnded,
    SpeechPaused,
    SpeechProgress,
    SpeechResumed,
    SpeechSegmenter,
    SpeechStarted,
)
from audio.vad import SileroVad
from tests.support.speech import SAMPLE_RATE_HZ, SpeechLibrary, compose

BLOCK = 512


def live(vad: SileroVad, **options: float) -> SpeechSegmenter:
    vad.reset()
    return SpeechSegmenter(vad, live_events=True, **options)  # type: ignore[arg-type]


def feed(
    seg: SpeechSegmenter, audio: np.ndarray, on_pause_hangover_s: float | None = None
) -> list[tuple[float, SegmentEvent]]:
    """Feed in blocks (no flush); optionally give every pause its own hangover."""
    out: list[tuple[float, SegmentEvent]] = []
    for i in range(0, len(audio) // BLOCK * BLOCK, BLOCK):
        for event in seg.feed(audio[i : i + BLOCK]):
            out.append(((i + BLOCK) / SAMPLE_RATE_HZ, event))
            if isinstance(event, SpeechPaused) and on_pause_hangover_s is not None:
                seg.set_pause_hangover(on_pause_hangover_s)
    return out


def of(events: list[tuple[float, SegmentEvent]], kind: type) -> list:
    return [e for _, e in events if isinstance(e, kind)]


def test_inner_pause_is_paused_then_resumed_and_the_end_matches_the_last_pause(
    vad: SileroVad, speech: SpeechLibrary
) -> None:
    comp = compose(0.5, speech.say("Stop. What is the capital of France?"), 1.5)
    events = feed(live(vad), comp.audio)
    assert len(of(events, SpeechStarted)) == 1
    pauses, resumes, ended = (
        of(events, SpeechPaused),
        of(events, SpeechResumed),
        of(events, SpeechEnded),
    )
    assert len(ended) == 1 and len(pauses) == len(resumes) + 1 >= 2
    last = pauses[-1]
    assert ended[0].end_s == last.end_s  # what a speculative pass at that pause covered
    assert last.end_s == pytest.approx(comp.segments[0][1], abs=0.1)
    np.testing.assert_array_equal(ended[0].audio[: len(last.audio)], last.audio)
    # Kinds alternate sensibly: every resume follows a pause.
    order = [type(e) for _, e in events if isinstance(e, SpeechPaused | SpeechResumed)]
    assert all(a is SpeechPaused for a in order[0::2])
    assert all(b is SpeechResumed for b in order[1::2])


def test_progress_every_second_of_speech_with_the_audio_so_far(
    vad: SileroVad, speech: SpeechLibrary
) -> None:
    comp = compose(0.5, speech.say("Please set a timer for ten minutes and then remind me."), 1.0)
    seg = live(vad, first_progress_s=0.6, progress_interval_s=1.0)
    events = feed(seg, comp.audio)
    start = of(events, SpeechStarted)[0].at_s
    progress = [(t, e) for t, e in events if isinstance(e, SpeechProgress)]
    assert len(progress) >= 2
    assert progress[0][1].at_s == pytest.approx(start + 0.6, abs=0.04)
    for t, event in progress:
        assert event.at_s == pytest.approx(t, abs=1e-9)
        assert len(event.audio) / SAMPLE_RATE_HZ == pytest.approx(t - (start - 0.3), abs=0.001)
    gaps = np.diff([e.at_s for _, e in progress])
    assert np.all(gaps >= 0.99)


def test_a_pause_hangover_ends_the_utterance_sooner_and_the_next_block_ends_it(
    vad: SileroVad, speech: SpeechLibrary
) -> None:
    comp = compose(0.5, speech.say("What is the capital of France?"), 1.5)
    events = feed(live(vad, hangover_s=0.5), comp.audio, on_pause_hangover_s=0.4)
    ((t_end, ended),) = [(t, e) for t, e in events if isinstance(e, SpeechEnded)]
    assert 0.4 <= t_end - ended.end_s <= 0.4 + BLOCK / SAMPLE_RATE_HZ

    seg = live(vad, hangover_s=0.5)
    stop_at = round((comp.segments[0][1] + 0.35) * SAMPLE_RATE_HZ) // BLOCK * BLOCK
    events = feed(seg, comp.audio[:stop_at])
    assert not of(events, SpeechEnded) and seg.pause_pending
    assert seg.pause_end_s == of(events, SpeechPaused)[-1].end_s
    seg.set_pause_hangover(0.2)  # the words say the sentence is over: 0.35 s have passed
    (ended,) = seg.feed(comp.audio[stop_at : stop_at + BLOCK])  # ended by the next block
    assert isinstance(ended, SpeechEnded) and not seg.in_speech
    seg.set_pause_hangover(0.2)  # no pause pending: ignored
    assert seg.effective_hangover_s == 0.5


@pytest.mark.parametrize(
    "sentence", ["Stop. What is the capital of France?", "Wait, what is the weather in Paris?"]
)
def test_a_short_inner_pause_stays_one_utterance_at_the_shortest_hangover(
    vad: SileroVad, speech: SpeechLibrary, sentence: str
) -> None:
    """The lesson of a 300 ms minimum: "Stop. <the rest>" was cut in two turns. The
    shortest hangover (200 ms) is never given to "Stop." or "Wait," alone: the pause gets
    what the end-of-turn judge says for the words before it."""
    comp = compose(0.5, speech.say(sentence), 1.5)
    before_pause = sentence.split()[0]
    hangover = hangover_for(before_pause, HangoverPolicy())
    assert hangover > HangoverPolicy().min_s
    events = feed(live(vad), comp.audio, on_pause_hangover_s=hangover)
    assert len(of(events, SpeechEnded)) == 1
