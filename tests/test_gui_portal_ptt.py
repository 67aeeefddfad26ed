"""The whole app on a Wayland-looking session: a push-to-talk turn held through the portal.

``app.desktop.gui._main`` runs as in ``harken`` (see ``tests.support.live_app``)
with the real Whisper model and a ``CueMicrophone``; the session bus is a
private ``dbus-daemon`` with ``tests.support.fake_portal`` on it. The desktop
"presses" the shortcut (``Activated``) while the window is minimised, JFK
speaks, the desktop "releases" it (``Deactivated``), and the turn runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper import decode_audio
from pytestqt.qtbot import QtBot

from app.desktop.hotkey import HotkeyService
from tests.support.audio_models import SharedWhisper
from tests.support.fake_portal import FakePortalClient
from tests.support.live_app import CueMicrophone, QtAsync, start_app
from tests.support.session_bus import until_status
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

pytest_plugins = ["tests.support.live_app", "tests.support.session_bus"]

JFK_WORDS = "ask not what your country can do for you"


@pytest.fixture(scope="module")
def jfk_audio(jfk_flac: Path) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(decode_audio(str(jfk_flac), sampling_rate=16000), np.float32)


def test_a_push_to_talk_turn_held_through_the_portal(
    qtbot: QtBot,
    qt_async: QtAsync,
    fake_portal: FakePortalClient,
    server: ScriptedServer,
    shared_whisper: SharedWhisper,
    jfk_audio: npt.NDArray[np.float32],
) -> None:
    server.add(sse_reply(openai_stream(["Kennedy said that ", "in 1961."])))
    mic = CueMicrophone(speed=4.0)
    argv = ["--no-tts", "--provider", "openai", "--base-url", server.base_url("openai"),
            "--model", "test-model", "--api-key", "sk-local"]  # fmt: skip

    async def scenario() -> None:
        app = await start_app(qtbot, argv, transcriber=shared_whisper, microphone=mic)
        w = app.window
        hotkeys = w.hotkeys
        assert isinstance(hotkeys, HotkeyService) and hotkeys.backend == "portal"
        await until_status(hotkeys, lambda s: s.active, "the shortcut is bound")
        await app.until(lambda: w.models_ready and mic.position > 0, what="models loaded")

        w.message_box.clearFocus()
        w.showMinimized()  # the user is in another application
        assert fake_portal.press()
        await app.until(lambda: w.ptt.held or w.tracker.state.name == "LISTENING", what="press")
        end = mic.say(jfk_audio)
        await app.until(lambda: mic.position >= end + 1600, what="jfk.flac played", timeout_s=40)
        fake_portal.release()
        await app.until(
            lambda: "in 1961." in app.text() and w.tracker.state.name == "IDLE",
            what="the reply finished",
        )
        text = app.text()
        assert JFK_WORDS in text[text.index("🎙") :].lower()
        (request,) = server.requests
        assert JFK_WORDS in request.json()["messages"][-1]["content"].lower()
        # Flags gave the provider: no "needs a language model" banner on this first start.
        assert "needs a language model" not in text
        assert await app.quit() == 0
        assert len(fake_portal.calls("Close")) == 1  # the session ends with the app

    qt_async.run(scenario(), timeout_s=120)
