"""Is a transcript just the assistant's own voice heard back through the speakers?

Echo cancellation removes most of the reply from the microphone; this is the
second line of defence, for what leaks through. Such an utterance must not
interrupt the reply. We compare it with what was spoken recently, two ways:

- a stretch of it: three words or more that match a part of the recent text
  (``partial_ratio`` ≥ 80), or whose words appear in it in order, ≥ 80 % of
  them (a garbled echo: "upon time there lived a clockmaker");
- while the reply is live, a short fragment: one or two words, the first of
  which was among the last ``SHORT_WINDOW_WORDS`` words spoken (the second may
  be garbled): "Once" and "Once again." against "Once upon a time…" (issue 16:
  quiet echoes at −30 dB coupling that restarted the story six times in 30 s).
  The price: "stop" said within a few seconds of the reply saying "stop" is
  taken for echo (the reply resumes; say it again).

Words match fuzzily (``fuzz.ratio`` ≥ ``WORD_MATCH``), so Whisper's
misspellings of a half-heard word still count.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from audio.text_norm import words as _words

MIN_WORDS = 3  # from here on, a transcript is compared as a stretch of text
THRESHOLD = 80.0  # partial_ratio of a stretch
IN_ORDER_SHARE = 0.8  # share of a stretch's words found in order in the recent text
SHORT_WINDOW_WORDS = 30  # ~10 s of speech: where a short fragment is looked for
WORD_MATCH = 80.0


def _same(a: str, b: str) -> bool:
    return a == b or fuzz.ratio(a, b) >= WORD_MATCH


def _in_order(heard: list[str], spoken: list[str]) -> int:
    """How many of ``heard`` appear in ``spoken`` in the same order (greedy)."""
    found, at = 0, 0
    for word in heard:
        for i in range(at, len(spoken)):
            if _same(word, spoken[i]):
                found, at = found + 1, i + 1
                break
    return found


def is_self_echo(transcript: str, recently_spoken: str, *, while_speaking: bool = False) -> bool:
    """``while_speaking``: the reply is still live (playing, ducked or paused). Only then
    are short fragments checked: after a reply, "Yes." answers it, it is not an echo."""
    heard = _words(transcript)
    spoken = _words(recently_spoken)
    if not heard or not spoken:
        return False
    if len(heard) >= MIN_WORDS:
        if fuzz.partial_ratio(" ".join(heard), " ".join(spoken)) >= THRESHOLD:
            return True
        return _in_order(heard, spoken) >= IN_ORDER_SHARE * len(heard)
    if not while_speaking:
        return False
    # A fragment: its first word was just spoken; a second may be garbled ("Once again").
    return any(_same(heard[0], word) for word in spoken[-SHORT_WINDOW_WORDS:])
