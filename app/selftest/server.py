"""A tiny OpenAI-compatible streaming server on 127.0.0.1 for ``harken --self-test``.

The self-test must prove, on the user's machine and from the installed bundle,
that a reply streams and that a cancel closes the connection at once (design
rules 2 and 3), without a network or an API key. This server answers
``POST /v1/chat/completions`` with a long Server-Sent Events stream, one small
delta every ``delay_s``, and between deltas watches the socket so it notices
the client hanging up within milliseconds; it records when that happened and
how many requests arrived (a retry would be a second one). It is not the test
suite's scripted server (``tests/`` is not bundled); it does one thing.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

_STREAM_PATH = "/v1/chat/completions"


class SelfTestServer:
    """``with SelfTestServer() as server:`` then stream from ``server.base_url``."""

    def __init__(self, *, chunks: int = 400, delay_s: float = 0.01) -> None:
        self.chunks = chunks
        self.delay_s = delay_s
        self.requests = 0
        self.chunks_sent = 0
        self._disconnected_at: float | None = None
        self._disconnect = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name="selftest-server",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, version path included."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def wait_for_disconnect(self, timeout_s: float) -> float | None:
        """The ``time.perf_counter()`` at which a client hung up mid-stream, or None."""
        if not self._disconnect.wait(timeout_s):
            return None
        return self._disconnected_at

    def _record_request(self) -> None:
        with self._lock:
            self.requests += 1

    def _record_disconnect(self) -> None:
        with self._lock:
            if self._disconnected_at is None:
                self._disconnected_at = time.perf_counter()
        self._disconnect.set()


def _chunk(index: int) -> bytes:
    payload = {
        "id": "selftest",
        "object": "chat.completion.chunk",
        "model": "selftest",
        "choices": [{"index": 0, "delta": {"content": f"word{index} "}, "finish_reason": None}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


def _hung_up(sock: socket.socket, timeout_s: float) -> bool:
    """Wait up to ``timeout_s``; True if the peer closed the connection meanwhile."""
    readable, _, _ = select.select([sock], [], [], timeout_s)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _handler_for(server: SelfTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the self-test prints its own report

        def do_POST(self) -> None:
            server._record_request()
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)  # the request body; its content does not matter
            if self.path != _STREAM_PATH:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for index in range(server.chunks):
                    self.wfile.write(_chunk(index))
                    self.wfile.flush()
                    server.chunks_sent = index + 1
                    if _hung_up(self.connection, server.delay_s):
                        server._record_disconnect()
                        return
                finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(finish)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                server._record_disconnect()

    return Handler
