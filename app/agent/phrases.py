"""Backchannels and stop phrases: the words that, alone, are not a new instruction.

Said over a reply, "mm-hmm" or "okay" means *I'm listening*: the reply goes
on. "Stop" or "never mind" means *be quiet*: the reply is cancelled and
nothing is sent. Anything else — "stop and tell me a joke" included — is an
instruction. A transcript counts as one of these only when *every* word of it
belongs to such phrases ("Yeah, yeah." and "Okay, stop." count; "Yeah, but
why?" does not). The lists are the defaults of ``settings.toml``'s
``[barge_in]`` ``backchannels`` / ``stop_phrases`` and include the spellings
Whisper writes ("Mm-hmm.", "Mhm.", "Uh-huh.", "Uh-uh.").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from audio.hallucination import normalise

BACKCHANNELS: tuple[str, ...] = (
    "uh-huh", "uh huh", "uhhuh", "uh-uh", "mm-hmm", "mm hmm", "mmhmm", "mhm", "mm", "mmm",
    "mm-mm", "hmm", "yeah", "yep", "yes", "yup", "okay", "ok", "right", "i see", "sure",
    "got it", "alright", "all right", "cool", "nice", "oh", "ah", "aha", "uh", "um",
)  # fmt: skip
STOP_PHRASES: tuple[str, ...] = (
    "stop", "be quiet", "never mind", "nevermind", "cancel", "that's enough", "enough",
    "shut up", "quiet", "stop it", "stop talking", "please stop", "cancelled", "cancel that",
)  # fmt: skip
# Words that may go with a stop phrase without making it an instruction ("Okay, stop please").
_POLITE = ("please", "harken", "now", "thanks", "thank you", "no")


class Kind(StrEnum):
    BACKCHANNEL = "backchannel"
    STOP = "stop"


@dataclass(frozen=True)
class Phrases:
    backchannels: Sequence[str] = BACKCHANNELS
    stop_phrases: Sequence[str] = STOP_PHRASES

    def classify(self, transcript: str) -> Kind | None:
        """``BACKCHANNEL`` / ``STOP`` when the whole transcript is such phrases, else None."""
        words = normalise(transcript).split()
        if not words:
            return None
        backchannels = _phrase_words(self.backchannels)
        stops = _phrase_words(self.stop_phrases)
        if _covered(words, backchannels):
            return Kind.BACKCHANNEL
        if _covered(words, stops | backchannels | _phrase_words(_POLITE)) and _contains_any(
            words, stops
        ):
            return Kind.STOP
        return None


def _phrase_words(phrases: Iterable[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(w) for w in (normalise(p).split() for p in phrases) if w)


def _covered(words: list[str], phrases: frozenset[tuple[str, ...]]) -> bool:
    """Can ``words`` be cut, left to right, into phrases of the set?"""
    longest = max((len(p) for p in phrases), default=0)
    reachable = [True] + [False] * len(words)
    for start in range(len(words)):
        if not reachable[start]:
            continue
        for size in range(1, min(longest, len(words) - start) + 1):
            if tuple(words[start : start + size]) in phrases:
                reachable[start + size] = True
    return reachable[-1]


def _contains_any(words: list[str], phrases: frozenset[tuple[str, ...]]) -> bool:
    return any(
        tuple(words[i : i + len(p)]) == p for p in phrases for i in range(len(words) - len(p) + 1)
    )
