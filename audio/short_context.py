"""Whisper's encoder over the audio's own length instead of a padded 30 s window.

faster-whisper pads every window's features to 30 s (3000 frames) before the
encoder, so a 3 s command costs as much to encode as 30 s of speech: on two
busy cores that is most of a second, too slow to transcribe at a pause and
have the words before the hangover ends. CTranslate2 encodes shorter inputs
fine (whisper.cpp calls this the audio context), but the model was trained on
30 s windows and reads worse the less padding it sees: on twelve espeak-ng
commands, a 10 s window cost 3-4x less and raised tiny.en's word error from
6.5 % to 10.7 %, and even a 20 s window was measurably worse than the full one
on the test set of ``tests/test_speculative.py``. So only live previews, whose
text is replaced, use a short window (``MIN_FRAMES``, 10 s); the pause's pass,
whose text becomes the final one, keeps faster-whisper's full window.
faster-whisper has no option for it, so this wraps its padding function once;
only a thread inside ``short_context()`` gets the short window, every other
caller keeps the stock behaviour.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PAD_FRAMES = 100  # 1 s of silence after the audio at least
MIN_FRAMES = 1000  # 10 s: previews (shorter windows made tiny.en repeat itself or drop words)

_local = threading.local()
_lock = threading.Lock()
_installed = False


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        import faster_whisper.transcribe as fw

        original: Callable[..., Any] = fw.pad_or_trim

        def pad_or_trim(array: Any, length: int = 3000, *, axis: int = -1) -> Any:
            extra = getattr(_local, "pad_frames", None)
            if extra is not None:
                least = getattr(_local, "min_frames", MIN_FRAMES)
                length = min(length, max(least, array.shape[axis] + extra))
            return original(array, length, axis=axis)

        fw.pad_or_trim = pad_or_trim
        _installed = True


@contextmanager
def short_context(min_frames: int = MIN_FRAMES, pad_frames: int = PAD_FRAMES) -> Iterator[None]:
    """In this thread, encode each window over its length plus ``pad_frames``, at least
    ``min_frames`` (100 frames a second)."""
    _install()
    _local.pad_frames = pad_frames
    _local.min_frames = min_frames
    try:
        yield
    finally:
        _local.pad_frames = None
