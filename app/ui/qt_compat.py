"""A guard against PySide6 6.12.0's reference-count bug on Python 3.11.

With shiboken6 6.12.0 on CPython < 3.12, every call of a Qt method that
returns nothing (``widget.update()``, ``cursor.insertText(...)``…) takes one
reference from ``None`` (and some from ``True``/``False``) without giving it
back. ``None`` starts with a few thousand references, so a window that
streams text or animates a meter aborts within seconds with "Fatal Python
error: none_dealloc". Python 3.12 made these objects immortal (PEP 683),
which is why the bug is invisible there.

The real fix is not to install that release (pyproject:
``PySide6-Essentials>=6.6,!=6.12.0``). Until then, ``apply()`` gives the three
singletons a reference count so large that no session can exhaust it, which
is what 3.12 does for them anyway. It does nothing on other versions.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_BROKEN = ((6, 12, 0),)
_BALLAST = 1 << 40  # references; a session would need ~10^12 leaking calls to use them up
_applied = False


def needed() -> bool:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    try:
        import shiboken6
    except ImportError:
        return False
    return tuple(shiboken6.__version_info__[:3]) in _BROKEN


def apply() -> bool:
    """Make None/True/False effectively immortal when the broken binding is loaded;
    returns True when it did."""
    global _applied
    if _applied or not needed():
        return _applied
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        refcount.value += _BALLAST
    _applied = True
    log.warning(
        "PySide6 6.12.0 on Python %d.%d leaks references to None on every Qt call; "
        "applied a workaround. Install another PySide6 release to remove it.",
        *sys.version_info[:2],
    )
    return True
