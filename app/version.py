"""Harken's version, from the installed package metadata (one place: CLI, About, self-test,
and the HTTP user agent the composition root hands to the providers)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def app_version() -> str:
    """``0.1.0``; ``0+unknown`` when run from a tree that was never pip-installed."""
    try:
        return version("harken")
    except PackageNotFoundError:
        return "0+unknown"


def user_agent() -> str:
    return f"Harken/{app_version()}"
