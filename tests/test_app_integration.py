"""The real desktop app, wired end to end: MainWindow + ControllerBridge + the real components.

``app.desktop.gui._main`` runs on a qasync loop in this process, exactly as ``harken``
runs it, with the real Whisper tiny.en model, the real OpenAI-compatible
provider streaming from a local ``ScriptedServer``, the real history store and
settings file in the test's private directories, and the real
``MicrophoneSource`` over a fake ``sounddevice`` that replays jfk.flac. Keys
go to the window's focus widget with ``qtbot``; everything is awaited on
window signals, never slept on.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.config.settings import settings_path
from app.desktop.controls.state_indicator import DisplayState
from app.runtime.history_store import HistoryStore, auto_title
from providers.events import AssistantMessage, UserMessage
from tests.support.audio_models import SharedWhisper
from tests.support.live_app import (
    CueMicrophone,
    LiveApp,
    QtAsync,
    key_click,
    key_press,
    key_release,
    start_app,
    type_text,
    write_settings,
)
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply

pytest_plugins = ["tests.support.live_app"]
pytestmark = pytest.mark.usefixtures("desktop_env")

JFK_WORDS = "ask not what your country can do for you"


def stalled(*pieces: str) -> list[object]:
    """A reply that streams ``pieces`` and then goes quiet until the client hangs up."""
    return [*openai_stream(list(pieces))[: 1 + len(pieces)], Stall()]


async def launch(qtbot: QtBot, whisper: SharedWhisper, mic: CueMicrophone, *argv: str) -> LiveApp:
    app = await start_app(qtbot, ["--no-tts", *argv], transcriber=whisper, microphone=mic)
    await app.until(
        lambda: app.window.models_ready and mic.position > 0,
        what="models loaded and the microphone open",
    )
    return app


async def ask(qtbot: QtBot, app: LiveApp, text: str) -> None:
    """Type ``text`` into the message box and press Enter."""
    app.window.message_box.setFocus()
    type_text(qtbot, app.window, text)


def test_holding_space_records_jfk_and_releasing_sends_it(
    qtbot: QtBot,
    qt_async: QtAsync,
    server: ScriptedServer,
    shared_whisper: SharedWhisper,
    jfk_audio: npt.NDArray[np.float32],
) -> None:
    write_settings(server)
    reply = ["Those words were ", "spoken by John F. Kennedy ", "in January 1961."]
    server.add(sse_reply(openai_stream(reply, delay_s=0.15)))
    mic = CueMicrophone(speed=4.0)

    async def scenario() -> None:
        app = await launch(qtbot, shared_whisper, mic)
        w = app.window
        assert w.status_label.text() == "Ready. Hold Space or the Talk button and speak."
        states: list[tuple[DisplayState, str]] = []
        w.tracker.changed.connect(lambda s: states.append((s, w.indicator.label.text())))
        levels: list[float] = []
        w.bridge.event.connect(
            lambda e: levels.append(w.meter.level) if isinstance(e, ev.InputLevel) else None
        )
        await app.until(lambda: len(levels) >= 3, what="level events in the quiet room")
        quiet = max(levels)

        key_press(qtbot, w, Qt.Key.Key_Space)
        assert w.ptt.held and w.tracker.state is DisplayState.LISTENING
        end = mic.say(jfk_audio)
        speaking_from = len(levels)
        await app.until(lambda: mic.position >= end + 1600, what="jfk.flac played", timeout_s=40)
        assert w.indicator.label.text() == "Listening…"
        key_release(qtbot, w, Qt.Key.Key_Space)
        await app.until(lambda: not w.ptt.held, what="the push-to-talk release")
        await app.until(
            lambda: "in January 1961." in app.text() and w.tracker.state is DisplayState.IDLE,
            what="the reply finished",
        )
        loud = max(levels[speaking_from:])
        text = app.text()
        # At the window's default size the text keeps a margin from the view's edge.
        assert w.view.cursorRect(QTextCursor(w.view.document())).left() >= 10
        assert await app.quit() == 0

        # The meter sat at zero in the quiet room and moved while JFK spoke.
        assert quiet == 0.0
        assert loud > 0.5
        # The 🎙 echo shows what Whisper heard, then the streamed reply below it.
        echo = text.index("🎙")
        assert JFK_WORDS in text[echo:].lower()
        assert text.index("Those words were spoken by John F. Kennedy in January 1961.") > echo
        # The indicator went through every state of the turn, in order, and no other.
        assert [s for s, _ in states] == [
            DisplayState.LISTENING,
            DisplayState.TRANSCRIBING,
            DisplayState.THINKING,
            DisplayState.REPLYING,
            DisplayState.IDLE,
        ]
        assert [label for _, label in states] == [
            "Listening…",
            "Transcribing…",
            "Thinking…",
            "Replying…",
            "Ready",
        ]
        # What reached the model is the transcript, as the last user message.
        (request,) = server.requests
        sent = request.json()["messages"]
        assert sent[-1]["role"] == "user" and JFK_WORDS in sent[-1]["content"].lower()

    qt_async.run(scenario())


def test_reply_streams_into_the_view_and_escape_cancels_it(
    qtbot: QtBot, qt_async: QtAsync, server: ScriptedServer, shared_whisper: SharedWhisper
) -> None:
    write_settings(server)
    server.add(sse_reply(stalled("Lisbon sits on ", "seven hills. ")))
    mic = CueMicrophone()

    async def scenario() -> None:
        app = await launch(qtbot, shared_whisper, mic)
        w = app.window
        await ask(qtbot, app, "Tell me about Lisbon")
        # Both deltas are shown while the reply is still open (the server is stalled).
        await app.until(lambda: "Lisbon sits on seven hills." in app.text(), what="the deltas")
        assert w.tracker.state is DisplayState.REPLYING and w.stop_button.isEnabled()
        assert w.sidebar is not None and w.sidebar.list.count() == 1  # listed while it runs
        assert server.disconnected_at(0) is None and not server.completed(0)
        assert "interrupted" not in app.text()

        key_click(qtbot, w, Qt.Key.Key_Escape)
        await asyncio.to_thread(server.wait_for_disconnect, 5.0, 0)
        await app.until(lambda: "⏹ interrupted" in app.text(), what="the interrupted mark")
        await app.until(lambda: w.tracker.state is DisplayState.IDLE, what="idle after Esc")
        assert not w.stop_button.isEnabled()
        assert app.text().index("Lisbon sits on seven hills.") < app.text().index("⏹ interrupted")
        assert await app.quit() == 0
        assert len(server.requests) == 1  # a cancel is never retried

    qt_async.run(scenario())


def test_typing_while_a_reply_streams_interrupts_it(
    qtbot: QtBot, qt_async: QtAsync, server: ScriptedServer, shared_whisper: SharedWhisper
) -> None:
    write_settings(server)
    server.add(
        sse_reply(stalled("Once upon a time ", "there was a dragon. ")),
        sse_reply(openai_stream(["Why did the chicken ", "cross the road?"], delay_s=0.02)),
    )
    mic = CueMicrophone()

    async def scenario() -> None:
        app = await launch(qtbot, shared_whisper, mic)
        await ask(qtbot, app, "Tell me a long story")
        await app.until(lambda: "there was a dragon." in app.text(), what="the story streaming")
        await ask(qtbot, app, "Actually, tell me a joke")
        await app.until(lambda: "cross the road?" in app.text(), what="the second reply")
        await asyncio.to_thread(server.wait_for_disconnect, 5.0, 0)
        text = app.text()
        assert (
            text.index("there was a dragon.")
            < text.index("⏹ interrupted")
            < text.index("Actually, tell me a joke")
            < text.index("Why did the chicken cross the road?")
        )
        await app.until(lambda: app.window.tracker.state is DisplayState.IDLE, what="idle")
        assert await app.quit() == 0

    qt_async.run(scenario())
    first, second = server.requests
    assert first.json()["messages"][-1]["content"] == "Tell me a long story"
    sent = second.json()["messages"]
    assert [m["role"] for m in sent[-3:]] == ["user", "assistant", "user"]
    assert sent[-2]["content"].startswith("Once upon a time there was a dragon.")
    assert "[interrupted by the user]" in sent[-2]["content"]
    assert sent[-1]["content"] == "Actually, tell me a joke"


def test_quitting_during_a_turn_cancels_it_and_saves_the_conversation(
    qtbot: QtBot, qt_async: QtAsync, server: ScriptedServer, shared_whisper: SharedWhisper
) -> None:
    write_settings(server)
    server.add(sse_reply(stalled("The first emperor ", "of Rome was Augustus. ")))
    mic = CueMicrophone()

    async def scenario() -> float:
        app = await launch(qtbot, shared_whisper, mic)
        await ask(qtbot, app, "Who was the first Roman emperor?")
        await app.until(lambda: "Augustus." in app.text(), what="the reply streaming")
        loop = asyncio.get_running_loop()
        asked = loop.time()
        assert await app.quit() == 0
        quit_s = loop.time() - asked
        await asyncio.to_thread(server.wait_for_disconnect, 5.0, 0)
        return quit_s

    quit_s = qt_async.run(scenario())
    assert quit_s < 5.0  # sanity bound: quitting never waits for the stalled stream
    assert len(server.requests) == 1
    store = HistoryStore()
    try:
        (conversation,) = store.list_conversations()
        rows = store.messages(conversation.id)
    finally:
        store.close()
    assert [type(r.message) for r in rows] == [UserMessage, AssistantMessage]
    assert rows[0].message.text == "Who was the first Roman emperor?"
    assert rows[1].interrupted
    assert rows[1].message.text.startswith("The first emperor of Rome was Augustus.")


def test_history_survives_restarting_the_app(
    qtbot: QtBot, qt_async: QtAsync, server: ScriptedServer, shared_whisper: SharedWhisper
) -> None:
    question = "What is the capital of Portugal, and has it always been the capital city?"
    write_settings(server)
    server.add(
        sse_reply(openai_stream(["Lisbon is the capital ", "of Portugal."], delay_s=0.02)),
        sse_reply(openai_stream(["Madrid."], delay_s=0.02)),
    )

    async def first_run() -> None:
        app = await launch(qtbot, shared_whisper, CueMicrophone())
        await ask(qtbot, app, question)
        await app.until(lambda: "of Portugal." in app.text(), what="the first answer")
        await app.until(lambda: app.window.tracker.state is DisplayState.IDLE, what="idle")
        assert await app.quit() == 0

    async def second_run() -> str:
        app = await launch(qtbot, shared_whisper, CueMicrophone())
        w = app.window
        assert "Lisbon" not in app.text()  # a new start begins a new conversation
        assert w.sidebar is not None
        items = w.sidebar.list
        assert items.count() == 1 and items.item(0).text() == auto_title(question)
        assert not items.horizontalScrollBar().isVisible()  # a long title is elided, not cut
        rect = items.visualItemRect(items.item(0))
        qtbot.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        await app.until(lambda: "Lisbon is the capital of Portugal." in app.text(), what="reopen")
        await ask(qtbot, app, "And of Spain?")
        await app.until(lambda: "Madrid." in app.text(), what="the follow-up answer")
        shown = app.text()
        assert await app.quit() == 0
        return shown

    qt_async.run(first_run())
    shown = qt_async.run(second_run())
    assert shown.index(question) < shown.index("And of Spain?")
    sent = server.requests[1].json()["messages"]
    assert [(m["role"], m["content"]) for m in sent if m["role"] != "system"] == [
        ("user", question),
        ("assistant", "Lisbon is the capital of Portugal."),
        ("user", "And of Spain?"),
    ]
    store = HistoryStore()
    try:
        (conversation,) = store.list_conversations()
        assert len(store.messages(conversation.id)) == 4
    finally:
        store.close()


def test_a_corrupt_settings_file_is_reported_in_the_window(
    qtbot: QtBot,
    qt_async: QtAsync,
    server: ScriptedServer,
    shared_whisper: SharedWhisper,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = settings_path()
    path.write_text('[audio]\ninput_mode = "hands_free\n', encoding="utf-8")  # unclosed string
    dump = tmp_path / "dump.jsonl"
    monkeypatch.setenv("HARKEN_DEBUG_DUMP", str(dump))

    async def scenario() -> str:
        app = await launch(qtbot, shared_whisper, CueMicrophone(), "--base-url", server.url + "/v1")
        text = app.text()
        assert "Open Settings" in text
        assert await app.quit() == 0
        return text

    text = qt_async.run(scenario())
    assert "Your settings file was damaged" in text
    (aside,) = path.parent.glob("settings.toml.corrupt-*")
    assert aside.name in text  # the message says where the old file went
    assert aside.read_text(encoding="utf-8").startswith("[audio]")
    lines = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["state"] == "loading"
    assert lines[-1]["state"] == "idle" and lines[-1]["mic"] is True
    assert "Your settings file was damaged" in lines[-1]["conversation"]


def test_the_app_loop_closes_abandoned_async_generators_on_the_loop(qt_async: QtAsync) -> None:
    """An httpx stream cut off by a cancel leaves its byte-stream generator suspended; when
    the garbage collector frees it, its async cleanup must run as a task on the app's loop
    (as under ``asyncio.run``), not synchronously outside it."""
    cleaned_up_in: list[asyncio.Task[Any] | None] = []

    async def scenario() -> None:
        done = asyncio.Event()

        async def body() -> AsyncIterator[int]:
            try:
                yield 1
                yield 2
            finally:
                await asyncio.sleep(0)  # async cleanup, like httpcore closing a response
                cleaned_up_in.append(asyncio.current_task())
                done.set()

        stream = body()
        assert await anext(stream) == 1
        cycle: list[object] = [stream]
        cycle.append(cycle)  # only the cyclic garbage collector can free it now
        del stream, cycle
        loop = asyncio.get_running_loop()
        loop.call_soon(gc.collect)  # from a plain callback, outside any task
        await asyncio.wait_for(done.wait(), 5)

    qt_async.run(scenario())
    assert len(cleaned_up_in) == 1 and cleaned_up_in[0] is not None
