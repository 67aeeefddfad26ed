"""Issue 19, item 2, end to end: history never blocks the loop or a turn.

The real desktop app (``DesktopSession`` + ``gui._main``) talks to a real local
server while its history database is (a) held by ``BEGIN EXCLUSIVE`` in another
process, (b) on a real tmpfs that is full. Each time: the turn's request goes out
at once, the window says once that history is not being saved, and when the
lock is released (or space freed) the messages land in the database, once each.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.config.settings import Settings, save_settings
from app.desktop.controls.state_indicator import DisplayState
from app.runtime.history_store import HistoryStore
from providers.events import AssistantMessage, UserMessage
from tests.support.live_app import (
    CueMicrophone,
    LiveApp,
    QtAsync,
    SharedWhisper,
    start_app,
    type_text,
)
from tests.support.small_fs import fill, tmpfs
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

pytest_plugins = ["tests.support.live_app"]

NOT_SAVED = "History is not being saved"
LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
print("released", flush=True)
"""


@pytest.fixture(scope="module")
def whisper() -> Iterator[SharedWhisper]:
    model = SharedWhisper()
    model.start_loading()
    yield model
    model.dispose()


@pytest.fixture(autouse=True)
def desktop_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("HARKEN_DEBUG_DUMP", raising=False)
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    monkeypatch.setenv("TMPDIR", str(sockets))


def use_server(server: ScriptedServer) -> None:
    settings = Settings()
    settings.provider.preset, settings.provider.kind = "custom", "openai"
    settings.provider.base_url, settings.provider.model = server.base_url("openai"), "m"
    settings.audio.speech_output = False
    save_settings(settings)


async def turn(app: LiveApp, server: ScriptedServer, qtbot: QtBot, text: str, reply: str) -> float:
    """Type ``text``; returns the seconds until the server had the request. Waits for the
    reply to be shown and the window to be idle."""
    loop = asyncio.get_running_loop()
    before = len(server.requests)
    w = app.window
    w.message_box.setFocus()
    started = loop.time()
    type_text(qtbot, w, text)
    await asyncio.to_thread(server.wait_for_requests, before + 1, 10.0)
    sent_s = loop.time() - started
    await app.until(lambda: reply in app.text(), what=f"the reply {reply!r}")
    await app.until(lambda: w.tracker.state is DisplayState.IDLE, what="idle")
    return sent_s


def lock_from_another_process(path: Path) -> subprocess.Popen[str]:
    """A python process that holds ``BEGIN EXCLUSIVE`` on ``path`` until it reads a line."""
    return subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate()  # reaps it and closes the pipes


def saved_rows(path: Path) -> list[tuple[str, str]]:
    store = HistoryStore(path)
    try:
        rows = []
        for summary in store.list_conversations():
            for m in store.load_messages(summary.id):
                assert isinstance(m, UserMessage | AssistantMessage)
                rows.append((type(m).__name__, m.text))
        return rows
    finally:
        store.close()


def scenario_checks(app: LiveApp, errors: list[ev.ErrorEvent], sent_s: list[float]) -> None:
    assert [e.kind for e in errors] == ["history"], errors  # said once, for two turns
    assert app.text().count(NOT_SAVED) == 1
    # Before the fix the first turn waited for sqlite's 5 s busy timeout and then never
    # sent its request at all; a generous hang bound, not a speed figure.
    assert max(sent_s) < 4.0, sent_s


EXPECTED = [
    ("UserMessage", "first while broken"),
    ("AssistantMessage", "Reply one."),
    ("UserMessage", "second while broken"),
    ("AssistantMessage", "Reply two."),
]


