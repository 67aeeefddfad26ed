"""Adaptive end of turn: the words so far decide how long a pause must last."""

from __future__ import annotations

import pytest

from audio.end_of_turn import HangoverPolicy, ending, hangover_for

POLICY = HangoverPolicy(base_s=0.5, min_s=0.4, max_s=1.2)


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "Set a timer for ten minutes.",
        "Who is it for?",  # a question may end on a preposition
        "Stop talking right now!",
    ],
)
def test_a_finished_sentence_gets_the_short_hangover(text: str) -> None:
    assert ending(text) == "finished"
    assert hangover_for(text, POLICY) == 0.4


@pytest.mark.parametrize(
    "text",
    [
        "Tell me a story and then",
        "I want to know because",
        "Remind me to call my mother,",
        "Set a timer for",
        "What is the weather in",
        "and also",
        "Book a table for the.",  # Whisper's full stop does not finish a dangling article
        "Let me think um",
        "What is the capital of?",  # Whisper's question mark on a fragment
        "Can you explain how?",
        "What's the weather like in?",
    ],
)
def test_a_phrase_left_hanging_gets_the_long_hangover(text: str) -> None:
    assert ending(text) == "unfinished"
    assert hangover_for(text, POLICY) == 1.2


@pytest.mark.parametrize("text", ["Stop.", "Wait.", "Okay then sure", "", "  "])
def test_short_or_unpunctuated_text_keeps_the_base(text: str) -> None:
    """ "Stop." is often the start of "Stop. What is…": one word never ends a turn early."""
    assert ending(text) in ("unknown",)
    assert hangover_for(text, POLICY) == 0.5


def test_the_base_is_clamped_into_the_bounds() -> None:
    assert hangover_for("hmm", HangoverPolicy(base_s=2.0, min_s=0.4, max_s=1.2)) == 1.2
    assert hangover_for("hmm", HangoverPolicy(base_s=0.2, min_s=0.4, max_s=1.2)) == 0.4
    with pytest.raises(ValueError):
        HangoverPolicy(base_s=0.5, min_s=0.8, max_s=0.6)


def test_a_comma_in_the_live_preview_of_the_same_words_means_the_phrase_goes_on() -> None:
    """The pause's pass pads silence and says "mother."; the preview said "mother,"."""
    text = "Remind me to call my mother."
    assert hangover_for(text, POLICY) == 0.4
    assert hangover_for(text, POLICY, partial="Remind me to call my mother,") == 1.2
    # A preview of earlier words says nothing about the end of these.
    assert hangover_for(text, POLICY, partial="Remind me to call,") == 0.4


@pytest.mark.parametrize(
    ("text", "prob", "expected"),
    [
        ("What is the capital of France?", 0.93, 0.4),  # both say done: the short wait
        ("And so my fellow Americans ask not what your country can do for you.", 0.03, 1.2),
        ("Tell me a joke about penguins", 0.9, 0.5),  # no verdict from the words: the base
        ("Tell me a joke about penguins", 0.1, 1.2),  # the audio says not done: wait
        ("Set a timer for", 0.96, 1.2),  # the words say not done: the audio cannot end it
    ],
)
def test_the_audio_model_confirms_or_vetoes_what_the_words_suggest(
    text: str, prob: float, expected: float
) -> None:
    assert hangover_for(text, POLICY, complete_prob=prob) == expected
