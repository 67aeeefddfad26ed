"""Audio devices by name, so a chosen microphone survives being unplugged and plugged back.

PortAudio's device indexes change when devices come and go, and ALSA names
carry a card number (``USB Mic (hw:2,0)`` becomes ``(hw:3,0)``). Settings
therefore store a name; ``match_device`` finds it again (exactly, then
ignoring the ``(hw:…)`` suffix and case) or falls back to the system
default with a message for the user. ``sounddevice`` is imported lazily and
may be injected.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_HW_SUFFIX = re.compile(r"\s*\((hw|plughw):[^)]*\)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    inputs: int
    outputs: int
    default_samplerate: float = 0.0


@dataclass(frozen=True)
class DeviceMatch:
    index: int | None  # None = the system default
    message: str | None = None  # why the saved device was not used


def list_devices(query: Callable[[], Any] | None = None) -> list[Device]:
    """All devices PortAudio knows; ``[]`` (logged) when it cannot be asked."""
    try:
        if query is None:
            import sounddevice

            query = sounddevice.query_devices
        raw = list(query())
    except Exception as exc:  # no PortAudio, no sound server: the dialog says "none found"
        log.info("cannot list audio devices: %s", exc)
        return []
    return [
        Device(
            index=int(d.get("index", i)),
            name=str(d["name"]),
            inputs=int(d.get("max_input_channels", 0)),
            outputs=int(d.get("max_output_channels", 0)),
            default_samplerate=float(d.get("default_samplerate", 0.0)),
        )
        for i, d in enumerate(raw)
    ]


def _key(name: str) -> str:
    return _HW_SUFFIX.sub("", name).strip().casefold()


def match_device(name: str, devices: list[Device], *, kind: str = "input") -> DeviceMatch:
    """Find the saved device ``name`` among ``devices`` (kind "input" or "output")."""
    if not name:
        return DeviceMatch(None)
    usable = [d for d in devices if (d.inputs if kind == "input" else d.outputs) > 0]
    for d in usable:
        if d.name == name:
            return DeviceMatch(d.index)
    for d in usable:
        if _key(d.name) == _key(name):
            return DeviceMatch(d.index)
    what = "microphone" if kind == "input" else "speaker"
    return DeviceMatch(
        None, f"The {what} “{name}” is not connected, so the system default is used."
    )
