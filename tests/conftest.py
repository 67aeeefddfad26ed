"""Test-wide set-up: Qt offscreen, a private config/data dir per test, an in-memory keyring."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memory_keyring.MemoryKeyring"

# Shared fixtures: espeak speech (``speech``), the scripted LLM server and an HTTP client
# (``server``, ``client``), Whisper and Silero (``whisper``, ``vad``), controllers
# (``controllers``, ``quiet``), a model-list API (``models_api``). Listed before anything
# imports them, so that pytest can rewrite their asserts.
pytest_plugins = [
    "tests.support.speech",
    "tests.support.sse_server",
    "tests.support.models_server",
    "tests.support.audio_models",
    "tests.support.controller_harness",
]

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config, data, state and cache directories."""
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        path = home / sub
        path.mkdir(parents=True)
        monkeypatch.setenv(var, str(path))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    from tests.support.memory_keyring import MemoryKeyring

    MemoryKeyring.clear()
    return home


@pytest.fixture(scope="session")
def jfk_flac() -> Path:
    path = SHARED_DATA / "jfk.flac"
    if not path.exists():
        pytest.skip(f"{path} is missing (it ships in ../shared/data)")
    return path


@pytest.fixture(scope="session")
def jfk_audio(jfk_flac: Path) -> np.ndarray:
    """jfk.flac as 16 kHz mono float32 (11 s: "And so my fellow Americans …")."""
    from faster_whisper import decode_audio

    return np.ascontiguousarray(decode_audio(str(jfk_flac), sampling_rate=16000), np.float32)
