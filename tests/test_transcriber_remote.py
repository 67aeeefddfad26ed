"""RemoteTranscriber against a real local HTTP server speaking the OpenAI transcription API."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from audio.errors import AudioErrorKind, TranscriptionError
from audio.remote_transcriber import RemoteTranscriber
from audio.transcriber import Transcriber
from providers.cancel import Cancelled, CancelToken
from tests.support.transcription_script import Script, serve

RATE = 16_000


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def whisper_api(script: Script) -> Iterator[str]:
    with serve(script) as url:
        yield url


@pytest.fixture
def jfk_3s(jfk_audio: np.ndarray) -> np.ndarray:
    return jfk_audio[: RATE * 3]


async def test_posts_a_multipart_wav_and_returns_the_text(
    whisper_api: str, script: Script, jfk_3s: np.ndarray
) -> None:
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(whisper_api, api_key="sk-test", model="whisper-1", client=client)
        assert isinstance(remote, Transcriber)
        result = await remote.transcribe(jfk_3s)
    assert result.text == "Turn on the lights."
    assert result.dropped is None
    assert result.audio_duration_s == pytest.approx(3.0)
    [request] = script.requests
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.fields == {"model": "whisper-1", "response_format": "json", "language": "en"}
    assert request.filename.endswith(".wav") and request.content_type == "audio/wav"
    assert (request.wav_rate, request.wav_channels, request.wav_frames) == (RATE, 1, jfk_3s.size)


async def test_no_key_sends_no_authorization(
    whisper_api: str, script: Script, jfk_3s: np.ndarray
) -> None:
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(whisper_api + "/", api_key=None, model="small", client=client)
        await remote.transcribe(jfk_3s)
    assert "authorization" not in script.requests[0].headers


async def test_silence_is_not_sent(whisper_api: str, script: Script) -> None:
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(whisper_api, api_key=None, model="m", client=client)
        result = await remote.transcribe(np.zeros(RATE, np.float32))
    assert result.text == "" and result.dropped
    assert script.requests == []


async def test_phantom_phrase_from_the_server_is_dropped_for_noise(
    whisper_api: str, script: Script
) -> None:
    script.body = b'{"text": "Thank you for watching!"}'
    noise = (np.random.default_rng(5).standard_normal(RATE * 2) * 0.1).astype(np.float32)
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(whisper_api, api_key=None, model="m", client=client)
        result = await remote.transcribe(noise)
    assert result.text == ""
    assert result.dropped is not None and "no clear speech" in result.dropped
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (401, b'{"error": "bad key"}', "rejected the API key (401)"),
        (404, b"not found", "no http"),
        (500, b"boom", "failed (500: boom)"),
        (429, b"slow down", "rate-limiting"),
        (400, b'{"error": "unknown model"}', "Check the model name"),
        (200, b"<html>hello</html>", "answer without text"),
    ],
)
async def test_server_errors_become_actionable_transcription_errors(
    whisper_api: str, script: Script, jfk_3s: np.ndarray, status: int, body: bytes, says: str
) -> None:
    script.status, script.body = status, body
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(whisper_api, api_key="k", model="m", client=client)
        with pytest.raises(TranscriptionError) as caught:
            await remote.transcribe(jfk_3s)
    assert caught.value.kind is AudioErrorKind.REMOTE
    assert says in str(caught.value)


async def test_connection_refused_names_the_url(jfk_3s: np.ndarray) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(url, api_key=None, model="m", client=client)
        with pytest.raises(TranscriptionError) as caught:
            await remote.transcribe(jfk_3s)
    assert "unreachable" in str(caught.value) and url in str(caught.value)


async def test_cancel_closes_the_request(
    whisper_api: str, script: Script, jfk_3s: np.ndarray
) -> None:
    script.hold = True
    token = CancelToken()
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(whisper_api, api_key=None, model="m", client=client)
        job = asyncio.create_task(remote.transcribe(jfk_3s, token))
        assert await asyncio.to_thread(script.arrived.wait, 5)
        token.cancel("user spoke again")
        cancelled_at = time.perf_counter()
        with pytest.raises(Cancelled):
            await job
        assert time.perf_counter() - cancelled_at < 0.5
    assert await asyncio.to_thread(script.disconnected.wait, 5)


async def test_timeout_is_reported(whisper_api: str, script: Script, jfk_3s: np.ndarray) -> None:
    script.hold = True
    async with httpx.AsyncClient() as client:
        remote = RemoteTranscriber(
            whisper_api, api_key=None, model="m", client=client, timeout_s=0.3
        )
        with pytest.raises(TranscriptionError, match="did not answer within"):
            await remote.transcribe(jfk_3s)
    script.released.set()
