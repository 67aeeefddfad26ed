"""A global push-to-talk hotkey that works while another application has focus.

``pynput`` watches the keyboard from its own thread; it is imported lazily
because it fails to import without an X display. Key changes cross to the
GUI thread through a queued Qt signal and go through the same 40 ms
``HoldDebouncer`` as the in-window Space key, so ``pressed`` and ``released``
fire once per hold. On Wayland (which does not let applications watch the
keyboard) or without pynput, ``available()`` says why, and the in-window key
still works.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from app.desktop.controls.hold import HoldDebouncer

log = logging.getLogger(__name__)

_ALIASES = {
    "control": "ctrl",
    "option": "alt",
    "alt_l": "alt",
    "alt_r": "alt",
    "super": "cmd",
    "win": "cmd",
    "meta": "cmd",
    "windows": "cmd",
    "return": "enter",
    "spacebar": "space",
}


class HotkeyError(ValueError):
    """A hotkey string Harken cannot use; ``str()`` says how to write one."""


def available(env: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(True, "") when a global hotkey can work here, else (False, a reason for the user)."""
    env = os.environ if env is None else env
    if sys.platform.startswith("linux"):
        if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
            return False, (
                "Wayland does not let applications watch the keyboard. Use Space in the "
                "Harken window, or bind a shortcut in your desktop's settings to show it."
            )
        if not env.get("DISPLAY"):
            return False, "There is no X display to watch the keyboard on."
    try:
        import pynput.keyboard  # noqa: F401 - the import itself is the check
    except Exception as exc:  # ImportError, or Xlib failing to connect
        return False, f"The pynput package cannot watch the keyboard here ({exc})."
    return True, ""


def parse_hotkey(text: str) -> frozenset[str]:
    """``"<ctrl>+<alt>+space"`` → {"ctrl", "alt", "space"}."""
    tokens = [t.strip().strip("<>").strip().lower() for t in text.split("+")]
    if not text.strip() or any(not t for t in tokens):
        raise HotkeyError(
            f"{text!r} is not a key combination: write it like <ctrl>+<alt>+space or <f9>."
        )
    return frozenset(_ALIASES.get(t, t) for t in tokens)


def key_token(key: Any) -> str:
    """A pynput ``Key``/``KeyCode`` as a token of ``parse_hotkey`` (left/right merged)."""
    name = getattr(key, "name", None)
    if isinstance(name, str) and name:
        name = _ALIASES.get(name, name)
        for side in ("_l", "_r"):
            name = name.removesuffix(side)
        return _ALIASES.get(name, name)
    char = getattr(key, "char", None)
    if isinstance(char, str) and char:
        return char.lower()
    return f"vk{getattr(key, 'vk', '?')}"


class ComboState:
    """Which keys are down; says when the combination becomes complete or breaks."""

    def __init__(self, combo: frozenset[str]) -> None:
        self.combo = combo
        self._down: set[str] = set()
        self.active = False

    def down(self, token: str) -> bool:
        """True when this key completes the combination."""
        self._down.add(token)
        if not self.active and self.combo <= self._down:
            self.active = True
            return True
        return False

    def up(self, token: str) -> bool:
        """True when this key breaks an active combination."""
        self._down.discard(token)
        if self.active and token in self.combo:
            self.active = False
            return True
        return False


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
        """Start watching; (False, reason) when a global hotkey cannot work here."""
        ok, reason = available()
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
