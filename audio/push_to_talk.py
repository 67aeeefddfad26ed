"""Records exactly what is said while the push-to-talk key is held.

Every block goes through ``feed`` whether or not the key is down, so a short
ring buffer always holds the last ``preroll_s`` of audio: people start talking
a beat before (or while) pressing, and that first syllable must not be lost.
No voice detection: push-to-talk trusts the key.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from .capture import SAMPLE_RATE_HZ


class PushToTalkRecorder:
    def __init__(self, preroll_s: float = 0.3, *, sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.preroll_samples = round(preroll_s * sample_rate_hz)
        self.sample_rate_hz = sample_rate_hz
        self._ring: deque[npt.NDArray[np.float32]] = deque()
        self._ring_samples = 0
        self._recorded: list[npt.NDArray[np.float32]] | None = None
        self._recorded_samples = 0

    @property
    def recording(self) -> bool:
        """True between ``press()`` and ``release()``."""
        return self._recorded is not None

    @property
    def recorded_s(self) -> float:
        """Seconds captured since ``press()`` (without the pre-roll)."""
        return self._recorded_samples / self.sample_rate_hz

    def feed(self, block: npt.NDArray[np.float32]) -> None:
        data = np.array(block, dtype=np.float32).reshape(-1)  # own the memory
        if self._recorded is not None:
            self._recorded.append(data)
            self._recorded_samples += len(data)
            return
        self._ring.append(data)
        self._ring_samples += len(data)
        while self._ring and self._ring_samples - len(self._ring[0]) >= self.preroll_samples:
            self._ring_samples -= len(self._ring.popleft())

    def press(self) -> None:
        """Start recording, beginning with the last ``preroll_s`` of audio (no-op if held)."""
        if self._recorded is not None:
            return
        preroll = np.concatenate(list(self._ring)) if self._ring else np.zeros(0, np.float32)
        preroll = preroll[len(preroll) - min(len(preroll), self.preroll_samples) :]
        self._recorded = [preroll] if len(preroll) else []
        self._recorded_samples = 0
        self._ring.clear()
        self._ring_samples = 0

    def audio(self) -> npt.NDArray[np.float32] | None:
        """Pre-roll + what was fed since ``press()`` so far (None when not recording)."""
        if self._recorded is None:
            return None
        if len(self._recorded) > 1:  # kept joined, so calling this often stays cheap
            self._recorded = [np.concatenate(self._recorded).astype(np.float32, copy=False)]
        return self._recorded[0].copy() if self._recorded else np.zeros(0, np.float32)

    def release(self) -> npt.NDArray[np.float32] | None:
        """Stop; return pre-roll + everything fed since ``press()``.

        ``None`` when not recording or when no block arrived while the key was
        held (a pre-roll alone is not a recording).
        """
        recorded, self._recorded = self._recorded, None
        captured = self._recorded_samples
        self._recorded_samples = 0
        if recorded is None or captured == 0:
            return None
        return np.concatenate(recorded).astype(np.float32, copy=False)
