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
