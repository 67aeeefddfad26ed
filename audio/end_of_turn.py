"""Adaptive end of turn: how long a pause must last, judged from the words so far.

A fixed silence hangover is a compromise: long enough not to cut a speaker
who stops to think ("and then …"), so too long for one who has clearly
finished ("What is the capital of France?"). Once the words of the utterance
up to a pause are known, ``hangover_for`` picks a shorter hangover when they
end like a finished sentence and a longer one when they end mid-phrase,
always within ``[min_s, max_s]``. A short text ("Stop.") is never judged
finished: Whisper puts a full stop after almost anything, and a one-word
command is often the start of a longer one.

Whisper's punctuation hides fragments ("What is the capital of?", "Can you
explain how?"), so a few words end a phrase even before a question mark, and
a *partial* transcript taken while the words were still coming ("Remind me
to call my mother,") may show a comma that the pause's pass turned into a
full stop. The audio model (``audio.turn_model``), when present, has the last
word on a sentence that looks finished: it confirms the short hangover or
vetoes it (wait the long one). A clear end ends the turn ``min_s`` after the
pause; anything unclear waits longer, never past ``max_s``.
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
# Words a question does not end on either: "What is the capital of?" is a fragment, though
# "Who is it for?" is not.
OPEN_QUESTION_WORDS = frozenset(
    """
    of in into onto to than the a an my your our their his her its this these those
    how what where which whose why when who whom
    """.split()
)
CONTINUATION_PHRASES = ("and then", "and also", "as well as", "such as", "so that", "in order to")
COMPLETE_PROB = 0.5  # the audio model's own threshold
FINISHED_MIN_WORDS = 3  # fewer words than this never count as a finished sentence


@dataclass(frozen=True)
class HangoverPolicy:
    """Bounds for the adaptive hangover; ``base_s`` when the words decide nothing."""

    base_s: float = 0.5
    min_s: float = 0.2
    max_s: float = 1.5

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
    if question and len(words) >= FINISHED_MIN_WORDS and words[-1] in OPEN_QUESTION_WORDS:
        return "unfinished"
    if (question or stripped.endswith(".")) and len(words) >= FINISHED_MIN_WORDS:
        return "finished"
    return "unknown"


def partial_hangs(partial: str, text: str) -> bool:
    """True when the live preview of the same words ended mid-phrase ("…my mother,").

    The preview counts only if it ends on the same word as the pause's text: then the
    comma (or the dangling word) is Whisper's reading of those very words."""
    partial_words = text_words(partial)
    words = text_words(text)
    if not partial_words or not words or partial_words[-1] != words[-1]:
        return False
    return ending(partial) == "unfinished"


def hangover_for(
    text: str,
    policy: HangoverPolicy,
    *,
    complete_prob: float | None = None,
    partial: str = "",
) -> float:
    """The silence (seconds) that should end an utterance whose words so far are ``text``.

    ``complete_prob``: the audio model's probability that the speaker is done (None: no
    model); ``partial``: the latest live preview of this utterance."""
    kind = ending(text)
    if kind == "finished" and partial and partial_hangs(partial, text):
        kind = "unfinished"
    if kind == "unfinished":
        return policy.max_s
    audio_done = None if complete_prob is None else complete_prob >= COMPLETE_PROB
    if kind == "finished":
        return policy.max_s if audio_done is False else policy.min_s
    if audio_done is False:
        return policy.max_s
    return policy.clamp(policy.base_s)
