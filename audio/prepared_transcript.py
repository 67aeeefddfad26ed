"""The final transcript of an utterance whose decoding is already under way.

``SpeculativeTranscriber.ended`` hands the controller one of these instead of
audio: usually the pause's pass, started while the user was still silent and
often finished by the time the utterance ends, so awaiting it costs nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from providers.cancel import CancelToken

from .hallucination import CleanText
from .transcriber import Transcription, await_or_cancel

Pass = tuple[asyncio.Future[CleanText], CancelToken]


class PreparedTranscript:
    """The final transcript of one utterance, already on its way: await ``result(cancel)``.

    ``recheck`` starts a full-window pass; it is used when the pause's pass (short
    encoder context) found no words, so that "no words" — which lets a paused reply
    resume — is always the verdict of the same pass as without speculation."""

    def __init__(
        self,
        future: asyncio.Future[CleanText] | None,
        token: CancelToken,
        audio_s: float,
        recheck: Callable[[], Pass] | None = None,
    ) -> None:
        self._future = future
        self._token = token
        self._audio_s = audio_s
        self._recheck = recheck
        self._started = time.perf_counter()

    def _cancel_job(self) -> None:
        self._token.cancel("cancelled")

    async def result(self, cancel: CancelToken | None = None) -> Transcription:
        """The transcript; raises ``Cancelled`` once ``cancel`` is set."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self._future is None:
            return Transcription("", self._audio_s, 0.0, "near-silent audio (not decoded)")
        clean = await self._await(cancel)
        if not clean.text and self._recheck is not None:
            self._future, self._token = self._recheck()
            self._recheck = None
            clean = await self._await(cancel)
        elapsed = time.perf_counter() - self._started
        return Transcription(clean.text, self._audio_s, elapsed, clean.dropped)

    async def _await(self, cancel: CancelToken | None) -> CleanText:
        assert self._future is not None
        unlink = cancel.add_callback(self._cancel_job) if cancel else None
        try:
            clean: CleanText = await await_or_cancel(self._future, cancel, self._token)
        finally:
            if unlink is not None:
                unlink()
        return clean
