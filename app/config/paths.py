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


def config_dir() -> Path:
    """Settings (``settings.toml``); created on first use."""
    return _ensure(platformdirs.user_config_path(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """History database and other data the user would miss."""
    return _ensure(platformdirs.user_data_path(APP_NAME, appauthor=False))


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


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
