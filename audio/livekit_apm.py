"""WebRTC AEC3 from the ``livekit`` wheel, at the cost of the canceller and no more.

``livekit.rtc.AudioProcessingModule`` is a thin Python layer over livekit's
native library: every 10 ms frame is one protobuf request per direction, sent
through a ``ctypes.CDLL`` call, which *releases the GIL* and takes it back.
In Harken other Python threads are always busy (the event loop, Whisper's and
Piper's Python parts), so each of those four GIL hand-overs per frame waits and
costs CPU: measured on this 2-core machine with one busy Python thread, the
public calls cost 0.183 ms per frame against 0.092 ms alone (on the echo rig
0.19 ms of Harken's 0.25 ms per frame were these calls).

So a frame here is not two protobuf objects and four GIL hand-overs: the
requests are serialised once, pointing at two buffers of ours
(``data_ptr``: WebRTC processes them in place), and sent through the same
library loaded as ``ctypes.PyDLL``, which keeps the GIL for the ~30 µs a
call takes. Same library, same requests, same output to the bit (tested);
0.083 ms per frame with the busy thread. That uses three of livekit's
private names (``FfiClient``, its ``_ffi_lib``, ``_proto.ffi_pb2``); if a
livekit release moves them, or its first answer is not what we expect, the
public calls are used instead, over the same buffers (``direct`` says
which).
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

RATE_HZ = 16000
FRAME_SAMPLES = RATE_HZ // 100  # AEC3 takes exactly 10 ms
FRAME_BYTES = 2 * FRAME_SAMPLES  # int16 mono


class LivekitApm:
    """AEC3 for blocks of 16 kHz int16 mono (``process``; see ``echo_canceller.Apm``)."""

    def __init__(self, *, stream_delay_ms: int = 10, direct: bool = True) -> None:
        """``stream_delay_ms``: WebRTC's hint of the render-to-capture delay (AEC3 finds
        the delay itself: 0, 10 and 50 ms cancel alike); ``direct=False``: the public
        calls only."""
        from livekit import rtc

        self._rtc = rtc
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True)
        self._apm.set_stream_delay_ms(stream_delay_ms)
        self._reverse = np.zeros(0, dtype=np.int16)
        self._capture = np.zeros(0, dtype=np.int16)
        self._frames: list[tuple[Any, Any]] = []  # per frame: the two requests (or frames)
        self._ffi: _DirectFfi | None = None
        if direct:
            try:
                self._ffi = _DirectFfi(self._apm, stream_delay_ms)
            except Exception as exc:  # a livekit whose internals moved: the public calls
                log.info("livekit's direct calls are unavailable (%s): using its public API", exc)
        self._reserve(8)

    @property
    def direct(self) -> bool:
        """Frames go through the serialised requests (not the public API)."""
        return self._ffi is not None

    def process(self, reverse: npt.NDArray[np.int16], capture: npt.NDArray[np.int16]) -> None:
        """``reverse`` then ``capture``, frame by frame; ``capture`` is cleaned in place."""
        n = capture.size
        count = n // FRAME_SAMPLES
        self._reserve(count)
        self._reverse[:n] = reverse
        self._capture[:n] = capture
        if self._ffi is not None:
            self._ffi.run(self._frames[:count])
        else:
            apm = self._apm
            for reverse_frame, capture_frame in self._frames[:count]:
                apm.process_reverse_stream(reverse_frame)
                apm.process_stream(capture_frame)
        capture[:] = self._capture[:n]

    def _reserve(self, frames: int) -> None:
        """Buffers (and per-frame requests over them) for ``frames`` frames; made anew,
        twice as large, when a larger block arrives (the requests hold their addresses)."""
        if frames <= len(self._frames):
            return
        frames = max(frames, 2 * len(self._frames))
        self._reverse = np.zeros(frames * FRAME_SAMPLES, dtype=np.int16)
        self._capture = np.zeros(frames * FRAME_SAMPLES, dtype=np.int16)
        make = self._ffi.requests if self._ffi is not None else self._public_frames
        self._frames = [make(self._reverse, self._capture, i) for i in range(frames)]

    def _public_frames(
        self, reverse: npt.NDArray[np.int16], capture: npt.NDArray[np.int16], index: int
    ) -> tuple[Any, Any]:
        # A memoryview of exactly one frame's bytes: livekit uses it in place (a view of
        # part of a larger object would be copied on every call).
        def frame(buffer: npt.NDArray[np.int16]) -> Any:
            piece = buffer.view(np.uint8)[index * FRAME_BYTES : (index + 1) * FRAME_BYTES]
            return self._rtc.AudioFrame(piece.data, RATE_HZ, 1, FRAME_SAMPLES)

        return frame(reverse), frame(capture)


class _DirectFfi:
    """livekit's native request entry point, called with the GIL held (see the module
    docstring). An answer is read only when its length is not that of the last success
    of its kind (the first one, or an error: an error raises ``RuntimeError``, as the
    public API does)."""

    def __init__(self, apm: Any, stream_delay_ms: int) -> None:
        from livekit.rtc._ffi_client import FfiClient
        from livekit.rtc._proto import ffi_pb2

        self._pb = ffi_pb2
        self._apm = apm  # keeps the native module alive
        self._handle = int(apm._ffi_handle.handle)
        lib = ctypes.PyDLL(FfiClient.instance._ffi_lib._name)  # the loaded library again
        self._request = lib.livekit_ffi_request
        self._request.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(ctypes.c_size_t),
        ]
        self._request.restype = ctypes.c_uint64
        self._drop = lib.livekit_ffi_drop_handle
        self._drop.argtypes = [ctypes.c_uint64]
        self._drop.restype = ctypes.c_bool
        self._answer = ctypes.c_void_p()
        self._answer_len = ctypes.c_size_t()
        self._answer_ref = ctypes.byref(self._answer)
        self._answer_len_ref = ctypes.byref(self._answer_len)
        self._ok_len = [-1, -1]  # (reverse, capture): a success's answer length
        self._probe(stream_delay_ms)

    def _probe(self, stream_delay_ms: int) -> None:
        """Set the stream delay again (a no-op for the sound) through this path: raises
        unless library, messages and handle all work as expected."""
        message = self._pb.FfiRequest()
        message.apm_set_stream_delay.apm_handle = self._handle
        message.apm_set_stream_delay.delay_ms = stream_delay_ms
        request = bytes(message.SerializeToString())
        handle = self._request(request, len(request), self._answer_ref, self._answer_len_ref)
        if not handle:
            raise RuntimeError("the request was refused")
        try:
            answer = self._pb.FfiResponse()
            answer.ParseFromString(ctypes.string_at(self._answer, self._answer_len.value))
        finally:
            self._drop(handle)
        if answer.WhichOneof("message") != "apm_set_stream_delay":
            raise RuntimeError(f"unexpected answer {answer.WhichOneof('message')!r}")
        if answer.apm_set_stream_delay.error:
            raise RuntimeError(answer.apm_set_stream_delay.error)

    def requests(
        self, reverse: npt.NDArray[np.int16], capture: npt.NDArray[np.int16], index: int
    ) -> tuple[bytes, bytes]:
        """The two serialised requests of frame ``index`` of the two buffers."""

        def request(kind: str, buffer: npt.NDArray[np.int16]) -> bytes:
            message = self._pb.FfiRequest()
            body = getattr(message, kind)
            body.apm_handle = self._handle
            body.data_ptr = buffer.ctypes.data + index * FRAME_BYTES
            body.size = FRAME_BYTES
            body.sample_rate = RATE_HZ
            body.num_channels = 1
            return bytes(message.SerializeToString())

        return request(_KINDS[0], reverse), request(_KINDS[1], capture)

    def run(self, frames: list[tuple[bytes, bytes]]) -> None:
        send, drop = self._request, self._drop
        answer_ref, length_ref, length = self._answer_ref, self._answer_len_ref, self._answer_len
        ok = self._ok_len
        for reverse, capture in frames:
            handle = send(reverse, len(reverse), answer_ref, length_ref)
            if handle and length.value == ok[0]:
                drop(handle)
            else:
                self._settle(handle, 0)
            handle = send(capture, len(capture), answer_ref, length_ref)
            if handle and length.value == ok[1]:
                drop(handle)
            else:
                self._settle(handle, 1)

    def _settle(self, handle: int, which: int) -> None:
        """An answer of an unusual length (the first of its kind, or an error), or none
        (handle 0: the request was refused): read it; an error raises, a success sets
        the usual length."""
        kind = _KINDS[which]
        if not handle:
            raise RuntimeError(f"livekit refused {kind} (no answer)")
        try:
            answer = self._pb.FfiResponse()
            answer.ParseFromString(ctypes.string_at(self._answer, self._answer_len.value))
        finally:
            self._drop(handle)
        if answer.WhichOneof("message") != kind or getattr(answer, kind).error:
            raise RuntimeError(f"livekit {kind} failed: {answer}")
        self._ok_len[which] = self._answer_len.value


_KINDS = ("apm_process_reverse_stream", "apm_process_stream")
