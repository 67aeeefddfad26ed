"""Issue 19, item 1, end to end: a one-off ``--base-url`` is never saved, and a key stored for
one endpoint never reaches another.

The real desktop app (``DesktopSession`` + ``gui._main`` on a qasync loop, as ``harken``
runs it) against a real local HTTP server that records every request's headers. Outbound
HTTPS goes through a proxy address that refuses connections, so a request meant for
``api.openai.com`` fails at once instead of leaving this machine.
"""

from __future__ import annotations

import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.config.settings import Settings, save_settings, settings_path
from app.desktop.controls.state_indicator import DisplayState
from tests.support.live_app import CueMicrophone, QtAsync, SharedWhisper, start_app, type_text
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

pytest_plugins = ["tests.support.live_app"]

STORED_KEY = "sk-stored-for-openai-0123456789"
OPENAI = "https://api.openai.com/v1"


@pytest.fixture(scope="module")
def whisper() -> Iterator[SharedWhisper]:
    model = SharedWhisper()
    model.start_loading()
    yield model
    model.dispose()


@pytest.fixture(autouse=True)
def desktop_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No display (no hotkey thread), a private socket dir, and no way out to the internet."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("HARKEN_DEBUG_DUMP", raising=False)
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    monkeypatch.setenv("TMPDIR", str(sockets))
    with socket.socket() as s:  # a port nothing listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        refused = s.getsockname()[1]
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{refused}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def authorizations(server: ScriptedServer) -> list[str]:
    return [r.headers.get("authorization", "") for r in server.requests]


@pytest.mark.parametrize("stored", ["as this version stores it", "by an earlier version"])
def test_a_one_off_base_url_is_not_saved_and_never_gets_the_stored_key(
    qtbot: QtBot, qt_async: QtAsync, server: ScriptedServer, whisper: SharedWhisper, stored: str
) -> None:
    """The issue's reproduction: an OpenAI key in the keyring; start with ``--base-url`` (a
    local server) ``--model m``; toggle View → Show latency; quit; start with no flags and
    send a message. The settings file still says api.openai.com, and the local server never
    sees the key (before the fix the second run sent ``Bearer <stored key>`` to it)."""
    save_settings(Settings())  # the OpenAI preset, as a user who set it up in Settings has
    if stored == "by an earlier version":
        keyring.set_password("harken", "openai", STORED_KEY)
    else:
        keyring.set_password("harken", f"openai {OPENAI}", STORED_KEY)
    local = server.base_url("openai")
    server.add(sse_reply(openai_stream(["Hello from the one-off server."])))

    outcome: list[object] = []

    async def scenario() -> None:
        mic = CueMicrophone()
        app = await start_app(
            qtbot,
            ["--no-tts", "--base-url", local, "--model", "m"],
            transcriber=whisper,
            microphone=mic,
        )
        w = app.window
        await app.until(lambda: w.models_ready, what="models loaded")
        w.message_box.setFocus()
        type_text(qtbot, w, "first run")
        await app.until(lambda: "one-off server" in app.text(), what="the one-off reply")
        w.menus.latency.trigger()  # View → Show latency: saves the settings file
        assert await app.quit() == 0

        app = await start_app(qtbot, ["--no-tts"], transcriber=whisper, microphone=mic)
        w = app.window
        await app.until(lambda: w.models_ready, what="models loaded")
        ended: list[object] = []
        w.bridge.event.connect(
            lambda e: ended.append(e) if isinstance(e, ev.TurnFailed | ev.TurnFinished) else None
        )
        w.message_box.setFocus()
        type_text(qtbot, w, "second run, no flags")
        await app.until(lambda: ended, timeout_s=30, what="the second turn ended")
        await app.until(lambda: w.tracker.state is DisplayState.IDLE, what="idle")
        assert await app.quit() == 0
        outcome.extend(ended)

    qt_async.run(scenario())
    saved = tomllib.loads(settings_path().read_text())
    assert saved["provider"]["base_url"] == OPENAI  # the one-off URL was never written
    assert saved["provider"]["model"] == "gpt-4o-mini"
    assert saved["ui"]["show_latency"] is False  # the toggle itself was saved
    assert all(STORED_KEY not in header for header in authorizations(server))
    assert len(server.requests) == 1  # only the first run's turn came here
    failed = outcome[0]  # the second run's turn went to api.openai.com (the proxy refused)
    assert isinstance(failed, ev.TurnFailed) and "api.openai.com" in failed.message
