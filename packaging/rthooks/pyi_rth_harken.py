"""Runtime hook, run inside the bundle before Harken's code.

1. The bootloader puts the bundle's library folder first on ``LD_LIBRARY_PATH``
   so that its own libraries load; programs Harken starts (espeak-ng, a browser)
   must not inherit that, or they load our copies instead of the system's. The
   dynamic loader read the variable at start-up, so resetting it here changes
   only what child processes see.
2. ``sounddevice`` finds PortAudio with ``ctypes.util.find_library``, which only
   knows the system's libraries. The bundle carries ``libportaudio.so.2``: when the
   system has none, point ``sounddevice`` at the bundled copy.
"""

import ctypes.util
import os
import sys


def _restore_library_path() -> None:
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


def _bundled_portaudio_fallback() -> None:
    bundle = getattr(sys, "_MEIPASS", None)
    if not bundle or not sys.platform.startswith("linux"):
        return
    bundled = os.path.join(bundle, "libportaudio.so.2")
    system_find_library = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        found = system_find_library(name)
        if found is None and name == "portaudio" and os.path.isfile(bundled):
            return bundled
        return found

    ctypes.util.find_library = find_library


if sys.platform.startswith("linux"):
    _restore_library_path()
    _bundled_portaudio_fallback()
