"""Hotkeys as the user writes them (``<ctrl>+<alt>+space``), and as each backend wants them.

The settings store one string for the global hotkey. The X11 backend
(pynput) matches key tokens against it (``ComboState``); the desktop portal
takes a *preferred trigger* in the XDG shortcuts format (modifiers CTRL,
ALT, SHIFT, LOGO and one xkb keysym name, joined by ``+``), which
``portal_trigger`` produces from the same string.
"""

from __future__ import annotations

from typing import Any

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

# Modifier tokens in the order the shortcuts specification writes them.
_PORTAL_MODIFIERS = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "cmd": "LOGO"}
# Tokens whose xkb keysym name differs from the token.
_PORTAL_KEYS = {
    "enter": "Return",
    "esc": "Escape",
    "escape": "Escape",
    "tab": "Tab",
    "backspace": "BackSpace",
    "delete": "Delete",
    "insert": "Insert",
    "home": "Home",
    "end": "End",
    "page_up": "Prior",
    "page_down": "Next",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "pause": "Pause",
    "menu": "Menu",
}


class HotkeyError(ValueError):
    """A hotkey string Harken cannot use; ``str()`` says how to write one."""


def parse_hotkey(text: str) -> frozenset[str]:
    """``"<ctrl>+<alt>+space"`` → {"ctrl", "alt", "space"}."""
    tokens = [t.strip().strip("<>").strip().lower() for t in text.split("+")]
    if not text.strip() or any(not t for t in tokens):
        raise HotkeyError(
            f"{text!r} is not a key combination: write it like <ctrl>+<alt>+space or <f9>."
        )
    return frozenset(_ALIASES.get(t, t) for t in tokens)


def portal_trigger(text: str) -> str:
    """``"<ctrl>+<alt>+space"`` → ``"CTRL+ALT+space"`` (the XDG shortcuts format)."""
    combo = parse_hotkey(text)
    keys = [t for t in combo if t not in _PORTAL_MODIFIERS]
    if len(keys) != 1:
        raise HotkeyError(
            f"{text!r} has {len(keys)} keys besides Ctrl, Alt, Shift and Super; the desktop's "
            "shortcuts take modifiers and exactly one key, like <ctrl>+<alt>+space."
        )
    (key,) = keys
    if key in _PORTAL_KEYS:
        name = _PORTAL_KEYS[key]
    elif len(key) > 1 and key[0] == "f" and key[1:].isdigit():
        name = key.upper()  # f9 → F9
    else:
        name = key  # letters, digits and names such as "space" are keysym names already
    modifiers = [m for t, m in _PORTAL_MODIFIERS.items() if t in combo]
    return "+".join([*modifiers, name])


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
