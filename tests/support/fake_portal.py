"""A small xdg-desktop-portal with the GlobalShortcuts interface, for tests, on a private bus.

    python -m tests.support.fake_portal --bus ADDRESS [--version 2] [--bind-response 0]
        [--assign "Ctrl+Alt+Space"] [--no-interface]

It owns ``org.freedesktop.portal.Desktop`` and implements, as the portal
specification describes them: the host ``Registry.Register`` (recorded,
nothing else); the ``version`` property; ``CreateSession``
and ``BindShortcuts`` answering through ``org.freedesktop.portal.Request``
objects (the handle is built from the caller's unique name and its
``handle_token``; the ``Response`` signal carries the results);
``ListShortcuts``; ``ConfigureShortcuts`` from version 2 (it "lets the user
pick" ``--configured`` and reports it with ``ShortcutsChanged``); and the
session object's ``Close``. ``--bind-response 1`` is a user who declines the
desktop's dialog, ``2`` a desktop that refuses; ``--no-interface`` is a
portal without GlobalShortcuts.

A test drives the user's keyboard through ``org.harken.test.FakePortal`` at
``/org/harken/test``: ``Press``/``Release`` emit ``Activated``/``Deactivated``
for the last bound session, ``EndSession`` closes it from the desktop's side,
``Log`` returns every call received as JSON. ``FakePortalClient`` wraps those.
It prints ``READY`` once it owns the name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MessageType,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
CONTROL_PATH = "/org/harken/test"
CONTROL = "org.harken.test.FakePortal"


class FakePortal:
    def __init__(self, conn: DBusConnection, args: argparse.Namespace) -> None:
        self.conn = conn
        self.args = args
        self.log: list[dict[str, Any]] = []
        self.sessions: dict[str, str] = {}  # session path → owner's unique name
        self.bound: dict[str, list[tuple[str, dict[str, Any]]]] = {}  # session → shortcuts
        self.last_session = ""

    def serve(self) -> None:
        while True:
            msg = self.conn.receive()
            if msg.header.message_type == MessageType.method_call:
                self.handle(msg)

    def handle(self, msg: Any) -> None:
        f = msg.header.fields
        iface, member, path = (
            f.get(HeaderFields.interface),
            f[HeaderFields.member],
            f[HeaderFields.path],
        )
        sender = f[HeaderFields.sender]
        self.log.append(
            {"interface": iface, "member": member, "path": path, "body": _json(msg.body)}
        )
        if iface == "org.freedesktop.DBus.Properties" and path == PATH:
            return self.properties(msg, member)
        if iface == SHORTCUTS and path == PATH and not self.args.no_interface:
            handler = getattr(self, f"do_{member}", None)
            if handler is not None and (member != "ConfigureShortcuts" or self.args.version >= 2):
                return handler(msg, sender)
        if iface == SESSION and path in self.sessions and member == "Close":
            self.sessions.pop(path)
            self.bound.pop(path, None)
            return self.conn.send(new_method_return(msg))
        if iface == "org.freedesktop.host.portal.Registry" and member == "Register":
            return self.conn.send(new_method_return(msg))
        if iface == CONTROL and path == CONTROL_PATH:
            return self.control(msg, member)
        self.conn.send(
            new_error(
                msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no {iface}.{member}",)
            )
        )

    def properties(self, msg: Any, member: str) -> None:
        iface = msg.body[0]
        if iface != SHORTCUTS or self.args.no_interface:
            self.conn.send(
                new_error(
                    msg,
                    "org.freedesktop.DBus.Error.InvalidArgs",
                    "s",
                    (f"No such interface “{iface}”",),
                )
            )
        elif member == "Get":
            self.conn.send(new_method_return(msg, "v", (("u", self.args.version),)))
        else:
            self.conn.send(
                new_method_return(msg, "a{sv}", ({"version": ("u", self.args.version)},))
            )

    # -- the Request pattern ----------------------------------------------------------------------

    def request(self, msg: Any, sender: str, options: dict[str, Any]) -> str:
        """Reply with the Request handle built from the caller's name and handle_token."""
        token = options.get("handle_token", ("s", f"t{len(self.log)}"))[1]
        handle = f"{PATH}/request/{_path_part(sender)}/{token}"
        self.conn.send(new_method_return(msg, "o", (handle,)))
        return handle

    def respond(self, handle: str, response: int, results: dict[str, Any]) -> None:
        self.conn.send(
            new_signal(
                DBusAddress(handle, interface=REQUEST), "Response", "ua{sv}", (response, results)
            )
        )

    # -- GlobalShortcuts --------------------------------------------------------------------------

    def do_CreateSession(self, msg: Any, sender: str) -> None:
        (options,) = msg.body
        handle = self.request(msg, sender, options)
        token = options.get("session_handle_token", ("s", f"s{len(self.log)}"))[1]
        session = f"{PATH}/session/{_path_part(sender)}/{token}"
        self.sessions[session] = sender
        self.respond(handle, 0, {"session_handle": ("s", session)})

    def do_BindShortcuts(self, msg: Any, sender: str) -> None:
        session, shortcuts, _parent, options = msg.body
        handle = self.request(msg, sender, options)
        if session not in self.sessions:
            return self.respond(handle, 2, {})
        if self.args.bind_response != 0:
            return self.respond(handle, self.args.bind_response, {})
        bound = []
        for shortcut_id, info in shortcuts:
            preferred = info.get("preferred_trigger", ("s", ""))[1]
            trigger = self.args.assign or _describe(preferred)
            bound.append(
                (
                    shortcut_id,
                    {"description": info["description"], "trigger_description": ("s", trigger)},
                )
            )
        self.bound[session] = bound
        self.last_session = session
        self.respond(handle, 0, {"shortcuts": ("a(sa{sv})", bound)})

    def do_ListShortcuts(self, msg: Any, sender: str) -> None:
        session, options = msg.body
        handle = self.request(msg, sender, options)
        self.respond(handle, 0, {"shortcuts": ("a(sa{sv})", self.bound.get(session, []))})

    def do_ConfigureShortcuts(self, msg: Any, sender: str) -> None:
        session, _parent, _options = msg.body
        self.conn.send(new_method_return(msg))
        bound = [
            (sid, {**info, "trigger_description": ("s", self.args.configured)})
            for sid, info in self.bound.get(session, [])
        ]
        self.bound[session] = bound
        self.conn.send(
            new_signal(
                DBusAddress(PATH, interface=SHORTCUTS),
                "ShortcutsChanged",
                "oa(sa{sv})",
                (session, bound),
            )
        )

    # -- the test's hand on the keyboard ----------------------------------------------------------

    def control(self, msg: Any, member: str) -> None:
        session = self.last_session
        if member in ("Press", "Release"):
            signal = "Activated" if member == "Press" else "Deactivated"
            stamp = int(time.monotonic() * 1000)
            for shortcut_id, _info in self.bound.get(session, []):
                self.conn.send(
                    new_signal(
                        DBusAddress(PATH, interface=SHORTCUTS),
                        signal,
                        "osta{sv}",
                        (session, shortcut_id, stamp, {}),
                    )
                )
            self.conn.send(new_method_return(msg, "b", (session in self.bound,)))
        elif member == "EndSession":
            self.sessions.pop(session, None)
            self.bound.pop(session, None)
            self.conn.send(
                new_signal(DBusAddress(session, interface=SESSION), "Closed", "a{sv}", ({},))
            )
            self.conn.send(new_method_return(msg))
        elif member == "Log":
            self.conn.send(new_method_return(msg, "s", (json.dumps(self.log),)))
        else:
            self.conn.send(
                new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))
            )


