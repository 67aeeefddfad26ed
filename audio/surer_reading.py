"""Two readings of the same pause: keep the one Whisper is surer of.

At a pause the worker reads the same audio twice: a quick pass over a short
encoder window (for an early request, ``app.agent.early_request``) and the
full-window pass that becomes the transcript. tiny.en disagrees with itself
on a third to a half of short commands, and neither window is reliably the better
one ("What's on my calendar tomorrow?" against "Well, it's on my calendar
tomorrow."). Keeping the reading with the higher mean token log-probability
reads our pause and command sets at least as well as the full pass alone
(``tests/bench/bench_turn_taking.py`` prints the figures), and when it is the
quick reading, the early request already asked for exactly those words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .hallucination import CleanText
from .text_norm import words


def surer_reading(full: CleanText, quick: CleanText | None) -> CleanText:
    """``quick`` when it found other words with strictly more confidence, else ``full``.

    The full pass keeps every verdict that is not a choice of words: when its guards
    found no speech, or either reading has no confidence, it stands."""
    if quick is None or not full.text or not quick.text:
        return full
    if full.confidence is None or quick.confidence is None:
        return full
    if words(full.text) == words(quick.text) or quick.confidence <= full.confidence:
        return full
    return quick


def surer_of(
    full: asyncio.Future[CleanText],
    quick: asyncio.Future[CleanText],
    on_quick_kept: Callable[[CleanText, CleanText], None],
) -> asyncio.Future[CleanText]:
    """``full``'s result, or ``quick``'s when it is the surer reading (``surer_reading``);
    ``on_quick_kept(quick, full)`` is called when it is.

    One worker runs the quick pass first, so it is settled when ``full`` is. A quick pass
    dropped since (with its early request) still read the same audio: its words count."""
    chosen: asyncio.Future[CleanText] = asyncio.get_running_loop().create_future()

    def settle(done: asyncio.Future[CleanText]) -> None:
        if chosen.done():
            return
        if done.cancelled():
            chosen.cancel()
            return
        error = done.exception()
        if error is not None:
            chosen.set_exception(error)
            return
        reading = done.result()
        if quick.done() and not quick.cancelled() and quick.exception() is None:
            surer = surer_reading(reading, quick.result())
            if surer is not reading:
                on_quick_kept(surer, reading)
            reading = surer
        chosen.set_result(reading)

    full.add_done_callback(settle)
    return chosen
