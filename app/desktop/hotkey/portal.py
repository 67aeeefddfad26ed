"""The Wayland backend: push-to-talk through the XDG desktop portal's GlobalShortcuts interface.

Wayland does not let an application watch the keyboard; instead the
application asks the desktop (KDE Plasma 6, GNOME 48+, Hyprland) to bind a
shortcut for it, and the desktop signals when it is pressed and released.
The conversation, over the D-Bus session bus, is the one the portal
specification describes:

1. ``Registry.Register("harken")`` (newer portals: who we are), then
   ``Properties.Get(GlobalShortcuts, "version")``: is the interface offered?
2. ``CreateSession`` → a ``Request`` object whose ``Response`` signal
   carries the session handle.
3. ``BindShortcuts(session, [("push-to-talk", {description,
   preferred_trigger})])`` → ``Response`` with the trigger the desktop
   actually assigned (the user may pick another one in its dialog).
4. ``Activated`` / ``Deactivated`` for our session and shortcut id go to a
   ``HoldDebouncer`` as press / release, as the X11 key events do.
5. ``ConfigureShortcuts`` (version 2) opens the desktop's own editor;
   ``ShortcutsChanged`` reports the new trigger.
6. ``Session.Close`` on quit or rebind (a session binds once, so a new
   hotkey setting means a new session).

It is asyncio code on the app's (qasync) loop, through ``jeepney``: Qt's own
QtDBus cannot be used from Python here because PySide6 cannot marshal the
``a(sa{sv})`` argument of ``BindShortcuts`` (it has no way to register the
struct type; libdbus aborts the process when it is tried). Every failure is
a ``PortalError`` whose text tells the user what happened and what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.asyncio import DBusRouter, open_dbus_router
from PySide6.QtCore import QObject, Signal

from app.desktop.controls.hold import HoldDebouncer
from app.desktop.hotkey.combo import portal_trigger

log = logging.getLogger(__name__)

PORTAL_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
REGISTRY = "org.freedesktop.host.portal.Registry"
APP_ID = "harken"  # the desktop file's name (packaging/harken.desktop)
SHORTCUT_ID = "push-to-talk"
DESCRIPTION = "Hold to talk to Harken"

ANSWER_TIMEOUT_S = 10.0  # a portal method call, or the Response of CreateSession
NO_PORTAL = (
    "Wayland does not let applications watch the keyboard, and the desktop portal "
    "(xdg-desktop-portal) is not running. Start it or install your desktop's portal package "
    "(xdg-desktop-portal-kde, -gnome or -hyprland); Space in the Harken window still works."
)
NO_INTERFACE = (
    "Wayland does not let applications watch the keyboard, and this desktop's portal does not "
    "offer global shortcuts (KDE Plasma 6, GNOME 48 and later, and Hyprland do). Use Space in "
    "the Harken window, or bind a key to it in your desktop's keyboard settings."
)


class PortalError(Exception):
    """The portal could not give Harken a global shortcut; ``str()`` is for the user."""


def session_bus_address(env: Mapping[str, str] | None = None) -> str | None:
    """The session bus: ``DBUS_SESSION_BUS_ADDRESS``, else systemd's ``$XDG_RUNTIME_DIR/bus``."""
    env = os.environ if env is None else env
    if env.get("DBUS_SESSION_BUS_ADDRESS"):
        return env["DBUS_SESSION_BUS_ADDRESS"]
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and (Path(runtime) / "bus").exists():
        return f"unix:path={Path(runtime) / 'bus'}"
    return None