def _path_part(unique_name: str) -> str:
    return unique_name.lstrip(":").replace(".", "_")


def _describe(trigger: str) -> str:
    """``CTRL+ALT+space`` → ``Ctrl+Alt+Space``, the way desktops show a trigger."""
    names = {"CTRL": "Ctrl", "ALT": "Alt", "SHIFT": "Shift", "LOGO": "Meta"}
    return "+".join(
        names.get(part, part[:1].upper() + part[1:]) for part in trigger.split("+") if part
    )


def _json(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


class FakePortalClient:
    """The test's side: press and release the shortcut, read what the portal was asked."""

    def __init__(self, bus: str) -> None:
        self.conn = open_dbus_connection(bus=bus)
        self.address = DBusAddress(CONTROL_PATH, NAME, CONTROL)

    def _call(self, member: str) -> Any:
        reply = self.conn.send_and_get_reply(new_method_call(self.address, member), timeout=10)
        if reply.header.message_type == MessageType.error:
            raise RuntimeError(f"fake portal: {member} failed: {reply.body}")
        return reply.body

    def press(self) -> bool:
        return bool(self._call("Press")[0])

    def release(self) -> bool:
        return bool(self._call("Release")[0])

    def end_session(self) -> None:
        self._call("EndSession")

    def log(self) -> list[dict[str, Any]]:
        return list(json.loads(self._call("Log")[0]))

    def calls(self, member: str) -> list[dict[str, Any]]:
        return [c for c in self.log() if c["member"] == member]

    def close(self) -> None:
        self.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bus", required=True)
    parser.add_argument("--version", type=int, default=2)
    parser.add_argument("--bind-response", type=int, default=0)
    parser.add_argument("--assign", default="", help="the trigger the desktop assigns")
    parser.add_argument("--configured", default="Meta+F9", help="picked in ConfigureShortcuts")
    parser.add_argument("--no-interface", action="store_true")
    args = parser.parse_args()
    conn = open_dbus_connection(bus=args.bus)
    reply = conn.send_and_get_reply(message_bus.RequestName(NAME, 4), timeout=10)
    if reply.body != (1,):
        sys.exit(f"fake portal: could not own {NAME}: {reply.body}")
    print("READY", flush=True)
    FakePortal(conn, args).serve()


if __name__ == "__main__":
    main()
