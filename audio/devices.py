"""Finding microphones: list them, pick one by name or index, describe them.

The ``sounddevice`` module is always passed in (tests give a fake); when it is
not, it is imported lazily here so that importing ``audio`` never needs
PortAudio. Failures become ``CaptureError`` with a sentence a person can act on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from .errors import AudioErrorKind, CaptureError

log = logging.getLogger(__name__)

_PORT_SUFFIX = re.compile(r"\s*\((?:hw|plughw):\d+,\d+\)$")
NO_MICROPHONE = "No microphone was found. Plug one in or pick another in Settings → Audio."


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    default_samplerate_hz: int
    is_default: bool = False


def import_sounddevice() -> Any:
    """Import the real ``sounddevice`` (raises CaptureError when PortAudio is missing)."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is not installed
        raise CaptureError(
            AudioErrorKind.NO_DEVICE,
            "The PortAudio sound library is not installed, so no microphone can be used. "
            "Install PortAudio (libportaudio2) and restart Harken.",
        ) from exc
    return sounddevice


def _hostapi_name(sd: Any, index: int) -> str:
    try:
        return str(sd.query_hostapis(index)["name"])
    except Exception:  # a name is decoration; never fail the listing over it
        return ""


def _default_input_index(sd: Any) -> int | None:
    try:
        info = sd.query_devices(kind="input")
    except Exception:  # PortAudioError when there is no default input device
        return None
    return int(info["index"])


def list_input_devices(sd: Any = None) -> list[InputDevice]:
    """Every device with at least one input channel, in PortAudio's order."""
    sd = sd if sd is not None else import_sounddevice()
    default = _default_input_index(sd)
    devices = []
    for index, info in enumerate(sd.query_devices()):
        if int(info["max_input_channels"]) <= 0:
            continue
        devices.append(
            InputDevice(
                index=int(info.get("index", index)),
                name=str(info["name"]),
                hostapi=_hostapi_name(sd, int(info["hostapi"])),
                max_input_channels=int(info["max_input_channels"]),
                default_samplerate_hz=int(round(float(info["default_samplerate"]))),
                is_default=int(info.get("index", index)) == default,
            )
        )
    return devices


def find_input_device(device: str | int | None, sd: Any = None) -> InputDevice:
    """The input device to open.

    ``None``: the system default input (or the first input if there is no
    default). ``int``: that PortAudio index. ``str``: the device whose name
    contains it, case-insensitively; an exact name match wins, otherwise the
    first match in PortAudio's order; failing that, the same name on another
    ALSA port (the ``(hw:N,M)`` suffix ignored).
    """
    devices = list_input_devices(sd)
    if not devices:
        raise CaptureError(AudioErrorKind.NO_DEVICE, NO_MICROPHONE)
    if device is None:
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(device, int):
        for d in devices:
            if d.index == device:
                return d
        raise CaptureError(
            AudioErrorKind.NO_DEVICE,
            f"There is no microphone number {device} any more. Pick another in Settings → Audio.",
        )
    wanted = device.strip().lower()
    exact = [d for d in devices if d.name.lower() == wanted]
    matches = exact or [d for d in devices if wanted in d.name.lower()]
    if not matches:  # re-plugged into another port: "USB Mic (hw:2,0)" is now "(hw:3,0)"
        bare = _strip_port(wanted)
        matches = [d for d in devices if bare and bare == _strip_port(d.name.lower())]
    if not matches:
        raise CaptureError(
            AudioErrorKind.NO_DEVICE,
            f"The microphone “{device}” was not found. Plug it in or pick another "
            "in Settings → Audio.",
        )
    if len(matches) > 1:
        log.info("%d microphones match %r; using %r", len(matches), device, matches[0].name)
    return matches[0]


def _strip_port(name: str) -> str:
    return _PORT_SUFFIX.sub("", name).strip()


def describe_devices(sd: Any = None) -> str:
    """A human-readable list of audio devices for ``harken --list-devices``."""
    try:
        sd = sd if sd is not None else import_sounddevice()
        infos = list(sd.query_devices())
    except CaptureError as err:
        return err.message
    if not infos:
        return "No audio devices were found."
    default_in = _default_input_index(sd)
    try:
        default_out = int(sd.query_devices(kind="output")["index"])
    except Exception:  # no default output device
        default_out = None
    lines = []
    for index, info in enumerate(infos):
        idx = int(info.get("index", index))
        kinds = []
        if int(info["max_input_channels"]) > 0:
            kinds.append("input" + (" (default)" if idx == default_in else ""))
        if int(info["max_output_channels"]) > 0:
            kinds.append("output" + (" (default)" if idx == default_out else ""))
        hostapi = _hostapi_name(sd, int(info["hostapi"]))
        where = f", {hostapi}" if hostapi else ""
        lines.append(
            f"{idx:>3}  {info['name']}{where} — {', '.join(kinds) or 'no channels'}, "
            f"{float(info['default_samplerate']):.0f} Hz"
        )
    return "\n".join(lines)
