"""Choosing between the quick and the full reading of one pause (audio.surer_reading)."""

from __future__ import annotations

from audio.hallucination import CleanText
from audio.surer_reading import surer_reading

FULL = CleanText("Well, it's on my calendar tomorrow.", None, -0.30)


def test_a_surer_quick_reading_with_other_words_wins() -> None:
    quick = CleanText("What's on my calendar tomorrow?", None, -0.17)
    assert surer_reading(FULL, quick) is quick


def test_the_full_reading_stands_when_the_quick_one_is_not_surer() -> None:
    assert surer_reading(FULL, CleanText("What's on my calendar?", None, -0.30)) is FULL  # a tie
    assert surer_reading(FULL, CleanText("What's on my calendar?", None, -0.80)) is FULL


def test_the_same_words_keep_the_full_reading_and_its_punctuation() -> None:
    quick = CleanText("well it's on my calendar tomorrow", None, -0.10)
    assert surer_reading(FULL, quick) is FULL


def test_no_words_or_no_confidence_is_never_overruled() -> None:
    silent = CleanText("", "no words were recognised")
    assert surer_reading(silent, CleanText("Thank you.", None, -0.1)) is silent
    assert surer_reading(FULL, CleanText("", "no words were recognised")) is FULL
    assert surer_reading(FULL, CleanText("What's on?", None, None)) is FULL
    assert surer_reading(FULL, None) is FULL
