"""The app's local model host: background load with progress, errors as events, reuse."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from app.agent import events as ev
from app.runtime.local_model_host import LocalModelHost
from providers import LocalModelConfig
from providers.local_model import load_model
from tests.support.local_llm import gemma_gguf, requires_llama

ROOT = Path(__file__).resolve().parent.parent
HANG_S = 60


def statuses(events: list[ev.Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, ev.Status)]


@requires_llama
@pytest.mark.slow
async def test_the_model_loads_in_the_background_with_progress() -> None:
    """The loader is held until the loop has shown "Loading…" and done other work: were the
    load run on the loop, this test would hang instead."""
    events: list[ev.Event] = []
    gate = threading.Event()

    def gated_loader(config: LocalModelConfig, progress: Any) -> Any:
        assert gate.wait(HANG_S), "the loop never ran while the model was loading"
        return load_model(config, progress)

    host = LocalModelHost(events.append, loader=gated_loader)
    config = LocalModelConfig(str(gemma_gguf()), context_length=512)
    source = host.source_for(config)
    await asyncio.sleep(0)  # the loop keeps running: the watcher publishes "Loading…"
    assert statuses(events) == ["Loading the local model gemma-3-270m-q4_k_m…"]
    gate.set()
    assert await asyncio.wait_for(host.wait(), HANG_S) is None
    texts = statuses(events)
    assert any(t.endswith("%") for t in texts), texts
    assert texts[-2] == "Loading the local model gemma-3-270m-q4_k_m… 100%"
    assert texts[-1].startswith("Local model gemma-3-270m-q4_k_m ready (loaded in ")
    assert host.source_for(config) is source  # nothing that matters changed: kept
    model = source.loaded
    assert model is not None
    other = host.source_for(LocalModelConfig(str(gemma_gguf()), context_length=1024))
    assert other is not source
    await host.aclose()
    assert source.loaded is model  # closed (freed), not reloaded
    assert not any(isinstance(e, ev.ErrorEvent) for e in events)


async def test_a_missing_model_is_reported_and_the_app_carries_on(tmp_path: Path) -> None:
    events: list[ev.Event] = []
    host = LocalModelHost(events.append)
    host.source_for(LocalModelConfig(str(tmp_path / "gone.gguf")))
    error = await asyncio.wait_for(host.wait(), HANG_S)
    assert error is not None and "does not exist" in error
    (problem,) = [e for e in events if isinstance(e, ev.ErrorEvent)]
    assert problem.kind == "model" and "Settings → Provider" in problem.message
    await host.aclose()


@requires_llama
@pytest.mark.slow
def test_headless_replies_with_the_local_model(private_dirs: Path) -> None:
    settings = private_dirs / "config" / "harken" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text("[local]\nmax_reply_tokens = 16\n")  # the base model rambles on
    proc = subprocess.run(
        [
            sys.executable, "-m", "app.cli", "--headless", "--no-tts",
            "--local-model", str(gemma_gguf()), "--chat-format", "gemma",
            "--context-length", "1024", "--say", "Hello",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    kinds = [e["type"] for e in events]
    ready = kinds.index("ready")
    loaded = [i for i, e in enumerate(events) if "ready (loaded in" in e.get("text", "")]
    assert loaded and loaded[0] < ready, kinds  # the model is loaded before input starts
    assert any(e.get("text", "").endswith("%") for e in events[:ready]), kinds  # progress
    assert "first_token" in kinds and kinds[-1] == "turn_finished", kinds
    assert 1 <= kinds.count("reply_delta") <= 16
    assert events[-1]["text"].strip()


def test_headless_refuses_a_missing_model_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable, "-m", "app.cli", "--headless",
            "--local-model", str(tmp_path / "gone.gguf"), "--say", "Hello",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("harken: ")
    assert "does not exist" in proc.stderr or "pip install 'harken[local]'" in proc.stderr
