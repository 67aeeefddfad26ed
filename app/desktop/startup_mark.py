"""A start-up marker for ``packaging/measure_startup.py``: one line when the window is first drawn.

Start-up time (process start → main window on screen) is a figure we report
for every bundle. With ``HARKEN_STARTUP_MARK=1`` the CLI calls
:func:`install_startup_mark` before the GUI starts: it creates the
``QApplication`` the GUI then reuses and watches, with an application-wide
event filter, for the first paint of a top-level main window. At that moment
it prints ``HARKEN_STARTUP window_shown ts=<time.time()> process_s=<seconds
since the process started>`` to stderr and removes itself. Without the
variable none of this runs.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

MARKER = "HARKEN_STARTUP window_shown"


def process_age_s() -> float | None:
    """Seconds since this process started (Linux ``/proc``; 10 ms resolution), or None."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime_s = float(f.read().split()[0])
        started_ticks = int(fields[19])  # field 22 of stat; the list starts at field 3
        return uptime_s - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def install_startup_mark(stream: TextIO | None = None) -> Any:
    """Create the QApplication and print the marker at the main window's first paint.

    Returns the event filter (keep it alive only if you need to; the app holds it)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = stream or sys.stderr

    class _FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (
                event.type() == QEvent.Type.Paint
                and isinstance(watched, QMainWindow)
                and watched.isWindow()
            ):
                age = process_age_s()
                process = f" process_s={age:.3f}" if age is not None else ""
                print(f"{MARKER} ts={time.time():.6f}{process}", file=out, flush=True)
                app.removeEventFilter(self)
            return False

    watcher = _FirstPaint(app)  # parented to the app, so it lives as long as the app
    app.installEventFilter(watcher)
    return watcher
