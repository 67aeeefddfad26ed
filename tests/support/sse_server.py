"""A real, scripted streaming HTTP server on 127.0.0.1:0 for provider and controller tests.

Each incoming request takes the next scripted :class:`Reply` (FIFO), unless
an *answer* matches it first (``answer(words, reply)``: any request whose last
user message contains ``words`` gets that reply, as often as it is asked —
for hands-free runs, where an early request the turn did not take over
(``app.agent.early_request``) must not use up the next turn's reply). A reply is: a
status, headers and a body made of steps — :class:`Send` (bytes, after a
delay), :class:`Stall` (send nothing) and :class:`Drop` (cut the connection
mid-body). Between steps the server watches the socket, so a client that
hangs up is noticed within milliseconds and the moment is recorded
(``time.perf_counter()``). Every request is recorded (method, path, query,
headers, body).

Usage::

    with ScriptedServer() as server:
        server.add(sse_reply(openai_stream(["Hel", "lo"], delay_s=0.01)))
        ...  # POST to f"{server.url}/v1/chat/completions"
        server.requests[0].json()["messages"]
        server.wait_for_disconnect(timeout_s=2)   # perf_counter of the hang-up

As a pytest plugin (registered in ``tests/conftest.py``) it gives every test
``server`` (a fresh ``ScriptedServer``) and ``client`` (an httpx client made
like the app's, closed after the test).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import socketserver
import struct
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

# The script vocabulary lives in sse_scripts; it is re-exported so that tests
# import everything from this one module.
from tests.support.sse_scripts import (
    SSE_HEADERS,
    Drop,
    Hold,
    Reply,
    ScriptedToolCall,
    Send,
    Stall,
    Step,
    anthropic_stream,
    json_reply,
    openai_stream,
    provider_stream,
    split_text,
    sse_event,
    sse_reply,
)

__all__ = [
    "SSE_HEADERS",
    "Drop",
    "Hold",
    "RecordedRequest",
    "Reply",
    "ScriptedServer",
    "ScriptedToolCall",
    "Send",
    "Stall",
    "Step",
    "anthropic_stream",
    "hanging_connect_url",
    "last_user_text",
    "json_reply",
    "openai_stream",
    "provider_stream",
    "split_text",
    "sse_event",
    "sse_reply",
]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float  # time.perf_counter()
    client_port: int = 0  # the same port twice: the connection was reused

    def json(self) -> Any:
        return json.loads(self.body)


def last_user_text(request: RecordedRequest) -> str:
    """The last user message of a chat request, lower-cased ("" for anything else)."""
    try:
        messages = request.json().get("messages", [])
    except (ValueError, AttributeError):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # Anthropic-style blocks
                content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
            return str(content or "").lower()
    return ""


class ScriptedServer:
    """A threaded HTTP/1.1 server replaying scripted replies; see the module docstring."""

    def __init__(self, *replies: Reply) -> None:
        self._cond = threading.Condition()
        self._replies: list[Reply] = list(replies)
        self._answers: list[tuple[str, Reply]] = []
        self._requests: list[RecordedRequest] = []
        self._disconnects: dict[int, float] = {}
        self._completed: set[int] = set()
        self._connections: set[socket.socket] = set()
        self._wake_r, self._wake_w = os.pipe()
        self.closing = threading.Event()
        self._tcp = _TCPServer(("127.0.0.1", 0), _Handler)
        self._tcp.owner = self
        self.port: int = self._tcp.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving; stalled replies end and idle keep-alive connections are closed."""
        if self.closing.is_set():
            return
        self.closing.set()
        os.write(self._wake_w, b"x")
        self._tcp.shutdown()
        self._tcp.server_close()
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    # -- scripting and inspection (any thread)

    def add(self, *replies: Reply) -> None:
        """Queue replies; each request takes the next one (a 500 when none is left)."""
        with self._cond:
            self._replies.extend(replies)

    def answer(self, words: str, reply: Reply) -> None:
        """Reply ``reply`` to every request whose last user message contains ``words``
        (case-insensitive), before the FIFO queue is looked at."""
        with self._cond:
            self._answers.append((words.lower(), reply))

    def requests_for(self, words: str) -> list[RecordedRequest]:
        """The requests whose last user message contains ``words`` (case-insensitive)."""
        return [r for r in self.requests if words.lower() in last_user_text(r)]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    def disconnected_at(self, index: int = -1) -> float | None:
        """When the client hung up during request ``index``'s reply, or None."""
        with self._cond:
            return self._disconnects.get(self._absolute(index))

    def completed(self, index: int = -1) -> bool:
        """Whether request ``index``'s reply was written to the end."""
        with self._cond:
            return self._absolute(index) in self._completed

    def base_url(self, kind: str) -> str:
        """The base URL a provider of ``kind`` is configured with (OpenAI-compatible
        ones include ``/v1``; Anthropic's and Azure's do not)."""
        return f"{self.url}/v1" if kind == "openai" else self.url

    def wait_for_completion(self, timeout_s: float = 2.0, index: int = -1) -> None:
        """Block until request ``index``'s reply has been played to its end (a
        scripted :class:`Drop` counts as the end)."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: bool(self._requests) and self._absolute(index) in self._completed,
                timeout_s,
            )
            if not ok:
                raise AssertionError(f"reply not played to the end within {timeout_s} s")

    def wait_for_requests(self, count: int, timeout_s: float = 2.0) -> list[RecordedRequest]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= count, timeout_s):
                raise AssertionError(f"expected {count} requests, got {len(self._requests)}")
            return list(self._requests)

    def wait_for_disconnect(self, timeout_s: float = 2.0, index: int = -1) -> float:
        """Block until the client hung up mid-reply on request ``index`` (default:
        the latest); returns the ``perf_counter()`` time the server noticed."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: bool(self._requests) and self._absolute(index) in self._disconnects,
                timeout_s,
            )
            if not ok:
                raise AssertionError(f"no client disconnect within {timeout_s} s")
            return self._disconnects[self._absolute(index)]

    def wait_for_end(self, request: RecordedRequest, timeout_s: float = 2.0) -> None:
        """Block until ``request``'s reply is over: played to its end or hung up on (an
        early request that was not used may have been answered in full before it was
        dropped)."""
        with self._cond:
            index = self._requests.index(request)
            if not self._cond.wait_for(
                lambda: index in self._completed or index in self._disconnects, timeout_s
            ):
                raise AssertionError(f"request #{index} still open after {timeout_s} s")

    def _absolute(self, index: int) -> int:
        return index if index >= 0 else len(self._requests) + index

    # -- used by the handler threads

    def _record(self, request: RecordedRequest) -> tuple[int, Reply | None]:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
            said = last_user_text(request)
            reply = next((r for words, r in self._answers if words in said), None)
            if reply is None and self._replies:
                reply = self._replies.pop(0)
            return len(self._requests) - 1, reply

    def _mark(self, index: int, *, disconnected: bool) -> None:
        with self._cond:
            if disconnected:
                self._disconnects.setdefault(index, time.perf_counter())
            else:
                self._completed.add(index)
            self._cond.notify_all()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._cond:
            (self._connections.add if add else self._connections.discard)(conn)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    owner: ScriptedServer


