"""RemoteTranscriber against a real local HTTP server speaking the OpenAI transcription API."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import select
import socket
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest

from audio.errors import AudioErrorKind, TranscriptionError
from audio.remote_transcriber import RemoteTranscriber
from audio.transcriber import Transcriber
from providers.cancel import Cancelled, CancelToken

RATE = 16_000


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    fields: dict[str, str]
    filename: str
    content_type: str
    wav_rate: int
    wav_channels: int
    wav_frames: int


@dataclass
class Script:
    """What the server answers, and what it saw."""

    status: int = 200
    body: bytes = b'{"text": " Turn on the lights."}'
    hold: bool = False  # keep the response back until released (or the client leaves)
    requests: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, str, bytes]]:
    """name → (filename, content type, bytes), with the stdlib e-mail parser."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    assert message.is_multipart(), content_type
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = (part.get_filename(), part.get_content_type(), payload)
    return parts


def make_handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length)
            parts = parse_multipart(self.headers["Content-Type"], body)
            filename, content_type, wav_data = parts.pop("file")
            with wave.open(io.BytesIO(wav_data), "rb") as wav:
                info = (wav.getframerate(), wav.getnchannels(), wav.getnframes())
            script.requests.append(
                Received(
                    path=self.path,
                    headers={key.lower(): value for key, value in self.headers.items()},
                    fields={name: value[2].decode() for name, value in parts.items()},
                    filename=filename or "",
                    content_type=content_type,
                    wav_rate=info[0],
                    wav_channels=info[1],
                    wav_frames=info[2],
                )
            )
            script.arrived.set()
            if script.hold and not self._wait_for_release():
                return
            self.send_response(script.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(script.body)))
            self.end_headers()
            self.wfile.write(script.body)

        def _wait_for_release(self) -> bool:
            """Poll the socket: a client that closed it makes it readable with no data."""
            while not script.released.wait(0.01):
                readable, _, _ = select.select([self.connection], [], [], 0)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    script.disconnected.set()
                    return False
            return True

    return Handler


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def whisper_api(script: Script) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    script.released.set()
    httpd.shutdown()
    httpd.server_close()


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
