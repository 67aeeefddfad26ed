"""Cut a synthesised clip's trailing silence, so two pieces of one sentence run on.

Piper ends every clip with a breath of silence. Where the speech output splits
a sentence without punctuation (``audio.sentence_chunker``'s run-on pieces),
that silence would be an audible gap between two words; the cut keeps a short
tail and fades it out so it does not click.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SILENCE_LEVEL = 0.01  # -40 dBFS


def trim_trailing_silence(
    audio: npt.NDArray[np.float32], rate_hz: int, keep_s: float
) -> npt.NDArray[np.float32]:
    """``audio`` ending ``keep_s`` after its last sample above -40 dBFS (faded out over the
    last 5 ms so the cut does not click); unchanged if it is silent or has no longer tail."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_LEVEL)
    if loud.size == 0:
        return audio
    end = int(loud[-1]) + 1 + int(rate_hz * keep_s)
    if end >= audio.size:
        return audio
    trimmed = audio[:end].copy()
    fade = min(end, int(rate_hz * 0.005))
    trimmed[end - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return trimmed
