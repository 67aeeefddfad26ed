"""The desktop app's start-up and shutdown: Qt + qasync, settings, history, window.

The window is shown at once; the speech models load in the background and
their progress is a status, never a frozen window. Quitting (the Quit menu,
the tray, or SIGTERM/SIGINT from a logout or a terminal) cancels the running
turn through the same path as Stop (the conversation is saved as it happens,
so nothing is lost). ``HARKEN_DEBUG_DUMP`` turns on ``app.desktop.conversation.debug_dump``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from app.config import paths
from app.config.logging_setup import setup_logging
from app.config.overrides import flag_overrides
from app.runtime.shutdown import SHUTDOWN_DEADLINE_S, close_all, exit_watchdog

log = logging.getLogger(__name__)
T = TypeVar("T")


class DesktopSession:
    """Owns the components for the window's lifetime and follows settings changes.

    ``saved`` is what the settings file holds: only what the user chose in the window.
    ``resolved`` is ``saved`` with the environment and the flags laid over it, in memory,
    for this run; it is never written (the window edits and saves ``saved``)."""

    def __init__(
        self,
        args: argparse.Namespace,
        *,
        transcriber: Any = None,
        microphone_factory: Callable[[str | int | None], Any] | None = None,
    ) -> None:
        """``transcriber`` and ``microphone_factory`` go to ``build_components`` (tests
        hand in a loaded model and a fake microphone); by default both are built."""
        from app.config.secrets import SecretStore
        from app.config.settings import load_settings, saved_base_urls, settings_path
        from app.desktop.bridge import ControllerBridge
        from app.runtime.composition import RuntimeOptions, build_components
        from app.runtime.history_store import HistoryError, HistoryStore

        self.args = args
        self.messages: list[str] = []
        self.first_run = not settings_path().exists()
        loaded = load_settings()
        self.messages.extend(loaded.messages)
        self.saved = loaded.settings
        self.secrets = SecretStore(saved_base_urls=saved_base_urls(loaded.settings))
        self.resolved = self._resolve(loaded.settings, report=True)
        try:
            self.history: Any = HistoryStore()
            if self.history.notice:
                self.messages.append(self.history.notice)
        except HistoryError as exc:
            self.messages.append(f"{exc} Conversations will not be saved this time.")
            self.history = None
        self.bridge = ControllerBridge()
        options = RuntimeOptions.from_settings(
            self.resolved.settings, self._provider_config(), self._stt_config()
        )
        self._check_base_url(options.provider)
        self.components = build_components(
            options,
            emit=self.bridge.publish,
            transcriber=transcriber,
            microphone_factory=microphone_factory,
        )
        self.bridge.attach(self.components, self.history)
        self.desktop: Any = None  # the window, tray and hotkey, once ``_main`` shows them

    def _resolve(self, saved: Any, *, report: bool = False) -> Any:
        """The saved settings with the environment and flags laid over them (never saved)."""
        from app.config.overlay import OverrideError, resolve

        try:
            return resolve(saved, os.environ, flag_overrides(self.args))
        except OverrideError as exc:
            if report:
                self.messages.append(str(exc))
            return resolve(saved, os.environ, {})

    def effective(self, saved: Any) -> Any:
        """What this run uses for ``saved`` settings (for the window's earcons and the like)."""
        return self._resolve(saved).settings

    def _provider_config(self) -> Any:
        from app.config.provider_config import provider_config

        p = self.resolved.settings.provider
        return provider_config(self.resolved, self.secrets.get(p.preset, p.base_url))

    def _check_base_url(self, config: Any) -> None:
        """A base URL that is not a URL is said at start-up, not at the first turn."""
        from app.config.base_url import base_url_problem

        problem = base_url_problem(config.base_url) if config.kind != "local" else None
        if problem:
            self.messages.append(f"{problem[0].upper()}{problem[1:]}. Open Settings → Provider.")

    def _stt_config(self) -> Any:
        """The transcription server, or None; a bad URL is reported and local Whisper used."""
        from app.config.provider_config import ConfigError
        from app.config.stt_config import stt_config

        try:
            return stt_config(self.resolved.settings, self.secrets, os.environ)
        except ConfigError as exc:
            self.messages.append(f"{exc}. Speech is transcribed on this computer for now.")
            return None

    def settings_saved(self, settings: Any) -> None:
        """Settings → Save: apply what changed without restarting."""
        from app.runtime.composition import RuntimeOptions, live_options

        self.saved = settings
        self.resolved = self._resolve(settings)
        old = self.components.options
        new = RuntimeOptions.from_settings(
            self.resolved.settings, self._provider_config(), self._stt_config()
        )
        self.components.options = new
        self.components.reconfigure_provider(new.provider)
        if new.stt != old.stt:
            self.components.reconfigure_stt(new.stt)
        controller = self.components.controller
        controller.barge_in = new.barge_in
        controller.phrases = new.phrases
        controller.settings.system_prompt = new.system_prompt
        controller.settings.permissions = new.permissions
        self.components.pump.segmenter.hangover_s = new.hangover_s
        if self.components.pump.live is not None:
            self.components.pump.live.configure(live_options(new))
        if self.components.pump.held is not None:
            self.components.pump.held.enabled = new.speculation
        self.components.speech.set_enabled(new.speech_output)
        if (new.input_device, new.whisper_model, new.echo_cancellation) != (
            old.input_device,
            old.whisper_model,
            old.echo_cancellation,
        ):
            if new.whisper_model != old.whisper_model:
                self.messages.append("The new Whisper model is used after a restart.")
            self.bridge.restart_capture()


def run_gui(args: argparse.Namespace) -> int:
    setup_logging(verbose=args.verbose, log_dir=paths.log_dir())
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("harken")
    app.setOrganizationName("Harken")
    from app.desktop.single_instance import claim_or_activate

    lock = claim_or_activate()
    if lock is None:
        print("Harken is already running; its window was brought forward.", file=sys.stderr)
        return 0
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        code = run_on(loop, _main(app, args))
    finally:
        close_loop(loop)
        lock.release()
    exit_watchdog(code)
    return code


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Close a qasync loop and free its Qt timer object here, on the GUI thread.

    qasync's ``close()`` only marks its timer object stopped: timers still pending stay
    registered with Qt until they fire. If the garbage collector later frees that object
    on another thread (any worker thread can run a collection), Qt cannot unregister them
    ("Timers cannot be stopped from another thread") and the next timer event reaches
    freed memory — a crash seen when one process runs several loops, as the tests do.
    """
    loop.close()
    timer = getattr(loop, "_timer", None)
    if timer is not None:
        import shiboken6

        if shiboken6.isValid(timer):
            shiboken6.delete(timer)  # its timers are unregistered with it, on this thread


def run_on(loop: asyncio.AbstractEventLoop, main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on the qasync ``loop`` as ``asyncio.run`` would run it on its own loop.

    qasync installs no async-generator hooks, so an async generator abandoned mid-iteration
    (an httpx stream cut off by a cancel) would be finalized by the garbage collector outside
    the loop and its cleanup would fail ("Exception ignored … NoEventLoopError"). asyncio's
    hooks are installed while ``main`` runs, and generators still open are closed at the end.
    """
    hooks = sys.get_asyncgen_hooks()
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:  # any asyncio.BaseEventLoop has them
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            sys.set_asyncgen_hooks(*hooks)


async def _main(app: Any, args: argparse.Namespace, session: DesktopSession | None = None) -> int:
    """Show the window and run until the user quits; ``session`` may be built by the caller."""
    from app.desktop.clipboard import QtClipboard
    from app.desktop.conversation.debug_dump import install_debug_dump
    from app.desktop.wiring import build_desktop

    if session is None:
        session = DesktopSession(args)
    session.components.controller.clipboard = QtClipboard()
    done = asyncio.Event()

    async def shutdown() -> None:
        """Whatever fails on the way (logged), ``done`` is set: the app always exits."""
        history = session.history
        try:
            await close_all(
                [
                    ("portal", desktop.wait_closed),  # the portal session closes with the app
                    ("session", session.bridge.shutdown),
                    ("history", history.close if history is not None else lambda: None),
                ],
                SHUTDOWN_DEADLINE_S + 2.0,  # the bridge gives the microphone task 2 s
            )
        finally:
            done.set()

    tasks: set[asyncio.Task[None]] = set()

    def quit_app() -> None:
        if tasks:
            return  # already quitting
        task = asyncio.get_running_loop().create_task(shutdown())
        tasks.add(task)
        try:
            desktop.close()
        except Exception:
            log.exception("closing the window failed; quitting anyway")

    desktop = build_desktop(
        app,
        session.bridge,
        session.saved,
        history=session.history,
        secrets=session.secrets,
        overridden=session.resolved.overridden,
        effective=session.effective,
        startup_messages=session.messages,
        on_settings_saved=session.settings_saved,
        on_quit=quit_app,
    )
    session.desktop = desktop
    install_debug_dump(desktop.window, os.environ.get("HARKEN_DEBUG_DUMP"))
    from app.desktop.single_instance import InstanceServer

    def bring_forward() -> None:
        desktop.window.showNormal()
        desktop.window.raise_()
        desktop.window.activateWindow()

    instance = InstanceServer(bring_forward)
    app.setQuitOnLastWindowClosed(False)

    def about_to_quit() -> None:
        if not done.is_set():
            quit_app()

    app.aboutToQuit.connect(about_to_quit)
    loop = asyncio.get_running_loop()
    handled = _quit_on_signals(loop, quit_app)
    starting = loop.create_task(session.bridge.start())
    try:
        from app.config.first_run import detect, provider_given

        if session.first_run and not provider_given(session.resolved):
            try:
                desktop.window.show_offers(await detect())
            except Exception:  # detection is a courtesy; never block start-up on it
                log.exception("first-run detection failed")
        await done.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        app.aboutToQuit.disconnect(about_to_quit)  # the app object outlives this window
        starting.cancel()
        instance.close()
    return 0


def _quit_on_signals(loop: asyncio.AbstractEventLoop, quit_app: Callable[[], None]) -> list[int]:
    """SIGTERM (logout, ``kill``) and SIGINT (Ctrl+C) quit like the Quit menu does."""
    handled: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, quit_app)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not main thread
            continue
        handled.append(signum)
    return handled