def test_a_locked_history_never_holds_up_a_turn_and_is_written_when_released(
    qtbot: QtBot, qt_async: QtAsync, server: ScriptedServer, whisper: SharedWhisper
) -> None:
    use_server(server)
    server.add(sse_reply(openai_stream(["Reply one."])), sse_reply(openai_stream(["Reply two."])))
    errors: list[ev.ErrorEvent] = []
    sent_s: list[float] = []

    async def scenario() -> Path:
        app = await start_app(qtbot, ["--no-tts"], transcriber=whisper, microphone=CueMicrophone())
        w = app.window
        await app.until(lambda: w.models_ready, what="models loaded")
        w.bridge.event.connect(lambda e: errors.append(e) if isinstance(e, ev.ErrorEvent) else None)
        path = app.session.history.path
        locker = await asyncio.to_thread(lock_from_another_process, path)
        assert locker.stdin is not None and locker.stdout is not None
        try:
            assert await asyncio.to_thread(locker.stdout.readline) == "locked\n"
            sent_s.append(await turn(app, server, qtbot, "first while broken", "Reply one."))
            sent_s.append(await turn(app, server, qtbot, "second while broken", "Reply two."))
            await app.until(lambda: errors, what="the history problem said")
            assert saved_rows(path) == []  # nothing could be written yet
            writer = app.session.bridge.history_writer
            assert writer is not None and writer.pending == 4
            scenario_checks(app, errors, sent_s)
            locker.stdin.write("\n")
            locker.stdin.flush()
            assert await asyncio.to_thread(locker.stdout.readline) == "released\n"
        finally:
            await asyncio.to_thread(stop, locker)
        await app.until(
            lambda: "History is being saved again." in w.status_label.text(),
            timeout_s=15,
            what="the retry after the lock went away",
        )
        assert writer.pending == 0
        sidebar = w.sidebar
        assert sidebar is not None
        await app.until(
            lambda: (
                w.bridge.conversation_id is not None
                and sidebar.current_id == w.bridge.conversation_id
            ),
            also=(w.bridge.history_written,),
            what="the sidebar lists the conversation once it is written",
        )
        assert await app.quit() == 0
        return path

    path = qt_async.run(scenario())
    assert saved_rows(path) == EXPECTED  # each once, in order


def test_a_full_disk_never_holds_up_a_turn_and_history_is_written_once_space_is_back(
    qtbot: QtBot,
    qt_async: QtAsync,
    server: ScriptedServer,
    whisper: SharedWhisper,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_server(server)
    server.add(sse_reply(openai_stream(["Reply one."])), sse_reply(openai_stream(["Reply two."])))
    errors: list[ev.ErrorEvent] = []
    sent_s: list[float] = []
    with tmpfs(tmp_path / "small", size_kib=1024) as data:
        monkeypatch.setenv("XDG_DATA_HOME", str(data))

        async def scenario() -> Path:
            app = await start_app(
                qtbot, ["--no-tts"], transcriber=whisper, microphone=CueMicrophone()
            )
            w = app.window
            await app.until(lambda: w.models_ready, what="models loaded")
            w.bridge.event.connect(
                lambda e: errors.append(e) if isinstance(e, ev.ErrorEvent) else None
            )
            filler = fill(data)
            sent_s.append(await turn(app, server, qtbot, "first while broken", "Reply one."))
            sent_s.append(await turn(app, server, qtbot, "second while broken", "Reply two."))
            await app.until(lambda: errors, what="the history problem said")
            assert "disk is full" in errors[0].message
            scenario_checks(app, errors, sent_s)
            filler.unlink()
            await app.until(
                lambda: "History is being saved again." in w.status_label.text(),
                timeout_s=15,
                what="the retry after space came back",
            )
            assert await app.quit() == 0
            return app.session.history.path

        path = qt_async.run(scenario())
        assert saved_rows(path) == EXPECTED


def test_a_history_file_that_is_not_a_database_is_moved_aside_and_the_window_says_so(
    qtbot: QtBot,
    qt_async: QtAsync,
    server: ScriptedServer,
    whisper: SharedWhisper,
    private_dirs: Path,
) -> None:
    """Before, history stayed off on every launch until the user moved the file by hand."""
    use_server(server)
    server.add(sse_reply(openai_stream(["Fresh start."])))
    folder = private_dirs / "data" / "harken"
    folder.mkdir(parents=True)
    (folder / "history.sqlite3").write_text("my notes, saved here by mistake\n" * 50)

    async def scenario() -> None:
        app = await start_app(qtbot, ["--no-tts"], transcriber=whisper, microphone=CueMicrophone())
        w = app.window
        await app.until(lambda: w.models_ready, what="models loaded")
        assert "started a fresh one" in app.text() and "history.sqlite3.corrupt-" in app.text()
        assert w.sidebar is not None  # history is on
        await turn(app, server, qtbot, "hello", "Fresh start.")
        assert await app.quit() == 0

    qt_async.run(scenario())
    (aside,) = folder.glob("history.sqlite3.corrupt-*")
    assert aside.read_text().startswith("my notes")
    assert saved_rows(folder / "history.sqlite3") == [
        ("UserMessage", "hello"),
        ("AssistantMessage", "Fresh start."),
    ]
