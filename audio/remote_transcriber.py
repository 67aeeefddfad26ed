"""Speech-to-text on a server: the OpenAI-compatible ``/audio/transcriptions`` endpoint.

Served by OpenAI, Groq, speaches / faster-whisper-server and others. The audio
goes up as a WAV file in a multipart form; the reply's text passes through the
same hallucination guards as local Whisper, so a remote model's "Thank you."
from silence is no more an interruption than a local one. A cancel closes the
request at once.
"""

from __future__ import annotations

import asyncio
import io
import time
import wave
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from providers.cancel import Cancelled, CancelToken

from .errors import AudioErrorKind, TranscriptionError
from .hallucination import SAMPLE_RATE_HZ, SegmentScore, clean_transcript, is_near_silent
from .transcriber import Transcription, as_mono_float32, has_clear_speech

_DETAIL_CHARS = 200


def wav_bytes(audio: npt.NDArray[np.float32], sample_rate_hz: int = SAMPLE_RATE_HZ) -> bytes:
    """16-bit PCM mono WAV: the format every transcription server accepts."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate_hz)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


class RemoteTranscriber:
    """POSTs each utterance to ``{base_url}/audio/transcriptions`` (base_url includes /v1)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        model: str,
        client: httpx.AsyncClient,
        language: str | None = "en",
        timeout_s: float = 30.0,
    ) -> None:
        self._url = base_url.rstrip("/") + "/audio/transcriptions"
        self._api_key = api_key
        self._model = model
        self._client = client
        self._language = language
        self._timeout_s = timeout_s

    @property
    def url(self) -> str:
        return self._url

    async def transcribe(
        self, audio: npt.NDArray[np.float32], cancel: CancelToken | None = None
    ) -> Transcription:
        """Transcribe one utterance remotely. Raises ``Cancelled`` on cancel and
        ``TranscriptionError(REMOTE)`` with what to do when the server fails."""
        started = time.perf_counter()
        samples = as_mono_float32(audio)
        duration_s = samples.size / SAMPLE_RATE_HZ
        if cancel is not None:
            cancel.raise_if_cancelled()
        if is_near_silent(samples):
            elapsed = time.perf_counter() - started
            return Transcription("", duration_s, elapsed, "near-silent audio (not sent)")
        request = asyncio.ensure_future(self._post(samples))
        waiter = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
        try:
            waiting: set[asyncio.Future[Any]] = {request}
            if waiter is not None:
                waiting.add(waiter)
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if waiter is not None:
                waiter.cancel()
            if not request.done():
                request.cancel()  # closes the connection: httpx aborts the request in flight
                await asyncio.wait({request})
        if cancel is not None and cancel.cancelled:
            if not request.cancelled():
                request.exception()  # rule 2: whatever it failed with, it is a cancellation
            raise Cancelled(cancel.reason or "cancelled")
        text = request.result()
        clean = await asyncio.to_thread(
            clean_transcript,
            [SegmentScore(text)],
            has_clear_speech=lambda: has_clear_speech(samples),
        )
        return Transcription(clean.text, duration_s, time.perf_counter() - started, clean.dropped)

    async def _post(self, samples: npt.NDArray[np.float32]) -> str:
        data = {"model": self._model, "response_format": "json"}
        if self._language:
            data["language"] = self._language
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        files = {"file": ("utterance.wav", wav_bytes(samples), "audio/wav")}
        try:
            response = await self._client.post(
                self._url, data=data, files=files, headers=headers, timeout=self._timeout_s
            )
        except httpx.ConnectError as exc:
            raise self._error(
                f"The transcription server is unreachable at {self._url} ({exc}). "
                "Check that it is running and the address in Settings → Audio is right."
            ) from exc
        except httpx.TimeoutException as exc:
            raise self._error(
                f"The transcription server at {self._url} did not answer within "
                f"{self._timeout_s:.0f} s. Try again, or use local transcription."
            ) from exc
        except httpx.HTTPError as exc:
            raise self._error(
                f"The connection to the transcription server at {self._url} failed "
                f"({type(exc).__name__}: {exc}). Try again."
            ) from exc
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> str:
        status = response.status_code
        detail = response.text.strip()[:_DETAIL_CHARS]
        if status in (401, 403):
            raise self._error(
                f"The transcription server rejected the API key ({status}). "
                "Open Settings → Audio to fix the key."
            )
        if status == 404:
            raise self._error(
                f"The transcription server has no {self._url} endpoint (404). Check the base "
                "URL in Settings → Audio; it usually ends in /v1."
            )
        if status == 429:
            raise self._error(
                "The transcription server is rate-limiting requests (429). "
                "Wait a moment and speak again."
            )
        if 400 <= status < 500:
            raise self._error(
                f"The transcription server refused the request ({status}: {detail}). "
                f"Check the model name “{self._model}” in Settings → Audio."
            )
        if status >= 500:
            raise self._error(
                f"The transcription server failed ({status}: {detail}). Try again later."
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            raise self._error(
                f"The transcription server at {self._url} sent an answer without text "
                f"({detail or 'empty'}). Check that it speaks the OpenAI transcription API."
            )
        return str(payload["text"])

    @staticmethod
    def _error(message: str) -> TranscriptionError:
        return TranscriptionError(AudioErrorKind.REMOTE, message)