def _plain(vardict: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    """jeepney's ``{key: (signature, value)}`` → ``{key: value}``."""
    return {key: value for key, (_sig, value) in vardict.items()}


class PortalHotkey(QObject):
    """One GlobalShortcuts session with one "push-to-talk" shortcut."""

    pressed = Signal()
    released = Signal()
    changed = Signal()  # the assigned trigger changed, or the session ended

    def __init__(
        self, hotkey: str, *, env: Mapping[str, str] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.preferred_trigger = portal_trigger(hotkey)  # HotkeyError for a bad setting
        self._env = env
        self.version = 0
        self.trigger = ""  # as the desktop describes it ("Ctrl+Alt+Space"), once bound
        self.session_handle = ""
        self.active = False
        self.debouncer = HoldDebouncer(self)
        self.debouncer.pressed.connect(self.pressed)
        self.debouncer.released.connect(self.released)
        self._router_cm: Any = None
        self._router: DBusRouter | None = None
        self._listener: asyncio.Task[None] | None = None
        self._signals: asyncio.Queue[Any] = asyncio.Queue()
        self._signal_filters: list[Any] = []

    @property
    def can_configure(self) -> bool:
        """The desktop can show its own editor for our shortcut (version 2 and later)."""
        return self.active and self.version >= 2

    # -- start ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, create a session and bind the shortcut; ``PortalError`` when it cannot."""
        address = session_bus_address(self._env)
        if address is None:
            raise PortalError(
                "There is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so the "
                "desktop portal cannot be asked for a global shortcut. Space in the Harken "
                "window still works."
            )
        try:
            self._router_cm = open_dbus_router(address)
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                self._router = await self._router_cm.__aenter__()
        except (OSError, ValueError, TimeoutError) as exc:
            self._router_cm = None
            raise PortalError(
                f"Could not connect to the D-Bus session bus at {address} ({exc}). Space in the "
                "Harken window still works."
            ) from exc
        await self._register()
        self.version = await self._version()
        await self._listen()
        created = await self._request("CreateSession", "a{sv}", lambda options: (options,))
        self.session_handle = str(created.get("session_handle", ""))
        if not self.session_handle:
            raise PortalError("The desktop portal created no session for the global shortcut.")
        shortcut = {
            "description": ("s", DESCRIPTION),
            "preferred_trigger": ("s", self.preferred_trigger),
        }
        bound = await self._request(
            "BindShortcuts",
            "oa(sa{sv})sa{sv}",
            lambda options: (self.session_handle, [(SHORTCUT_ID, shortcut)], "", options),
            timeout_s=None,  # the desktop may ask the user first; they take their time
        )
        self._take_shortcuts(bound.get("shortcuts", []))
        self.active = True
        log.info("portal shortcut bound: %s (portal version %d)", self.trigger, self.version)
        self.changed.emit()

    async def _register(self) -> None:
        """Tell the portal which application this is (``harken``, as in harken.desktop), so the
        desktop lists and stores the shortcut under Harken. Only newer portals (1.19+) know the
        host Registry; older ones work it out themselves, so an error here is not one."""
        msg = new_method_call(
            DBusAddress(PORTAL_PATH, PORTAL_NAME, REGISTRY), "Register", "sa{sv}", (APP_ID, {})
        )
        reply = await self._call(msg)
        if reply.header.message_type == MessageType.error:
            log.debug("portal registry: %s", reply.body)

    async def _version(self) -> int:
        msg = new_method_call(
            DBusAddress(PORTAL_PATH, PORTAL_NAME, "org.freedesktop.DBus.Properties"),
            "Get",
            "ss",
            (SHORTCUTS, "version"),
        )
        reply = await self._call(msg)
        if reply.header.message_type == MessageType.error:
            name = str(reply.header.fields.get(HeaderFields.error_name, ""))
            log.info("portal version query failed: %s %s", name, reply.body)
            if name.endswith(("ServiceUnknown", "NameHasNoOwner")):
                raise PortalError(NO_PORTAL)
            raise PortalError(NO_INTERFACE)
        _sig, version = reply.body[0]
        return int(version)

    async def _call(self, msg: Any, timeout_s: float | None = ANSWER_TIMEOUT_S) -> Any:
        assert self._router is not None
        try:
            async with asyncio.timeout(timeout_s):
                return await self._router.send_and_get_reply(msg)
        except TimeoutError as exc:
            raise PortalError(
                f"The desktop portal did not answer within {ANSWER_TIMEOUT_S:.0f} s. Space in the "
                "Harken window still works."
            ) from exc

    async def _add_match(self, rule: MatchRule) -> None:
        assert self._router is not None
        await self._call(message_bus.AddMatch(rule))

    async def _request(
        self,
        method: str,
        signature: str,
        body: Any,
        *,
        timeout_s: float | None = ANSWER_TIMEOUT_S,
    ) -> dict[str, Any]:
        """Call a portal method that answers through a Request object's ``Response`` signal.

        The Request's path is predicted from our unique name and a fresh token and
        subscribed to *before* the call, so the answer cannot arrive unheard."""
        router = self._router
        assert router is not None and router.unique_name is not None
        token = f"harken_{secrets.token_hex(6)}"
        sender = router.unique_name.lstrip(":").replace(".", "_")
        path = f"{PORTAL_PATH}/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
        await self._add_match(rule)
        options = {"handle_token": ("s", token)}
        if method == "CreateSession":
            options["session_handle_token"] = ("s", f"harken_{secrets.token_hex(6)}")
        queue: asyncio.Queue[Any] = asyncio.Queue()
        with router.filter(
            MatchRule(type="signal", interface=REQUEST, member="Response"), queue=queue
        ):
            msg = new_method_call(
                DBusAddress(PORTAL_PATH, PORTAL_NAME, SHORTCUTS), method, signature, body(options)
            )
            reply = await self._call(msg)
            if reply.header.message_type == MessageType.error:
                raise PortalError(
                    f"The desktop portal refused {method} ({reply.body[0] if reply.body else ''})."
                    " Space in the Harken window still works."
                )
            handles = {path, str(reply.body[0])}  # older portals may use another path
            if str(reply.body[0]) != path:
                await self._add_match(
                    MatchRule(
                        type="signal", interface=REQUEST, member="Response", path=reply.body[0]
                    )
                )
            try:
                async with asyncio.timeout(timeout_s):
                    while True:
                        answer = await queue.get()
                        if answer.header.fields.get(HeaderFields.path) in handles:
                            break
            except TimeoutError as exc:
                raise PortalError(
                    f"The desktop portal did not answer {method} within {timeout_s:.0f} s."
                ) from exc
        response, results = answer.body
        if response == 1:
            raise PortalError(
                "The global shortcut was declined in the desktop's dialog. Save the settings "
                "to be asked again; Space in the Harken window still works."
            )
        if response != 0:
            raise PortalError(
                f"The desktop refused the global shortcut ({method} ended with response "
                f"{response}). Space in the Harken window still works."
            )
        return _plain(results)

    def _take_shortcuts(self, shortcuts: list[tuple[str, Mapping[str, tuple[str, Any]]]]) -> None:
        for shortcut_id, info in shortcuts:
            if shortcut_id == SHORTCUT_ID:
                self.trigger = str(_plain(info).get("trigger_description", ""))

    # -- signals --------------------------------------------------------------------------------

    async def _listen(self) -> None:
        router = self._router
        assert router is not None
        rules = [
            MatchRule(type="signal", interface=SHORTCUTS, path=PORTAL_PATH),
            MatchRule(type="signal", interface=SESSION, member="Closed"),
        ]
        for rule in rules:
            await self._add_match(rule)
            handle = router.filter(rule, queue=self._signals)
            handle.__enter__()
            self._signal_filters.append(handle)
        self._listener = asyncio.get_running_loop().create_task(self._dispatch())

    async def _dispatch(self) -> None:
        while True:
            msg = await self._signals.get()
            try:
                self._signal(msg)
            except Exception:  # a malformed signal must not end the hotkey
                log.exception("unexpected portal signal: %s", msg)

    def _signal(self, msg: Any) -> None:
        member = msg.header.fields.get(HeaderFields.member)
        if member == "Closed":
            if msg.header.fields.get(HeaderFields.path) == self.session_handle:
                self._ended()
            return
        if not msg.body or msg.body[0] != self.session_handle:
            return  # another session's (or another app's) shortcut
        if member in ("Activated", "Deactivated") and msg.body[1] == SHORTCUT_ID:
            if member == "Activated":
                self.debouncer.down()
            else:
                self.debouncer.up()
        elif member == "ShortcutsChanged":
            self._take_shortcuts(msg.body[1])
            self.changed.emit()

    def _ended(self) -> None:
        log.info("the desktop closed the global shortcut session")
        self.active = False
        self.session_handle = ""
        self.debouncer.cancel()
        self.changed.emit()

    # -- configure and close -------------------------------------------------------------------

    async def configure(self) -> None:
        """Open the desktop's own editor for the shortcut (portal version 2 and later)."""
        if not self.can_configure:
            raise PortalError("This desktop's portal cannot show a shortcut editor (version < 2).")
        msg = new_method_call(
            DBusAddress(PORTAL_PATH, PORTAL_NAME, SHORTCUTS),
            "ConfigureShortcuts",
            "osa{sv}",
            (self.session_handle, "", {}),
        )
        reply = await self._call(msg)
        if reply.header.message_type == MessageType.error:
            raise PortalError(f"The desktop could not open its shortcut editor ({reply.body}).")

    async def close(self) -> None:
        """Close the session (the desktop drops the shortcut) and the bus connection."""
        self.debouncer.cancel()
        router, self._router = self._router, None
        if router is not None and self.session_handle:
            msg = new_method_call(DBusAddress(self.session_handle, PORTAL_NAME, SESSION), "Close")
            with contextlib.suppress(Exception):  # the bus may already be gone at logout
                async with asyncio.timeout(2.0):
                    await router.send_and_get_reply(msg)
        self.session_handle = ""
        self.active = False
        for handle in self._signal_filters:
            handle.__exit__(None, None, None)
        self._signal_filters.clear()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._router_cm is not None:
            cm, self._router_cm = self._router_cm, None
            with contextlib.suppress(Exception):
                await cm.__aexit__(None, None, None)
