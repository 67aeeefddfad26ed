"""Countdown timers the agent can set; they outlive the turn that set them.

Timers live on the asyncio loop (no thread each); a tool running in a worker
thread schedules one thread-safely. When one ends, ``announce`` is called on
the loop with a sentence to show and speak.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Timer:
    id: int
    label: str
    due_monotonic: float
    handle: asyncio.TimerHandle | None = None


def describe_duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if value:
            parts.append(f"{value} {unit}{'s' if value != 1 else ''}")
    return " ".join(parts) or "0 seconds"


class TimerService:
    def __init__(self, loop: asyncio.AbstractEventLoop, announce: Callable[[str], None]) -> None:
        self._loop = loop
        self._announce = announce
        self._ids = itertools.count(1)
        self._timers: dict[int, _Timer] = {}
        self._lock = threading.Lock()

    def start(self, seconds: float, label: str) -> int:
        """Start a timer (any thread). Returns its id."""
        timer = _Timer(next(self._ids), label, time.monotonic() + seconds)
        with self._lock:
            self._timers[timer.id] = timer

        def arm() -> None:
            timer.handle = self._loop.call_later(seconds, self._fire, timer.id)

        self._loop.call_soon_threadsafe(arm)
        return timer.id

    def _fire(self, timer_id: int) -> None:
        with self._lock:
            timer = self._timers.pop(timer_id, None)
        if timer is not None:
            name = f"The {timer.label} timer" if timer.label else "Your timer"
            self._announce(f"⏰ {name} is done.")

    def cancel(self, timer_id: int) -> bool:
        with self._lock:
            timer = self._timers.pop(timer_id, None)
        if timer is None:
            return False
        if timer.handle is not None:
            self._loop.call_soon_threadsafe(timer.handle.cancel)
        return True

    def pending(self) -> list[tuple[int, str, float]]:
        """(id, label, seconds left) for every running timer, soonest first."""
        now = time.monotonic()
        with self._lock:
            rows = [(t.id, t.label, max(0.0, t.due_monotonic - now)) for t in self._timers.values()]
        return sorted(rows, key=lambda r: r[2])

    def close(self) -> None:
        with self._lock:
            timers, self._timers = list(self._timers.values()), {}
        for t in timers:
            if t.handle is not None:
                t.handle.cancel()
