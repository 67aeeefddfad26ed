"""A real, scripted streaming HTTP server on 127.0.0.1:0 for provider and controller tests.

Each incoming request takes the next scripted :class:`Reply` (FIFO): a
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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SSE_HEADERS: Mapping[str, str] = {"content-type": "text/event-stream", "cache-control": "no-cache"}


@dataclass(frozen=True)
class Send:
    """Write ``data`` after ``delay_s`` (as one HTTP chunk when streaming)."""

    data: bytes
    delay_s: float = 0.0


@dataclass(frozen=True)
class Stall:
    """Send nothing for ``seconds`` (None: until the client hangs up or the server closes)."""

    seconds: float | None = None


@dataclass(frozen=True)
class Drop:
    """Cut the connection mid-body; ``reset=True`` sends a TCP RST instead of a FIN."""

    reset: bool = False


Step = Send | Stall | Drop


@dataclass(frozen=True)
class Reply:
    """One scripted response. ``stream=True`` uses chunked encoding (each step
    a chunk); otherwise the body is sent with a Content-Length.
    ``head_delay_s`` holds back the status line (a slow server)."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: dict(SSE_HEADERS))
    body: Sequence[Step] = ()
    stream: bool = True
    head_delay_s: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float  # time.perf_counter()

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class ScriptedToolCall:
    """A tool call to stream, its JSON ``arguments`` split across ``pieces`` chunks."""

    id: str
    name: str
    arguments: str
    pieces: int = 3


# ---------------------------------------------------------------- script builders


def sse_event(
    data: str | Mapping[str, Any], event: str | None = None, delay_s: float = 0.0
) -> Send:
    """One server-sent event (a mapping is sent as JSON)."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return Send(f"{head}data: {payload}\n\n".encode(), delay_s)


def sse_reply(
    steps: Sequence[Step], status: int = 200, headers: Mapping[str, str] | None = None
) -> Reply:
    return Reply(status=status, headers=dict(headers or SSE_HEADERS), body=tuple(steps))


def json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """A plain (non-streamed) JSON response, e.g. an error."""
    all_headers = {"content-type": "application/json", **(headers or {})}
    return Reply(status, all_headers, (Send(json.dumps(body).encode()),), stream=False)


def split_text(text: str, pieces: int) -> list[str]:
    """``text`` cut into ``pieces`` nearly equal consecutive parts (none empty)."""
    pieces = max(1, min(pieces, len(text)))
    size, extra = divmod(len(text), pieces)
    out, start = [], 0
    for i in range(pieces):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out


def openai_stream(
    pieces: Sequence[str] = (),
    tool_calls: Sequence[ScriptedToolCall] = (),
    *,
    finish_reason: str | None = None,
    usage: tuple[int, int] | None = (5, 7),
    delay_s: float = 0.0,
    done: bool = True,
) -> list[Step]:
    """Chat Completions chunks: a role chunk, one chunk per text piece, tool-call
    deltas (id and name first, then the arguments in pieces), the finish reason,
    a usage chunk and ``[DONE]``. ``delay_s`` precedes every event."""

    def chunk(delta: dict[str, Any], reason: str | None = None) -> Send:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [choice]}
        return sse_event(body, delay_s=delay_s)

    steps: list[Step] = [chunk({"role": "assistant", "content": ""})]
    steps += [chunk({"content": piece}) for piece in pieces]
    for index, call in enumerate(tool_calls):
        head = {"index": index, "id": call.id, "type": "function"}
        function = {"name": call.name, "arguments": ""}
        steps.append(chunk({"tool_calls": [{**head, "function": function}]}))
        for part in split_text(call.arguments, call.pieces):
            steps.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    steps.append(chunk({}, finish_reason or ("tool_calls" if tool_calls else "stop")))
    if usage is not None:
        body = {"id": "chatcmpl-1", "choices": [], "usage": _openai_usage(usage)}
        steps.append(sse_event(body, delay_s=delay_s))
    if done:
        steps.append(sse_event("[DONE]", delay_s=delay_s))
    return steps


def _openai_usage(usage: tuple[int, int]) -> dict[str, int]:
    return {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}


def anthropic_stream(
    pieces: Sequence[str] = (),
    tool_calls: Sequence[ScriptedToolCall] = (),
    *,
    stop_reason: str | None = None,
    usage: tuple[int, int] = (5, 7),
    delay_s: float = 0.0,
) -> list[Step]:
    """Messages stream events: message_start, a text block with one delta per
    piece, a tool_use block per call (arguments as input_json_delta pieces),
    message_delta with the stop reason and usage, message_stop."""

    def event(name: str, body: dict[str, Any]) -> Send:
        return sse_event({"type": name, **body}, event=name, delay_s=delay_s)

    message = {"id": "msg_1", "type": "message", "role": "assistant", "content": []}
    message["usage"] = {"input_tokens": usage[0], "output_tokens": 1}
    steps: list[Step] = [event("message_start", {"message": message}), event("ping", {})]
    index = 0
    if pieces:
        steps.append(
            event(
                "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
            )
        )
        for piece in pieces:
            delta = {"type": "text_delta", "text": piece}
            steps.append(event("content_block_delta", {"index": 0, "delta": delta}))
        steps.append(event("content_block_stop", {"index": 0}))
        index = 1
    for call in tool_calls:
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        steps.append(event("content_block_start", {"index": index, "content_block": block}))
        for part in split_text(call.arguments, call.pieces):
            delta = {"type": "input_json_delta", "partial_json": part}
            steps.append(event("content_block_delta", {"index": index, "delta": delta}))
        steps.append(event("content_block_stop", {"index": index}))
        index += 1
    reason = stop_reason or ("tool_use" if tool_calls else "end_turn")
    steps.append(
        event(
            "message_delta",
            {"delta": {"stop_reason": reason}, "usage": {"output_tokens": usage[1]}},
        )
    )
    steps.append(event("message_stop", {}))
    return steps


def provider_stream(
    kind: str,
    pieces: Sequence[str] = (),
    tool_calls: Sequence[ScriptedToolCall] = (),
    **options: Any,
) -> list[Step]:
    """The scripted reply body in ``kind``'s wire format ("openai" and "azure"
    share Chat Completions; "anthropic" uses Messages events)."""
    if kind == "anthropic":
        return anthropic_stream(pieces, tool_calls, **options)
    return openai_stream(pieces, tool_calls, **options)


# ---------------------------------------------------------------- the server


class ScriptedServer:
    """A threaded HTTP/1.1 server replaying scripted replies; see the module docstring."""

    def __init__(self, *replies: Reply) -> None:
        self._cond = threading.Condition()
        self._replies: list[Reply] = list(replies)
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

    def _absolute(self, index: int) -> int:
        return index if index >= 0 else len(self._requests) + index

    # -- used by the handler threads

    def _record(self, request: RecordedRequest) -> tuple[int, Reply | None]:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
            reply = self._replies.pop(0) if self._replies else None
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
