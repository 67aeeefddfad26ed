"""A real local HTTP server speaking the OpenAI transcription API, scripted per test.

It records each request's form fields and WAV format, can hold its answer back
(a slow server) and notices within 10 ms when the client closes the
connection. ``serve(script)`` runs it on a free port.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import io
import select
import socket
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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


@contextlib.contextmanager
def serve(script: Script) -> Iterator[str]:
    """Serve ``script`` on a free port; yields the base URL (with /v1)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        script.released.set()
        httpd.shutdown()
        httpd.server_close()
