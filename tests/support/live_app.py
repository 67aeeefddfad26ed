"""The real desktop app, run in-process for integration tests: Qt + qasync + the real parts.

``app.desktop.gui._main`` (the same coroutine ``harken`` runs) is started as a task on
a ``qasync`` loop over the test's ``QApplication``, so the window, the bridge,
the controller, the provider's HTTP stream and the microphone task all share
the Qt event loop, as in the app. Only two parts are handed in: the Whisper
model (loaded once per test module) and the microphone, a ``CueMicrophone``
that replays audio through the real ``MicrophoneSource`` callback path.

- ``desktop_env`` (fixture; a module applies it with ``pytest.mark.usefixtures``): no
  X display (so no global hotkey thread) and a private socket directory for the
  single-instance server, so a Harken running elsewhere on this machine is left alone.
- ``qt_async`` (fixture) → ``QtAsync.run(coro, timeout_s)``: run a scenario
  coroutine on a new qasync loop, the way ``harken`` runs (``app.desktop.gui.run_on``);
  errors the loop could not deliver (a task that died unobserved) fail the test.
- ``CueMicrophone(speed=…)``: a ``FakeSoundDevice`` that hears digital silence
  until ``say(clip)``; the clip starts a few blocks after the current position,
  so a test can speak *after* it pressed Space.
- ``start_app(qtbot, argv, transcriber=…, microphone=…) -> LiveApp`` (inside the loop):
  ``LiveApp.window`` is the real ``MainWindow``; ``until(predicate)`` waits,
  without sleeping, for a condition re-checked whenever the window could have
  changed (controller events, conversation redraws, state changes);
  ``quit()`` triggers Harken → Quit and returns ``_main``'s exit code.
- ``write_settings(server)``: a settings file pointing at a ``ScriptedServer``, so the
  app starts as a configured one, not a first run (which would probe for local servers
  with a client of its own).
- ``SharedWhisper`` (from ``audio_models``; the ``shared_whisper`` fixture): a real
  ``WhisperTranscriber`` whose ``close()`` (called by the app on quit) leaves the
  model loaded for the module's next test.

(PYTEST_DONT_REWRITE: test modules import this before registering it as a plugin.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pytest
import qasync
from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.cli import build_parser
from app.config.settings import Settings, save_settings
from app.desktop import gui
from app.desktop.window.main_window import MainWindow
from audio.microphone import MicrophoneSource
from audio.transcriber import WhisperTranscriber
from tests.support.fake_sounddevice import FakeSoundDevice
from tests.support.sse_server import ScriptedServer

T = TypeVar("T")


class QtAsync:
    """Runs coroutines the way ``harken`` runs ``_main``: each ``run`` on a new qasync loop
    over the test's QApplication, through ``app.desktop.gui.run_on``."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.errors: list[dict[str, Any]] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 90.0) -> T:
        async def bounded() -> T:
            async with asyncio.timeout(timeout_s):
                return await coro

        loop = qasync.QEventLoop(self.app)
        loop.set_exception_handler(lambda _loop, context: self.errors.append(context))
        try:
            return gui.run_on(loop, bounded())
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=5))
            gui.close_loop(loop)


@pytest.fixture
def desktop_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("HARKEN_DEBUG_DUMP", raising=False)
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    monkeypatch.setenv("TMPDIR", str(sockets))


@pytest.fixture
def qt_async(qapp: QApplication) -> Iterator[QtAsync]:
    """The loop, for one test. What the desktop app changes on the QApplication (theme,
    palette, style, quitting on the last window) is put back afterwards, so the tests
    that run later see the QApplication they would see alone."""
    saved = _AppState.take(qapp)
    runner = QtAsync(qapp)
    try:
        yield runner
        assert not runner.errors, f"unhandled errors on the event loop: {runner.errors}"
    finally:
        saved.restore(qapp)


@dataclass
class _AppState:
    style: str
    palette: QPalette
    quit_on_last_window_closed: bool
    properties: dict[str, Any]

    THEME_PROPERTIES = ("harken_theme_mode", "harken_scheme")

    @classmethod
    def take(cls, app: QApplication) -> _AppState:
        return cls(
            style=app.style().name(),
            palette=QPalette(app.palette()),
            quit_on_last_window_closed=app.quitOnLastWindowClosed(),
            properties={name: app.property(name) for name in cls.THEME_PROPERTIES},
        )

    def restore(self, app: QApplication) -> None:
        app.setStyle(self.style)
        app.setPalette(self.palette)
        app.setQuitOnLastWindowClosed(self.quit_on_last_window_closed)
        for name, value in self.properties.items():
            app.setProperty(name, value)


