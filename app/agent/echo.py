"""Is a transcript just the assistant's own voice heard back through the speakers?

Without echo cancellation, the microphone hears the reply being spoken; the
VAD calls it speech and Whisper transcribes it. Such an utterance must not
interrupt the reply. We compare it with what was spoken recently.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from audio.text_norm import normalise

MIN_WORDS = 3  # shorter utterances ("stop", "wait") are always taken as the user's
THRESHOLD = 80.0


def is_self_echo(transcript: str, recently_spoken: str) -> bool:
    heard = normalise(transcript)
    spoken = normalise(recently_spoken)
    if not spoken or len(heard.split()) < MIN_WORDS:
        return False
    return fuzz.partial_ratio(heard, spoken) >= THRESHOLD
