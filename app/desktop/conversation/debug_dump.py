"""An opt-in record of what the window shows, for end-to-end tests and bug reports.

With ``HARKEN_DEBUG_DUMP=PATH`` in the environment the window appends one
JSON object per line to PATH (``-``: standard output) whenever what it shows
changes: ``state`` (the state indicator: loading, idle, listening, …),
``status`` (the status bar), ``mic`` (whether the microphone has delivered
audio yet), ``conversation`` (the conversation view as plain text) and ``t``
(seconds since the dump started). Changes are coalesced to one line per pass
of the event loop. It only reads the widgets; unset, nothing is installed.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer

from app.agent import events as ev

log = logging.getLogger(__name__)


class DebugDump(QObject):
    def __init__(self, window: Any, target: str) -> None:
        """``target``: a file path (each line is appended, the file is not held open) or
        ``-`` for standard output."""
        super().__init__(window)
        self._window = window
        self._target: str | None = target
        self._started = time.monotonic()
        self._mic = False
        self._last: dict[str, Any] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.write)
        window.view.document().contentsChanged.connect(self._schedule)
        window.tracker.changed.connect(self._schedule)
        window.bridge.event.connect(self._on_event)
        self._schedule()

    def snapshot(self) -> dict[str, Any]:
        w = self._window
        return {
            "state": str(w.tracker.state.value),
            "status": w.status_label.text(),
            "mic": self._mic,
            "conversation": w.view.toPlainText(),
        }

    def write(self) -> None:
        """Write a line now if anything changed since the last one."""
        if self._target is None:
            return
        snap = self.snapshot()
        if snap == self._last:
            return
        self._last = snap
        line = json.dumps({"t": round(time.monotonic() - self._started, 3), **snap})
        try:
            if self._target == "-":
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            else:
                with Path(self._target).open("a", encoding="utf-8") as out:
                    out.write(line + "\n")
        except (OSError, ValueError) as exc:  # a closed pipe or a full disk: stop, never crash
            log.warning("HARKEN_DEBUG_DUMP stopped: %s", exc)
            self._target = None

    def _on_event(self, event: object) -> None:
        if isinstance(event, ev.InputLevel):
            if self._mic:
                return  # levels arrive 30 times a second and change nothing shown here
            self._mic = True
        self._schedule()  # status bar and model label follow events

    def _schedule(self, *_: object) -> None:
        if not self._timer.isActive():
            self._timer.start()


def install_debug_dump(window: Any, target: str | None) -> DebugDump | None:
    """Start dumping ``window`` to ``target`` (a path, or ``-`` for stdout); None if unset."""
    return DebugDump(window, target) if target else None
