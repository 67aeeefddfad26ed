"""Break opportunities in very long runs of text without spaces, so Qt lays them out fast.

Qt's line breaking is quadratic in the length of a word that does not fit a line
(each line re-scans the rest of the word for a boundary before it breaks
anywhere): one 1 MB reply delta without spaces froze the window for ~55 s, the
same text with spaces took 0.4 s. A zero-width space every ``CHUNK_CHARS`` in
runs longer than ``LONG_RUN_CHARS`` gives the layout a place to break; the
1 MB run then lays out in ~0.4 s. The threshold is far above any word or
ordinary URL, so normal text is untouched, and the conversation view strips the
marks from whatever is copied (``strip_soft_wraps``).
"""

from __future__ import annotations

import re

LONG_RUN_CHARS = 1000
CHUNK_CHARS = 500
SOFT_BREAK = "\u200b"  # ZERO WIDTH SPACE: invisible, a line may break after it

_LONG_RUN = re.compile(rf"[^\s{SOFT_BREAK}]{{{LONG_RUN_CHARS + 1},}}")


def soft_wrap(text: str) -> str:
    """``text`` with a soft break every ``CHUNK_CHARS`` inside each over-long run."""
    if len(text) <= LONG_RUN_CHARS:
        return text
    return _LONG_RUN.sub(_break_up, text)


def _break_up(match: re.Match[str]) -> str:
    run = match.group(0)
    return SOFT_BREAK.join(run[i : i + CHUNK_CHARS] for i in range(0, len(run), CHUNK_CHARS))


def strip_soft_wraps(text: str) -> str:
    return text.replace(SOFT_BREAK, "")
