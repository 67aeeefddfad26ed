"""Where Harken keeps its files, and where its bundled assets are.

Directories come from ``platformdirs`` (XDG on Linux, so ``XDG_*`` variables
are honoured; they are read on every call, which lets tests point each one
at a private directory). ``resource_path`` finds ``assets/`` both in a source
checkout and inside a PyInstaller bundle (``sys._MEIPASS``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

APP_NAME = "harken"
_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # app/config/paths.py → the checkout


def config_dir(*, strict: bool = True) -> Path:
    """Settings (``settings.toml``); created on first use. With ``strict=False`` a folder
    that cannot be created is returned anyway (reading and writing then say why)."""
    return _ensure(platformdirs.user_config_path(APP_NAME, appauthor=False), strict)


def data_dir(*, strict: bool = True) -> Path:
    """History database and other data the user would miss (``strict`` as for config_dir)."""
    return _ensure(platformdirs.user_data_path(APP_NAME, appauthor=False), strict)


def not_a_folder(path: Path) -> str | None:
    """A sentence for the user when ``path`` (one of Harken's folders) or a parent of it
    is a file, so nothing can be kept there; None when it is usable as a folder."""
    for part in (path, *path.parents):
        if part.exists() or part.is_symlink():
            if part.is_dir():
                return None
            return (
                f"{part} is not a folder (a file is in its place), so Harken cannot keep its "
                f"files in {path}. Move that file away or rename it."
            )
    return None


def log_dir() -> Path:
    return _ensure(platformdirs.user_log_path(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    return _ensure(platformdirs.user_cache_path(APP_NAME, appauthor=False))


def assets_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else _SOURCE_ROOT
    return base / "assets"


def resource_path(relative: str) -> Path:
    """The path of a bundled asset, e.g. ``resource_path("icons/harken.svg")``."""
    return assets_root() / relative


def _ensure(path: Path, strict: bool = True) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        if strict:
            raise
    return path
