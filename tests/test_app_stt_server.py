"""The real window switched to a transcription server by Settings → Save, then spoken to.

``app.desktop.gui._main`` on a qasync loop in this process (``tests.support.live_app``),
the real faster-whisper-server on a free port (``tests.support.whisper_server``), and
push-to-talk with jfk.flac through the real ``MicrophoneSource`` callback path. The
server's access log proves who transcribed the utterance.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper import decode_audio
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.desktop.controls.state_indicator import DisplayState
from tests.support.audio_models import SharedWhisper
from tests.support.live_app import (
    CueMicrophone,
    QtAsync,
    key_press,
    key_release,
    start_app,
    write_settings,
)
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply
from tests.support.whisper_server import WhisperServer, running_whisper_server

pytest_plugins = ["tests.support.live_app"]


@pytest.fixture(scope="module")
def whisper_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhisperServer]:
    with running_whisper_server(tmp_path_factory.mktemp("fws")) as server:
        yield server


@pytest.fixture(scope="module")
def jfk_audio(jfk_flac: Path) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(decode_audio(str(jfk_flac), sampling_rate=16000), np.float32)


def test_settings_save_switches_the_window_to_the_server_for_the_next_utterance(
    qtbot: QtBot,
    qt_async: QtAsync,
    server: ScriptedServer,
    shared_whisper: SharedWhisper,
    whisper_server: WhisperServer,
    jfk_audio: npt.NDArray[np.float32],
) -> None:
    write_settings(server)
    server.add(sse_reply(openai_stream(["Kennedy said that."])))
    mic = CueMicrophone(speed=4.0)

    async def scenario() -> None:
        app = await start_app(qtbot, ["--no-tts"], transcriber=shared_whisper, microphone=mic)
        w = app.window
        await app.until(lambda: w.models_ready and mic.position > 0, what="models loaded")
        assert app.session.components.stt_engine == "local"
        chosen = copy.deepcopy(w.settings)
        chosen.stt.mode, chosen.stt.url = "server", whisper_server.url
        chosen.stt.timeout_ms = 60_000  # a shared machine: slowness is not the point here
        w.settings_saved(chosen)  # what Settings → Save does
        assert app.session.components.stt_engine == "server"
        before = whisper_server.transcriptions

        key_press(qtbot, w, Qt.Key.Key_Space)
        end = mic.say(jfk_audio)
        await app.until(lambda: mic.position >= end + 1600, what="jfk.flac played", timeout_s=40)
        key_release(qtbot, w, Qt.Key.Key_Space)
        await app.until(
            lambda: "Kennedy said that." in app.text() and w.tracker.state is DisplayState.IDLE,
            what="the reply finished",
            timeout_s=60,
        )
        text = app.text()
        assert await app.quit() == 0
        assert "ask not what your country" in text[text.index("🎙") :].lower()
        assert whisper_server.wait_transcriptions(before + 1) - before == 1
        assert "instead" not in text  # no fallback notice: the server answered

    qt_async.run(scenario(), timeout_s=120)
