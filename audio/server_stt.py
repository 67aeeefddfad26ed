"""Speech-to-text on a server that never loses an utterance: remote first, local Whisper after.

``FallbackTranscriber`` has the same ``transcribe(audio, cancel)`` shape as the
local and the remote transcribers, so the controller cannot tell them apart.
Each utterance goes to the server; when the server fails (unreachable, an
error status, an answer without text) or has not answered within
``deadline_s``, its request is closed and the same audio is transcribed by
local Whisper, and ``on_notice`` is told why, once per run of failures (and
once more when the server answers again). A cancel by the caller is not a
failure: it closes the request and raises ``Cancelled`` — no local retry.

``ServerFinal`` is the hands-free counterpart of ``audio.speculative``'s
``PreparedTranscript``: the final pass of an utterance, started at the end of
speech, awaited by the controller. With a server, the live partials and the
pause passes (which drive the adaptive end of speech) stay on the local
model, which costs no request; only the final transcript — the one that is
echoed and decides an interruption — comes from the server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from providers.cancel import Cancelled, CancelToken

from .errors import TranscriptionError
from .transcriber import Transcriber, Transcription

log = logging.getLogger(__name__)

DEFAULT_DEADLINE_S = 5.0


class FallbackTranscriber:
    """``remote`` for every utterance, ``local`` when the server fails or is too slow."""

    def __init__(
        self,
        remote: Transcriber,
        local: Transcriber,
        *,
        server_url: str,
        deadline_s: float = DEFAULT_DEADLINE_S,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.remote = remote
        self.local = local
        self.server_url = server_url
        self.deadline_s = deadline_s
        self.on_notice = on_notice
        self.fallbacks = 0  # utterances the local model transcribed instead (tests, self-test)
        self._failing: str | None = None  # the last failure reported, until a success

    async def transcribe(
        self, audio: npt.NDArray[np.float32], cancel: CancelToken | None = None
    ) -> Transcription:
        """The server's transcript, or local Whisper's when the server failed.

        Raises ``Cancelled`` once ``cancel`` is set (the request is closed at once)."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        started = time.perf_counter()
        attempt = CancelToken()
        unlink = None
        if cancel is not None:
            parent = cancel

            def forward() -> None:
                attempt.cancel(parent.reason or "cancelled")

            unlink = cancel.add_callback(forward)
        timer = asyncio.get_running_loop().call_later(
            self.deadline_s, attempt.cancel, "the server was too slow"
        )
        try:
            result = await self.remote.transcribe(audio, attempt)
        except Cancelled:
            if cancel is not None and cancel.cancelled:
                raise
            reason = (
                f"The transcription server at {self.server_url} did not answer within "
                f"{self.deadline_s:g} s."
            )
        except TranscriptionError as exc:
            reason = exc.message
        else:
            self._recovered()
            return result
        finally:
            timer.cancel()
            if unlink is not None:
                unlink()
        self.fallbacks += 1
        log.warning("remote transcription failed, using local Whisper: %s", reason)
        self._notice(reason)
        local = await self.local.transcribe(audio, cancel)
        return replace(local, elapsed_s=time.perf_counter() - started)

    def _notice(self, reason: str) -> None:
        if reason == self._failing:
            return
        self._failing = reason
        if self.on_notice is not None:
            self.on_notice(f"{reason} This utterance was transcribed on this computer instead.")

    def _recovered(self) -> None:
        if self._failing is None:
            return
        self._failing = None
        if self.on_notice is not None:
            self.on_notice(f"The transcription server at {self.server_url} answers again.")


class ServerFinal:
    """The final transcript of one utterance, requested at once: await ``result(cancel)``.

    If nobody awaits it (the session closed), the request still ends on its own:
    it is bounded by the transcriber's deadline."""

    def __init__(self, transcriber: Transcriber, audio: npt.NDArray[np.float32]) -> None:
        self._token = CancelToken()
        self._task = asyncio.ensure_future(transcriber.transcribe(audio, self._token))
        self._task.add_done_callback(_retrieve)

    def cancel(self, reason: str = "cancelled") -> None:
        self._token.cancel(reason)

    async def result(self, cancel: CancelToken | None = None) -> Transcription:
        """The transcript; raises ``Cancelled`` once ``cancel`` is set (request closed)."""
        if cancel is not None:
            if cancel.cancelled:
                self.cancel(cancel.reason or "cancelled")
            cancel.raise_if_cancelled()
        unlink = (
            cancel.add_callback(lambda: self.cancel(cancel.reason or "cancelled"))
            if cancel is not None
            else None
        )
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            self.cancel("the transcription task was cancelled")
            raise
        finally:
            if unlink is not None:
                unlink()


def _retrieve(task: asyncio.Future[Transcription]) -> None:
    if not task.cancelled():
        task.exception()
