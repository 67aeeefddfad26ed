"""Command-line flags as settings overrides: one function for the window and headless mode.

A flag that was not given is ``None`` (the settings file and the environment
decide). These overrides are for this run only: they are applied in memory by
``app.config.overlay.resolve`` and never written to the settings file.
"""

from __future__ import annotations

import argparse
from typing import Any


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags of ``app.cli.build_parser`` that override settings (None = not given)."""

    def flag(name: str) -> Any:
        return getattr(args, name, None)

    return {
        "provider": flag("provider"),
        "base_url": flag("base_url"),
        "model": flag("model"),
        "api_key": flag("api_key"),
        "api_version": flag("api_version"),
        "system_prompt": flag("system_prompt"),
        "hangover_ms": flag("hangover_ms"),
        "whisper_model": flag("whisper_model"),
        "input_device": flag("input_device"),
        "output_device": flag("output_device"),
        "speech_output": False if flag("no_tts") else None,
        "barge_in": False if flag("no_barge_in") else None,
        "echo_cancellation": False if flag("no_echo_cancellation") else None,
        "adaptive_hangover": False if flag("fixed_hangover") else None,
        "turn_model": True if flag("turn_model") else None,
        "early_request": False if flag("no_early_request") else None,
        "speak_after_ms": flag("speak_after_ms"),
        "local_model": flag("local_model"),
        "chat_format": flag("chat_format"),
        "context_length": flag("context_length"),
        "threads": flag("threads"),
        "stt_url": flag("stt_url"),
        "stt_model": flag("stt_model"),
    }
