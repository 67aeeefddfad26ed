"""Adaptive end of turn: how long a pause must last, judged from the words so far.

A fixed silence hangover is a compromise: long enough not to cut a speaker
who stops to think ("and then …"), so too long for one who has clearly
finished ("What is the capital of France?"). Once the words of the utterance
up to a pause are known, ``hangover_for`` picks a shorter hangover when they
end like a finished sentence and a longer one when they end mid-phrase,
always within ``[min_s, max_s]``. A short text ("Stop.") is never judged
finished: Whisper puts a full stop after almost anything, and a one-word
command is often the start of a longer one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .text_norm import words as text_words

# Words a sentence cannot end on: conjunctions, articles, fillers (even before a "?").
BINDING_WORDS = frozenset(
    """
    and or but because then if when while although though unless until whether than
    the a an my your our their um uh er erm also plus
    """.split()
)
# Words a statement rarely ends on, though a question may ("Who is it for?").
CONTINUATION_WORDS = BINDING_WORDS | frozenset(
    """
    so that which who where as like his her its this these those some any
    to of in on at for from with without about into onto by over under after before
    between through during against is are was were be been am will would could should
    can may might must do does did have has had not well
    """.split()
)
CONTINUATION_PHRASES = ("and then", "and also", "as well as", "such as", "so that", "in order to")
FINISHED_MIN_WORDS = 3  # fewer words than this never count as a finished sentence


@dataclass(frozen=True)
class HangoverPolicy:
    """Bounds for the adaptive hangover; ``base_s`` when the words decide nothing."""

    base_s: float = 0.5
    min_s: float = 0.4
    max_s: float = 1.2

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ValueError("need 0 < min_s <= max_s")

    def clamp(self, value_s: float) -> float:
        return min(self.max_s, max(self.min_s, value_s))


def ending(text: str) -> str:
    """ "finished", "unfinished" or "unknown": how the words so far end."""
    stripped = text.strip()
    if not stripped:
        return "unknown"
    words = text_words(stripped)
    if not words:
        return "unknown"
    if stripped.endswith((",", ";", ":", "-", "—", "…", "...")):
        return "unfinished"
    tail = " ".join(words[-3:])
    if words[-1] in BINDING_WORDS or any(tail.endswith(p) for p in CONTINUATION_PHRASES):
        return "unfinished"
    question = stripped.endswith(("?", "!"))
    if not question and words[-1] in CONTINUATION_WORDS:
        return "unfinished"
    if (question or stripped.endswith(".")) and len(words) >= FINISHED_MIN_WORDS:
        return "finished"
    return "unknown"


def hangover_for(text: str, policy: HangoverPolicy) -> float:
    """The silence (seconds) that should end an utterance whose words so far are ``text``."""
    kind = ending(text)
    if kind == "finished":
        return policy.min_s
    if kind == "unfinished":
        return policy.max_s
    return policy.clamp(policy.base_s)