class _ClientGone(Exception):
    """The client closed the connection mid-reply."""


class _ServerClosing(Exception):
    """The server is shutting down: abandon the reply."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TCPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        recorded = RecordedRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            received_at=time.perf_counter(),
            client_port=self.client_address[1],
        )
        index, reply = owner._record(recorded)
        if reply is None:
            reply = json_reply(500, {"error": {"message": f"no scripted reply for #{index}"}})
        try:
            self._play(reply)
        except _ClientGone:
            owner._mark(index, disconnected=True)
            self.close_connection = True
            return
        except _ServerClosing:
            self.close_connection = True
            return
        owner._mark(index, disconnected=False)

    def _play(self, reply: Reply) -> None:
        self._pause(reply.head_delay_s)
        head = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        if reply.stream:
            head.append("transfer-encoding: chunked")
        else:
            size = sum(len(s.data) for s in reply.body if isinstance(s, Send))
            head.append(f"content-length: {size}")
        self._write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        for step in reply.body:
            if isinstance(step, Send):
                self._pause(step.delay_s)
                data = step.data
                if reply.stream and data:
                    data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
                self._write(data)
            elif isinstance(step, Stall):
                self._pause(step.seconds)
            elif isinstance(step, Hold):
                deadline = time.perf_counter() + step.timeout_s
                while not step.gate.is_set() and time.perf_counter() < deadline:
                    self._pause(0.01)
            else:
                self._drop(step.reset)
                return
        if reply.stream:
            self._write(b"0\r\n\r\n")

    def _write(self, data: bytes) -> None:
        self._pause(0)
        try:
            self.connection.sendall(data)
        except OSError as exc:
            raise _ClientGone from exc

    def _pause(self, seconds: float | None) -> None:
        """Wait ``seconds`` (None: for ever) while watching for the client hanging up."""
        owner = self.server.owner
        deadline = None if seconds is None else time.perf_counter() + seconds
        while True:
            if owner.closing.is_set():
                raise _ServerClosing
            remaining = None if deadline is None else max(0.0, deadline - time.perf_counter())
            readable, _, _ = select.select([self.connection, owner._wake_r], [], [], remaining)
            if self.connection in readable:
                try:
                    peeked = self.connection.recv(1, socket.MSG_PEEK)
                except OSError as exc:
                    raise _ClientGone from exc
                if not peeked:
                    raise _ClientGone
                owner.closing.wait(remaining)  # the client sent more: just wait it out
                return
            if owner.closing.is_set():
                raise _ServerClosing
            if not readable:
                return

    def _drop(self, reset: bool) -> None:
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        self.close_connection = True


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


@contextlib.contextmanager
def hanging_connect_url() -> Iterator[str]:
    """A URL whose TCP connect never completes: a listener whose accept queue
    is full, so the kernel drops new SYNs (a server that is unreachable, slowly)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        filler.close()
        listener.close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    from providers import new_http_client

    async with new_http_client() as shared:
        yield shared
