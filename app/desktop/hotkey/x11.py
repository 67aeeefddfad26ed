"""The X11 backend: a global push-to-talk hotkey watched with ``pynput``.

``pynput`` watches the keyboard from its own thread; it is imported lazily
because it fails to import without an X display. Key changes cross to the
GUI thread through a queued Qt signal and go through the same 40 ms
``HoldDebouncer`` as the in-window Space key, so ``pressed`` and ``released``
fire once per hold. (Windows and macOS use this backend too: pynput watches
their keyboards the same way.)
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from app.desktop.controls.hold import HoldDebouncer
from app.desktop.hotkey.combo import ComboState, key_token, parse_hotkey

log = logging.getLogger(__name__)


def pynput_available() -> tuple[bool, str]:
    """(True, "") when pynput can watch the keyboard here, else (False, why)."""
    try:
        import pynput.keyboard  # noqa: F401 - the import itself is the check
    except Exception as exc:  # ImportError, or Xlib failing to connect
        return False, f"The pynput package cannot watch the keyboard here ({exc})."
    return True, ""


class GlobalHotkey(QObject):
    pressed = Signal()
    released = Signal()
    _raw = Signal(bool)  # emitted on pynput's thread, delivered queued on the GUI thread

    def __init__(self, hotkey: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.combo = parse_hotkey(hotkey)
        self.hotkey = hotkey
        self._state = ComboState(self.combo)
        self._listener: Any = None
        self.debouncer = HoldDebouncer(self)
        self.debouncer.pressed.connect(self.pressed)
        self.debouncer.released.connect(self.released)
        self._raw.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> tuple[bool, str]:
        """Start watching; (False, reason) when the keyboard cannot be watched here."""
        ok, reason = pynput_available()
        if not ok:
            return False, reason
        from pynput import keyboard

        try:
            self._listener = keyboard.Listener(on_press=self.on_press, on_release=self.on_release)
            self._listener.start()
        except Exception as exc:
            log.warning("global hotkey unavailable: %s", exc)
            self._listener = None
            return False, f"The keyboard could not be watched ({exc})."
        return True, ""

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self.debouncer.cancel()

    # pynput's thread -------------------------------------------------------------------------

    def on_press(self, key: Any) -> None:
        if self._state.down(self._token(key)):
            self._raw.emit(True)

    def on_release(self, key: Any) -> None:
        if self._state.up(self._token(key)):
            self._raw.emit(False)

    def _token(self, key: Any) -> str:
        listener = self._listener
        if listener is not None and key is not None:
            key = listener.canonical(key)  # Ctrl+H arrives as "\x08" without this
        return key_token(key)

    # GUI thread --------------------------------------------------------------------------------

    def _deliver(self, down: bool) -> None:
        if down:
            self.debouncer.down()
        else:
            self.debouncer.up()
