"""Guards against the words Whisper invents from silence, noise and decoding loops.

Whisper was trained on subtitles, so near-silent or noisy audio often comes
back as "Thank you for watching!" or "you", and a stuck decoder repeats a
phrase until it runs out of tokens. An utterance turned into such text would
become a bogus interruption (design rule 1: no words, no interrupt). These
functions are pure: they see audio samples, segment scores and text, never a
model, so both the local and the remote transcriber share them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from .text_norm import normalise

SAMPLE_RATE_HZ = 16_000

# The loudest 30 ms frame of an utterance must exceed this to be worth a model
# call. Quiet speech on a laptop microphone peaks around -35 dBFS; a silent
# room sits near -60 dBFS.
SILENCE_DBFS = -50.0
_FRAME_S = 0.03

# Whisper's own rule for "this window had no speech", applied per segment.
NO_SPEECH_PROB = 0.6
LOW_AVG_LOGPROB = -1.0
# A segment the model is this sure is not speech is dropped whatever its logprob.
CERTAIN_NO_SPEECH_PROB = 0.9

# The stock phrases of subtitle-trained models, normalised (``text_norm``: lower
# case, words only). Dropped only when the audio has no clear speech, so a person
# who really says "Thank you." is still heard.
PHANTOM_PHRASES: tuple[str, ...] = (
    "thank you",
    "thank you very much",
    "thank you so much",
    "thanks",
    "thank you for watching",
    "thanks for watching",
    "thank you so much for watching",
    "thank you for watching and see you next time",
    "thanks for watching and see you next time",
    "thank you for listening",
    "please subscribe",
    "please like and subscribe",
    "like and subscribe",
    "don't forget to like and subscribe",
    "see you next time",
    "see you in the next video",
    "i'll see you in the next video",
    "i'll see you next time",
    "bye",
    "bye bye",
    "goodbye",
    "you",
    "so",
    "oh",
    "okay",
    "hmm",
    "uh",
    "um",
    "the end",
    "subtitles by the amara org community",
    "transcription by castingwords",
    "music",
    "applause",
    "silence",
    "blank audio",
    "inaudible",
)
_PHANTOM_PREFIXES: tuple[str, ...] = (
    "subtitles by",
    "subtitled by",
    "captions by",
    "captioned by",
    "transcribed by",
    "translated by",
    "amara org",
)
_PHANTOM_SCORE = 88.0

# [BLANK_AUDIO], [Music], (music), (laughs), *sighs*, ♪ la la ♪
_BRACKET_TAG = re.compile(r"\[[^\]]*\]|\((?:\s*[\w'-]+){1,3}\s*\)|\*(?:\s*[\w'-]+){1,3}\s*\*")
_MUSIC_NOTES = re.compile(r"[♪♫♬♩]+")
_WORD = re.compile(r"\w")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")

# A run of the same n-gram at least this many times is a decoding loop.
_MAX_NGRAM = 8
_LOOP_REPEATS = {1: 4}  # "no, no, no" is speech; "the the the the" is a loop
_LOOP_REPEATS_DEFAULT = 3


@dataclass(frozen=True)
class SegmentScore:
    """What the guards need from one decoded segment (faster-whisper's Segment has these)."""

    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0


@dataclass(frozen=True)
class CleanText:
    """The text to keep and, when the guards removed anything, a sentence saying why.

    ``confidence``: the mean log-probability Whisper gave the kept segments' tokens
    (``avg_logprob``, higher is surer), None when no segment was kept."""

    text: str
    dropped: str | None
    confidence: float | None = None


def loudest_frame_dbfs(
    audio: npt.NDArray[np.float32], sample_rate_hz: int = SAMPLE_RATE_HZ
) -> float:
    """RMS level of the loudest 30 ms frame, in dB relative to full scale (-inf for none)."""
    if audio.size == 0:
        return float("-inf")
    frame = max(1, int(sample_rate_hz * _FRAME_S))
    usable = (audio.size // frame) * frame
    if usable == 0:
        frames = audio.astype(np.float64)[np.newaxis, :]
    else:
        frames = audio[:usable].astype(np.float64).reshape(-1, frame)
    rms = float(np.sqrt(np.max(np.mean(frames * frames, axis=1))))
    if rms <= 0.0:
        return float("-inf")
    return 20.0 * float(np.log10(rms))


def is_near_silent(audio: npt.NDArray[np.float32], threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when no 30 ms frame is loud enough to hold speech: skip the model entirely."""
    return loudest_frame_dbfs(audio) < threshold_dbfs


def segment_drop_reason(segment: SegmentScore) -> str | None:
    """Why a decoded segment is not speech, or None to keep it."""
    if segment.no_speech_prob > CERTAIN_NO_SPEECH_PROB:
        return f"the model rated it {segment.no_speech_prob:.0%} likely to be no speech"
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_AVG_LOGPROB:
        return "the model rated it as no speech with low confidence in the words"
    return None


def strip_non_speech_tags(text: str) -> str:
    """Remove [BLANK_AUDIO], (music), *laughs* and music notes; tidy the spaces left behind."""
    text = _BRACKET_TAG.sub(" ", text)
    text = _MUSIC_NOTES.sub(" ", text)
    return _tidy(text)


def collapse_repetition(text: str) -> str:
    """Collapse a phrase repeated back to back many times ("the the the the") to one copy."""
    words = text.split()
    keys = [normalise(word) for word in words]
    changed = True
    while changed:
        changed = False
        for size in range(1, _MAX_NGRAM + 1):
            needed = _LOOP_REPEATS.get(size, _LOOP_REPEATS_DEFAULT)
            start = 0
            while start + size * needed <= len(words):
                gram = keys[start : start + size]
                count = 1
                while keys[start + count * size : start + (count + 1) * size] == gram:
                    count += 1
                if count >= needed and any(gram):
                    del words[start + size : start + count * size]
                    del keys[start + size : start + count * size]
                    changed = True
                start += 1
    return " ".join(words)


def is_phantom_phrase(text: str) -> bool:
    """True when every sentence of ``text`` is one of the stock phrases Whisper invents."""
    sentences = [normalise(part) for part in _SENTENCE_SPLIT.split(text)]
    sentences = [s for s in sentences if s]
    if not sentences:
        return True
    return all(_is_phantom_sentence(sentence) for sentence in sentences)


def _is_phantom_sentence(sentence: str) -> bool:
    if sentence.startswith(_PHANTOM_PREFIXES):
        return True
    match = process.extractOne(
        sentence, PHANTOM_PHRASES, scorer=fuzz.ratio, score_cutoff=_PHANTOM_SCORE
    )
    return match is not None


def clean_transcript(
    segments: Sequence[SegmentScore], *, has_clear_speech: Callable[[], bool]
) -> CleanText:
    """Apply every text guard to the decoded segments of one utterance.

    ``has_clear_speech`` is asked only when the text is nothing but phantom
    phrases (it may run a voice-activity model, so it is kept off the common
    path). Returns "" with a reason when no words survive.
    """
    reasons: list[str] = []
    kept: list[str] = []
    logprobs: list[float] = []
    for segment in segments:
        reason = segment_drop_reason(segment)
        if reason is None:
            kept.append(segment.text)
            logprobs.append(segment.avg_logprob)
        else:
            reasons.append(f'dropped "{segment.text.strip()}": {reason}')
    raw = _tidy(" ".join(kept))
    text = strip_non_speech_tags(raw)
    if text != raw:
        reasons.append("removed non-speech tags")
    collapsed = collapse_repetition(text)
    if collapsed != text:
        reasons.append("collapsed a phrase the model repeated in a loop")
        text = collapsed
    if not _WORD.search(text):
        reasons.append("no words were recognised")
        return CleanText("", "; ".join(reasons))
    if is_phantom_phrase(text) and not has_clear_speech():
        reasons.append(
            f'dropped "{text}": a phrase Whisper invents from silence or noise, '
            "and the audio has no clear speech"
        )
        return CleanText("", "; ".join(reasons))
    confidence = sum(logprobs) / len(logprobs) if logprobs else None
    return CleanText(text, "; ".join(reasons) or None, confidence)


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s+([,.!?;:])", r"\1", text)
