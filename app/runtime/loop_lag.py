"""Measures how responsive the event loop stays: the worst lateness of a short timer.

Everything the window does runs on this loop (qasync), so a stall here is a
frozen window. Whisper runs in a worker thread and should never show up here;
``harken --headless --loop-lag`` runs this probe alongside the real work and
reports the figures, so benchmarks can prove it.
"""

from __future__ import annotations

import asyncio
import time


class LoopLagProbe:
    """Sleeps ``interval_s`` again and again and records how late each wake-up was."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.lateness_s: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=1)
            self._task = None

    @property
    def worst_s(self) -> float:
        return max(self.lateness_s, default=0.0)

    @property
    def p99_s(self) -> float:
        if not self.lateness_s:
            return 0.0
        ordered = sorted(self.lateness_s)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            self.lateness_s.append(max(0.0, time.perf_counter() - before - self.interval_s))
