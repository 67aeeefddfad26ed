"""The pause set: sentences spoken with a thinking pause, next to ones that end at once.

Turn-taking must never cut a speaker who stops mid-phrase ("What is the
capital of … France?") and must still answer a finished question fast. This
module builds that audio for tests and ``tests/bench/bench_turn_taking.py``:

- ``PAUSED``: (first part, pause in seconds, rest) — espeak-ng speech with a
  0.6–1.2 s pause after an incomplete phrase (the silence between the words:
  espeak's own ~0.35 s of trailing silence is cut off the first part);
- ``COMPLETE``: short finished questions and commands, spoken in one go;
- ``jfk()``: ``../shared/data/jfk.flac``, one real sentence with three pauses.

``Clip.text`` is the whole sentence (for word overlap), ``Clip.audio`` 16 kHz
float32 with 0.5 s of silence before and ``tail_s`` after, ``Clip.end_s``
where its speech ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.support.speech import SpeechLibrary, compose, without_tail

JFK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "jfk.flac"
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
PAUSED = [
    ("What is the capital of", 0.9, "France?"),
    ("Remind me to call", 0.8, "my mother tomorrow morning."),
    ("Set a timer for", 1.0, "ten minutes."),
    ("Tell me a joke about", 0.7, "penguins."),
    ("How far is it from Paris to", 1.2, "Berlin?"),
    ("Can you explain how", 0.6, "photosynthesis works?"),
    ("What's the weather like in", 1.0, "London tomorrow?"),
    ("I need you to", 1.1, "write an email to my boss."),
]
COMPLETE = [
    "What time is it in Tokyo?",
    "How tall is Mount Everest?",
    "Tell me a joke.",
    "What is the capital of France?",
    "Set a timer for five minutes.",
]
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True, eq=False)
class Clip:
    kind: str  # "paused" | "complete" | "real"
    text: str
    audio: npt.NDArray[np.float32] = field(repr=False)
    end_s: float


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("10", "ten").replace("5", "five"))


def overlap(expected: str, heard: str) -> float:
    """Share of the expected words that were heard (each word counted once per use)."""
    want = words(expected)
    got = words(heard)
    hits = 0
    for word in want:
        if word in got:
            got.remove(word)
            hits += 1
    return hits / len(want) if want else 1.0


def paused_clips(lib: SpeechLibrary, tail_s: float = 2.5) -> list[Clip]:
    out = []
    for first, pause_s, rest in PAUSED:
        # The pause is the silence between the words (espeak's own tail cut off).
        song = compose(0.5, without_tail(lib.say(first)), pause_s, lib.say(rest), tail_s)
        out.append(Clip("paused", f"{first} {rest}", song.audio, song.segments[-1][1]))
    return out


def complete_clips(lib: SpeechLibrary, tail_s: float = 2.5) -> list[Clip]:
    out = []
    for text in COMPLETE:
        song = compose(0.5, lib.say(text), tail_s)
        out.append(Clip("complete", text, song.audio, song.segments[-1][1]))
    return out


def jfk(tail_s: float = 2.5) -> Clip:
    from faster_whisper import decode_audio

    audio = np.asarray(decode_audio(str(JFK), sampling_rate=16000), dtype=np.float32)
    song = compose(0.5, audio, tail_s)
    # The file's last word ends ~10.6 s in; active_span finds it (quiet room noise is below).
    return Clip("real", JFK_TEXT, song.audio, song.segments[-1][1])
