"""The global push-to-talk hotkey as the app sees it: one object, whichever backend runs.

``HotkeyService`` picks the backend at start (``choice.choose``), starts it,
restarts it when the hotkey setting changes, and closes it on quit. Its
``status`` says, in one sentence for Settings → Shortcuts, whether the
hotkey is active, which trigger it has (for the portal: the one the desktop
assigned, which may differ from the one asked for), and, when it is off,
why and what to do. ``status_changed`` fires whenever that changes (the
portal answers asynchronously, and the desktop may rebind or close it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.config.settings import HotkeySettings
from app.desktop.hotkey.choice import Backend, choose
from app.desktop.hotkey.combo import HotkeyError
from app.desktop.hotkey.portal import PortalError, PortalHotkey
from app.desktop.hotkey.x11 import GlobalHotkey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HotkeyStatus:
    backend: Backend | str
    active: bool
    message: str  # one sentence for the settings page
    trigger: str = ""  # what to press: the desktop's description, or the setting
    can_configure: bool = False  # the desktop can show its own shortcut editor


OFF = HotkeyStatus("off", False, "The global hotkey is turned off.")


class HotkeyService(QObject):
    pressed = Signal()
    released = Signal()
    status_changed = Signal(object)  # HotkeyStatus

    def __init__(self, parent: QObject | None = None, env: Mapping[str, str] | None = None):
        super().__init__(parent)
        self._env = env
        self.choice = choose(env)
        self.status: HotkeyStatus = OFF
        self.x11: GlobalHotkey | None = None
        self.portal: PortalHotkey | None = None
        self._starting: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def backend(self) -> Backend:
        return self.choice.backend

    @property
    def starting(self) -> bool:
        """The desktop portal has not answered yet (it may be showing its dialog)."""
        return self._starting is not None and not self._starting.done()

    def apply(self, settings: HotkeySettings) -> None:
        """Start the hotkey for these settings, replacing whatever ran before."""
        self.stop()
        if not settings.enabled:
            self._set(OFF)
            return
        if self.choice.backend == "none":
            self._set(HotkeyStatus("none", False, self.choice.reason))
        elif self.choice.backend == "x11":
            self._start_x11(settings.global_hotkey)
        else:
            self._start_portal(settings.global_hotkey)

    def _start_x11(self, hotkey: str) -> None:
        try:
            backend = GlobalHotkey(hotkey, self)
        except HotkeyError as exc:
            self._set(HotkeyStatus("x11", False, str(exc)))
            return
        ok, reason = backend.start()
        if not ok:
            self._set(
                HotkeyStatus("x11", False, f"{reason} Space in the Harken window still works.")
            )
            return
        backend.pressed.connect(self.pressed)
        backend.released.connect(self.released)
        self.x11 = backend
        self._set(
            HotkeyStatus("x11", True, "Hold the combination anywhere to talk.", trigger=hotkey)
        )

    def _start_portal(self, hotkey: str) -> None:
        try:
            backend = PortalHotkey(hotkey, env=self._env, parent=self)
            loop = asyncio.get_running_loop()
        except HotkeyError as exc:
            self._set(HotkeyStatus("portal", False, str(exc)))
            return
        except RuntimeError:  # no event loop: only outside the app
            self._set(HotkeyStatus("portal", False, "The desktop portal needs the app's loop."))
            return
        backend.pressed.connect(self.pressed)
        backend.released.connect(self.released)
        backend.changed.connect(self._portal_changed)
        self.portal = backend
        self._set(
            HotkeyStatus(
                "portal",
                False,
                "Asking the desktop for the global shortcut… (it may show a dialog to confirm)",
            )
        )
        self._starting = loop.create_task(self._run_portal(backend))

    async def _run_portal(self, backend: PortalHotkey) -> None:
        try:
            await backend.start()
        except PortalError as exc:
            log.info("global hotkey off: %s", exc)
            await backend.close()
            if self.portal is backend:  # (said last: from now on a save may ask again)
                self._set(HotkeyStatus("portal", False, str(exc)))

    def _portal_changed(self) -> None:
        backend = self.portal
        if backend is None:
            return
        if backend.active:
            trigger = backend.trigger or "not set yet"
            self._set(
                HotkeyStatus(
                    "portal",
                    True,
                    "Hold the shortcut anywhere to talk. Your desktop decides the keys: change "
                    "them in its keyboard shortcut settings"
                    + (" or with the Change… button" if backend.can_configure else "")
                    + ".",
                    trigger=trigger,
                    can_configure=backend.can_configure,
                )
            )
        else:
            self._set(
                HotkeyStatus(
                    "portal",
                    False,
                    "The desktop ended the global shortcut session. Save the settings to ask "
                    "again; Space in the Harken window still works.",
                )
            )

    def configure(self) -> None:
        """Settings → Shortcuts → Change…: the desktop's own editor (portal version ≥ 2)."""
        backend = self.portal
        if backend is None or not backend.can_configure:
            return

        async def run() -> None:
            try:
                await backend.configure()
            except PortalError as exc:
                self._set(HotkeyStatus("portal", backend.active, str(exc), trigger=backend.trigger))

        task = asyncio.get_running_loop().create_task(run())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def stop(self) -> None:
        """Stop the backend; a portal session is closed in the background (``wait_closed``)."""
        if self.x11 is not None:
            self.x11.stop()
            self.x11 = None
        if self._starting is not None:
            self._starting.cancel()
            self._starting = None
        if self.portal is not None:
            backend, self.portal = self.portal, None
            backend.changed.disconnect(self._portal_changed)
            backend.debouncer.cancel()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # the loop is gone: the bus connection goes with the process
                return
            task = loop.create_task(backend.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def wait_closed(self) -> None:
        """After ``stop``: wait until the portal session is closed (on quit)."""
        while self._closing:
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._closing))

    def _set(self, status: HotkeyStatus) -> None:
        self.status = status
        self.status_changed.emit(status)
