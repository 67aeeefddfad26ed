"""Quitting that always finishes: close every part, whatever the others do.

A shutdown that stopped at the first part to raise (closing the HTTP client,
say) left the process running with no window, deaf to further SIGTERMs, its
single-instance socket still answering "already running". Here each part is
closed in turn; one that raises is logged and the next still runs; one that
hangs is abandoned at the deadline (logged), so the process can exit.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SHUTDOWN_DEADLINE_S = 5.0  # quitting never waits longer than this for the parts to close
LATE_STEP_S = 0.5  # what each step still gets once the deadline has passed
EXIT_WATCHDOG_S = 5.0  # after that, the interpreter's own exit gets this long


async def close_all(steps: list[tuple[str, Callable[[], Any]]], deadline_s: float) -> bool:
    """Run each ``(name, close)`` in order (``close`` may return an awaitable). A failure
    is logged and the next step runs. Awaiting shares ``deadline_s``; a step that hangs is
    abandoned (logged) when it runs out, and the steps after it still get
    ``LATE_STEP_S`` each — so the whole is bounded by ``deadline_s + LATE_STEP_S × steps``.
    Returns True when every step finished cleanly."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    clean = True
    for name, close in steps:
        try:
            result = close()
            if inspect.isawaitable(result):
                async with asyncio.timeout(max(end - loop.time(), LATE_STEP_S)):
                    await result
        except TimeoutError:
            log.error("closing the %s took too long; shutdown goes on without it", name)
            clean = False
        except Exception:
            log.exception("closing the %s failed; shutdown goes on", name)
            clean = False
    return clean


def exit_watchdog(code: int, after_s: float = EXIT_WATCHDOG_S) -> threading.Timer:
    """Arm the last resort, once the app's own shutdown is over: if the interpreter has
    not exited ``after_s`` later (it waits for worker threads, and one may hang in a
    native call), log it and end the process with ``code``. Only for the real process:
    never call this in-process in a test."""

    def force() -> None:
        log.error("the process did not exit %.0f s after shutdown; forcing it", after_s)
        logging.shutdown()
        os._exit(code)

    timer = threading.Timer(after_s, force)
    timer.daemon = True  # never what keeps the process alive
    timer.start()
    return timer
