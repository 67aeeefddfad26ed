"""The output stream of the fake ``sounddevice`` (``tests.support.fake_sounddevice``).

``FakeSoundDevice().OutputStream(...)`` makes a ``FakeOutputStream``, which behaves
like PortAudio's callback mode: once
started, its own thread calls ``callback(outdata, frames, time, status)`` with
a zeroed ``(frames, channels)`` float32 block at real-time pace (or ``speed``
times faster) and records what the callback wrote, numbered, so tests can say
"every block written after stop() returned was silent". ``lose_device()``
ends the stream the way an unplugged device does: no more callbacks, then
``finished_callback``.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tests.support.fake_sounddevice import CallbackAbort, CallbackFlags, CallbackStop

if TYPE_CHECKING:
    from tests.support.fake_sounddevice import FakeSoundDevice


class FakeOutputStream:
    def __init__(
        self,
        owner: FakeSoundDevice,
        *,
        samplerate: float,
        blocksize: int,
        channels: int,
        dtype: str,
        callback: Callable[[Any, int, Any, Any], None],
        finished_callback: Callable[[], None] | None = None,
        device: Any = None,
        latency: Any = None,
        **_other: Any,
    ) -> None:
        assert dtype == "float32", dtype
        assert blocksize > 0, "the player must ask for a fixed block size"
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.channels = channels
        self.device = device
        self.latency = latency
        self._owner = owner
        self._callback = callback
        self._finished_callback = finished_callback
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self.blocks: list[np.ndarray] = []
        self.active = False
        self.closed = False
        self.closed_event = threading.Event()
        self.callback_error: BaseException | None = None

    # -- the sounddevice API ---------------------------------------------------------------

    def start(self) -> None:
        if self._owner.fail_start is not None:
            raise self._owner.fail_start
        self.active = True
        self._thread = threading.Thread(target=self._run, name="fake-portaudio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def close(self) -> None:
        self.stop()
        self.closed = True
        self.closed_event.set()

    # -- test helpers ----------------------------------------------------------------------

    @property
    def block_count(self) -> int:
        with self._cond:
            return len(self.blocks)

    def wait_for_blocks(self, count: int, timeout_s: float = 5.0) -> bool:
        """Block until at least ``count`` blocks have been written in total."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.blocks) >= count, timeout_s)

    def samples(self, first_block: int = 0) -> np.ndarray:
        """Everything written from block ``first_block`` on, as one mono vector."""
        with self._cond:
            blocks = self.blocks[first_block:]
        if not blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([block[:, 0] for block in blocks])

    def lose_device(self) -> None:
        """Simulate unplugging: callbacks stop, then ``finished_callback`` runs."""
        self._owner.output_available = False
        self._halt.set()

    # -- the PortAudio thread --------------------------------------------------------------

    def _run(self) -> None:
        period_s = self.blocksize / self.samplerate / self._owner.speed
        timing = types.SimpleNamespace(outputBufferDacTime=0.0, currentTime=0.0)
        try:
            while not self._halt.is_set():
                outdata = np.zeros((self.blocksize, self.channels), dtype=np.float32)
                # The callback and the recording of its block are one step, so a test that
                # reads the samples once the player says it is idle sees the last block too.
                with self._cond:
                    try:
                        self._callback(outdata, self.blocksize, timing, CallbackFlags())
                    except (CallbackStop, CallbackAbort):
                        break
                    except BaseException as exc:  # PortAudio would abort the stream
                        self.callback_error = exc
                        break
                    self.blocks.append(outdata.copy())
                    self._cond.notify_all()
                self._halt.wait(period_s)
        finally:
            self.active = False
            if self._finished_callback is not None:
                self._finished_callback()