class CueMicrophone(FakeSoundDevice):
    """A microphone in a quiet room until the test speaks into it with ``say``."""

    def __init__(self, *, speed: float = 1.0) -> None:
        super().__init__(audio=None, speed=speed)

    @property
    def position(self) -> int:
        """Samples the open stream has delivered so far (0 before it opens)."""
        if not self.streams:
            return 0
        stream = self.streams[-1]
        return stream.callbacks * stream.blocksize

    def say(self, clip: npt.NDArray[np.float32], lead_s: float = 0.1) -> int:
        """Play ``clip`` from ``lead_s`` after now; returns the sample position it ends at."""
        start = self.position + round(lead_s * self.audio_rate_hz)
        audio = np.zeros(start + len(clip), dtype=np.float32)
        audio[start:] = clip
        self.audio = audio
        return len(audio)


@dataclass
class LiveApp:
    session: gui.DesktopSession
    task: asyncio.Task[int]

    @property
    def window(self) -> MainWindow:
        assert self.session.desktop is not None
        window = self.session.desktop.window
        assert isinstance(window, MainWindow)
        return window

    def text(self) -> str:
        """What the conversation view shows, as plain text."""
        return self.window.view.toPlainText()

    async def until(
        self,
        predicate: Callable[[], object],
        *,
        timeout_s: float = 30.0,
        what: str = "",
        also: tuple[SignalInstance, ...] = (),
    ) -> None:
        """Wait until ``predicate()`` is true, re-checking it whenever the window may have
        changed; ``also`` adds signals to re-check on."""
        w = self.window
        signals = (w.bridge.event, w.view.document().contentsChanged, w.tracker.changed, *also)
        await wait_for_condition(predicate, signals, timeout_s=timeout_s, what=what, app=self)

    async def quit(self, timeout_s: float = 15.0) -> int:
        """Harken → Quit (what Ctrl+Q and the tray's Quit do); the exit code of ``_main``."""
        self.window.menus.quit.trigger()
        return await asyncio.wait_for(asyncio.shield(self.task), timeout_s)


async def wait_for_condition(
    predicate: Callable[[], object],
    signals: tuple[SignalInstance, ...],
    *,
    timeout_s: float,
    what: str = "",
    app: LiveApp | None = None,
) -> None:
    changed = asyncio.Event()

    def poke(*_: object) -> None:
        changed.set()

    for signal in signals:
        signal.connect(poke)
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                changed.clear()
                await changed.wait()
    except TimeoutError:
        shown = app.text()[-1500:] if app is not None else ""
        raise AssertionError(
            f"{what or predicate} did not happen within {timeout_s} s; the view shows:\n{shown}"
        ) from None
    finally:
        for signal in signals:
            signal.disconnect(poke)


async def start_app(
    qtbot: QtBot,
    argv: list[str],
    *,
    transcriber: WhisperTranscriber | None,
    microphone: FakeSoundDevice,
) -> LiveApp:
    """Start ``harken`` (GUI) with ``argv`` in this loop; returns once the window is up and
    active. The window is closed and deleted at the end of the test."""
    args = build_parser().parse_args(argv)
    session = gui.DesktopSession(
        args,
        transcriber=transcriber,
        microphone_factory=lambda device: MicrophoneSource(device, sounddevice_module=microphone),
    )
    app = QApplication.instance()
    task = asyncio.get_running_loop().create_task(gui._main(app, args, session))
    async with asyncio.timeout(10):
        while session.desktop is None:  # _main builds the window before its first await
            if task.done():
                task.result()
            await asyncio.sleep(0)
    live = LiveApp(session, task)
    window = live.window
    qtbot.addWidget(window)
    window.activateWindow()
    await live.until(
        window.isActiveWindow,
        timeout_s=10,
        what="the window is active",
        also=(_focus_window_changed(),),
    )
    return live


def _focus_window_changed() -> SignalInstance:
    app = QGuiApplication.instance()
    assert isinstance(app, QGuiApplication)
    return app.focusWindowChanged


def key_press(qtbot: QtBot, window: QWidget, key: Qt.Key) -> None:
    """A key goes down where the keyboard focus is in ``window`` (as a real keyboard's would)."""
    qtbot.keyPress(_focus(window), key)


def key_release(qtbot: QtBot, window: QWidget, key: Qt.Key) -> None:
    qtbot.keyRelease(_focus(window), key)


def key_click(qtbot: QtBot, window: QWidget, key: Qt.Key) -> None:
    qtbot.keyClick(_focus(window), key)


def type_text(qtbot: QtBot, window: QWidget, text: str) -> None:
    """Type ``text`` where the focus is and press Enter."""
    qtbot.keyClicks(_focus(window), text)
    qtbot.keyClick(_focus(window), Qt.Key.Key_Return)


def _focus(window: QWidget) -> QWidget:
    focus = QApplication.focusWidget()
    if focus is not None and focus.window() is window:
        return focus
    return window


def write_settings(server: ScriptedServer) -> None:
    """A settings file pointing at ``server`` with speech output off (not a first run)."""
    settings = Settings()
    settings.provider.preset = "custom"
    settings.provider.kind = "openai"
    settings.provider.base_url = server.base_url("openai")
    settings.provider.model = "test-model"
    settings.audio.speech_output = False
    save_settings(settings)
