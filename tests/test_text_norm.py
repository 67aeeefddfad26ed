"""One normal form for transcribed words, shared by every guard that compares them."""

from __future__ import annotations

import pytest

from app.agent.echo import is_self_echo
from app.selftest.checks import similarity
from audio.end_of_turn import ending
from audio.hallucination import is_phantom_phrase
from audio.text_norm import normalise, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Don't stop—now!", ["don't", "stop", "now"]),
        ("Don’t STOP", ["don't", "stop"]),  # Whisper's typographic apostrophe
        ("'Quoted,' she said.", ["quoted", "she", "said"]),  # quotes are not apostrophes
        ("mm-hmm, amara.org", ["mm", "hmm", "amara", "org"]),
        ("It's 10:30 — 42 km", ["it's", "10", "30", "42", "km"]),
        ("Café naïve", ["café", "naïve"]),
        ("  ...  ", []),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected
    assert normalise(text) == " ".join(expected)


def test_the_guards_agree_on_apostrophes() -> None:
    # The same sentence with either apostrophe is the same words to every guard.
    assert is_phantom_phrase("I’ll see you next time.") and is_phantom_phrase(
        "I'll see you next time."
    )
    assert is_phantom_phrase("Don’t forget to like and subscribe!")
    assert is_self_echo("I’ll read it to you now", "Sure, I'll read it to you now.")
    assert similarity("I'll be there", "I’ll be there.") == 100.0
    assert ending("Tell me about ‘this’ and") == "unfinished"
