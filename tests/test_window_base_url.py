"""A base URL that is not a URL is said in the window at start-up (headless exits 2 on it:
tests/test_headless_exit_codes.py), not left to fail at the first turn."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.support.audio_models import SharedWhisper
from tests.support.live_app import CueMicrophone, QtAsync, start_app

pytest_plugins = ["tests.support.live_app"]


@pytest.fixture(autouse=True)
def desktop_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("HARKEN_DEBUG_DUMP", raising=False)
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    monkeypatch.setenv("TMPDIR", str(sockets))


def test_the_window_says_at_start_up_that_the_base_url_is_not_a_url(
    qtbot: QtBot, qt_async: QtAsync, shared_whisper: SharedWhisper
) -> None:
    argv = ["--no-tts", "--base-url", "not a url", "--model", "m"]

    async def scenario() -> str:
        mic = CueMicrophone()
        app = await start_app(qtbot, argv, transcriber=shared_whisper, microphone=mic)
        await app.until(lambda: "is not a URL" in app.text(), what="the base URL notice")
        await app.until(
            lambda: app.window.models_ready and mic.position > 0,
            what="models loaded and the microphone open",
        )
        shown = app.text()
        assert await app.quit() == 0
        return shown

    shown = qt_async.run(scenario())
    assert "The base URL 'not a url' is not a URL" in shown
    assert "Open Settings → Provider." in shown
