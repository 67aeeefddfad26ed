"""One press and one release per hold of a push-to-talk key, whatever the keyboard sends.

X11 auto-repeat can arrive as *unflagged* release/press pairs 1–5 ms apart;
taken literally they would split one utterance into many. A release is
therefore only reported when no press follows within ``gap_ms`` (40 ms).
The wait is a ``QTimer``, so tests can complete it with ``flush()`` instead
of sleeping.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

GAP_MS = 40


class HoldDebouncer(QObject):
    pressed = Signal()
    released = Signal()

    def __init__(self, parent: QObject | None = None, *, gap_ms: int = GAP_MS) -> None:
        super().__init__(parent)
        self._held = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(gap_ms)
        self._timer.timeout.connect(self._finish)

    @property
    def held(self) -> bool:
        """True from the reported press until the reported release."""
        return self._held

    @property
    def release_pending(self) -> bool:
        return self._timer.isActive()

    def down(self) -> None:
        if self._timer.isActive():
            self._timer.stop()  # a release/press pair: the key never really went up
            return
        if not self._held:
            self._held = True
            self.pressed.emit()

    def up(self, *, immediate: bool = False) -> None:
        """The key (or mouse button) went up; ``immediate`` skips the debounce (mouse)."""
        if not self._held:
            return
        if immediate:
            self.cancel()
        elif not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Report a pending release now."""
        if self._timer.isActive():
            self._timer.stop()
            self._finish()

    def cancel(self) -> None:
        """Focus lost or window hidden mid-hold: release now so recording cannot stick."""
        if self._held:
            self._timer.stop()
            self._finish()

    def _finish(self) -> None:
        if self._held:
            self._held = False
            self.released.emit()
