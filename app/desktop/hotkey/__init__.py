"""A global push-to-talk hotkey that works while another application has focus.

- ``choice``: which backend can work on this desktop (portal on Wayland,
  pynput on X11, Windows and macOS), decided at start.
- ``x11``: the pynput backend.
- ``portal``: the XDG desktop portal's GlobalShortcuts backend (Wayland).
- ``combo``: the hotkey setting's format, and its translation to each backend.
- ``service``: ``HotkeyService``, what the rest of the app uses: start,
  restart on a settings change, close on quit, and a status to show.
"""

from app.desktop.hotkey.choice import Choice, choose
from app.desktop.hotkey.combo import (
    ComboState,
    HotkeyError,
    key_token,
    parse_hotkey,
    portal_trigger,
)
from app.desktop.hotkey.service import HotkeyService, HotkeyStatus
from app.desktop.hotkey.x11 import GlobalHotkey

__all__ = [
    "Choice",
    "ComboState",
    "GlobalHotkey",
    "HotkeyError",
    "HotkeyService",
    "HotkeyStatus",
    "choose",
    "key_token",
    "parse_hotkey",
    "portal_trigger",
]
