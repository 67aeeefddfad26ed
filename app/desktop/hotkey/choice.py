"""Which global-hotkey backend can work on this desktop, decided once at start.

- **Wayland** (``XDG_SESSION_TYPE=wayland`` or ``WAYLAND_DISPLAY`` set):
  applications may not watch the keyboard, so the only way is the XDG
  desktop portal's GlobalShortcuts interface (KDE Plasma 6, GNOME 48+,
  Hyprland). Whether the portal offers it is asked over D-Bus when the
  backend starts; pynput is never used here (under XWayland it would only
  see keys typed into other X11 windows).
- **X11** (``DISPLAY`` set): pynput.
- **Windows / macOS**: pynput.
- Otherwise none, with a sentence that says why and what to do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Backend = Literal["portal", "x11", "none"]

IN_WINDOW = "Space in the Harken window still works."


@dataclass(frozen=True)
class Choice:
    backend: Backend
    reason: str = ""  # for "none": why, and what to do


def is_wayland(env: Mapping[str, str]) -> bool:
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"


def choose(env: Mapping[str, str] | None = None, platform: str | None = None) -> Choice:
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return Choice("x11")  # pynput's own backends for Windows and macOS
    if is_wayland(env):
        return Choice("portal")
    if env.get("DISPLAY"):
        return Choice("x11")
    return Choice(
        "none",
        "There is no graphical session to watch the keyboard in (neither DISPLAY nor "
        f"WAYLAND_DISPLAY is set). {IN_WINDOW}",
    )
