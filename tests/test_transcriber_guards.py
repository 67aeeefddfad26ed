"""Hallucination guards: silence gate, no-speech segments, phantom phrases, decoding loops."""

from __future__ import annotations

import numpy as np
import pytest

from audio.hallucination import (
    SILENCE_DBFS,
    SegmentScore,
    clean_transcript,
    collapse_repetition,
    is_near_silent,
    is_phantom_phrase,
    loudest_frame_dbfs,
    strip_non_speech_tags,
)

RATE = 16_000


def tone(level: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_level_of_a_full_scale_sine_is_about_minus_3_dbfs() -> None:
    assert loudest_frame_dbfs(tone(1.0)) == pytest.approx(-3.01, abs=0.1)
    assert loudest_frame_dbfs(np.zeros(RATE, np.float32)) == float("-inf")
    assert loudest_frame_dbfs(np.zeros(0, np.float32)) == float("-inf")


def test_near_silence_is_judged_by_the_loudest_frame() -> None:
    rng = np.random.default_rng(1)
    room = (rng.standard_normal(RATE * 2) * 0.0005).astype(np.float32)  # about -66 dBFS
    assert is_near_silent(room)
    assert is_near_silent(np.zeros(RATE, np.float32))
    # one short loud word inside a quiet second is not silence
    word = room.copy()
    word[8000:8800] += tone(0.1, 0.05)
    assert not is_near_silent(word)
    threshold_level = 10 ** (SILENCE_DBFS / 20) * np.sqrt(2)
    assert is_near_silent(tone(threshold_level * 0.8))
    assert not is_near_silent(tone(threshold_level * 1.25))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the the the the the", "the"),
        ("I think, I think, I think, I think so", "I think, so"),
        ("no, no, no. Stop.", "no, no, no. Stop."),  # three is speech, not a loop
        ("we will we will rock you", "we will we will rock you"),
        ("Go to the shop. Go to the shop. Go to the shop. Go to the shop.", "Go to the shop."),
        ("", ""),
    ],
)
def test_runaway_repetition_collapses(text: str, expected: str) -> None:
    assert collapse_repetition(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[BLANK_AUDIO]", ""),
        ("Hello [Music] there.", "Hello there."),
        ("(music) Okay (laughs).", "Okay."),
        ("♪ la la ♪", "la la"),
        ("*sighs* Fine.", "Fine."),
        ("Call me at (5 PM), please.", "Call me at, please."),
    ],
)
def test_non_speech_tags_are_removed(text: str, expected: str) -> None:
    assert strip_non_speech_tags(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for watching!",
        "Thanks for watching.",
        "thank you for watchin",
        "Thank you.",
        "you",
        "You.",
        "Thank you. Thank you.",
        "Subtitles by the Amara.org community",
        "Bye!",
    ],
)
def test_phantom_phrases_are_recognised(text: str) -> None:
    assert is_phantom_phrase(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for the help with my taxes.",
        "What's the weather like?",
        "You should stop now.",
        "Thank you. Now set a timer.",
    ],
)
def test_real_requests_are_not_phantom_phrases(text: str) -> None:
    assert not is_phantom_phrase(text)


def never() -> bool:
    raise AssertionError("the speech check must not run for ordinary text")


def test_ordinary_text_passes_untouched_without_asking_for_speech() -> None:
    result = clean_transcript(
        [SegmentScore(" Set a timer for ten minutes.")], has_clear_speech=never
    )
    assert result.text == "Set a timer for ten minutes."
    assert result.dropped is None


def test_phantom_phrase_without_clear_speech_becomes_empty_with_a_reason() -> None:
    result = clean_transcript(
        [SegmentScore(" Thank you for watching!")], has_clear_speech=lambda: False
    )
    assert result.text == ""
    assert result.dropped is not None and "no clear speech" in result.dropped


def test_phantom_phrase_said_clearly_is_kept() -> None:
    result = clean_transcript([SegmentScore(" Thank you.")], has_clear_speech=lambda: True)
    assert result.text == "Thank you."


def test_no_speech_segments_are_dropped() -> None:
    segments = [
        SegmentScore(" Turn off the lights.", no_speech_prob=0.05, avg_logprob=-0.3),
        SegmentScore(" Ugh.", no_speech_prob=0.7, avg_logprob=-1.4),
        SegmentScore(" Hmm.", no_speech_prob=0.95, avg_logprob=-0.2),
    ]
    result = clean_transcript(segments, has_clear_speech=never)
    assert result.text == "Turn off the lights."
    assert result.dropped is not None and "Ugh." in result.dropped and "Hmm." in result.dropped
    assert result.confidence == pytest.approx(-0.3)  # of the kept segment only


def test_confidence_is_the_mean_of_the_kept_segments() -> None:
    segments = [
        SegmentScore(" Turn off", avg_logprob=-0.2),
        SegmentScore(" the lights.", avg_logprob=-0.6),
    ]
    assert clean_transcript(segments, has_clear_speech=never).confidence == pytest.approx(-0.4)
    assert (
        clean_transcript([SegmentScore(" [BLANK_AUDIO]")], has_clear_speech=never).confidence
        is None
    )


def test_only_tags_means_no_words() -> None:
    result = clean_transcript([SegmentScore(" [BLANK_AUDIO]")], has_clear_speech=never)
    assert result.text == ""
    assert result.dropped is not None and "no words" in result.dropped


def test_a_decoding_loop_is_collapsed_and_reported() -> None:
    result = clean_transcript(
        [SegmentScore(" Open the door." + " the door." * 6)], has_clear_speech=never
    )
    assert result.text == "Open the door."
    assert result.dropped is not None and "repeated" in result.dropped
