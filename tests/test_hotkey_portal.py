"""Push-to-talk on Wayland through the desktop portal, against a real D-Bus.

Each test starts a private ``dbus-daemon --session`` and, on it, the fake
portal of ``tests.support.fake_portal`` (a separate process implementing
GlobalShortcuts as the specification describes it: Request objects and
their Response signal, session objects, Activated/Deactivated). The app's
real code runs on a qasync loop, as in ``harken``: ``build_desktop`` picks the
portal because the session looks like Wayland, registers, and gets the fake
portal's key events. (The
whole app holding a push-to-talk turn through the portal is in
``test_gui_portal_ptt.py``.)
"""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config.settings import Settings
from app.desktop.earcons import EarconPlayer
from app.desktop.hotkey.portal import NO_INTERFACE, NO_PORTAL
from app.desktop.wiring import Desktop, build_desktop
from tests.support.fake_portal import FakePortalClient
from tests.support.live_app import QtAsync
from tests.support.scripted_bridge import ScriptedBridge
from tests.support.session_bus import until_status

pytest_plugins = ["tests.support.live_app", "tests.support.session_bus"]


class SilentSoundDevice:
    def play(self, data: object, samplerate: int, device: object = None) -> None:
        pass


def desktop_for(qtbot: QtBot, bridge: ScriptedBridge, settings: Settings | None = None) -> Desktop:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    desktop = build_desktop(
        app, bridge, settings or Settings(), earcons=EarconPlayer(sounddevice=SilentSoundDevice())
    )
    qtbot.addWidget(desktop.window)
    return desktop


async def closed(desktop: Desktop) -> None:
    desktop.close()
    await desktop.wait_closed()


class Holds:
    """What reached the bridge from the hotkey."""

    def __init__(self, bridge: ScriptedBridge) -> None:
        self.log: list[str] = []
        self.changed = asyncio.Event()
        bridge.push_to_talk_press = lambda: self._add("press")  # type: ignore[method-assign]
        bridge.push_to_talk_release = lambda: self._add("release")  # type: ignore[method-assign]

    def _add(self, what: str) -> None:
        self.log.append(what)
        self.changed.set()

    async def until(self, n: int) -> list[str]:
        async with asyncio.timeout(5):
            while len(self.log) < n:
                self.changed.clear()
                await self.changed.wait()
        return self.log


@pytest.mark.parametrize("portal_flags", [["--assign", "Meta+F9"]])
def test_registers_with_the_preferred_trigger_and_shows_the_assigned_one(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient
) -> None:
    async def scenario() -> None:
        bridge = ScriptedBridge()
        holds = Holds(bridge)
        desktop = desktop_for(qtbot, bridge)
        hotkeys = desktop.hotkeys
        assert hotkeys is not None and hotkeys.backend == "portal"
        status = await until_status(hotkeys, lambda s: s.active, "the shortcut is bound")
        assert status.trigger == "Meta+F9"  # what the desktop assigned, not what was asked
        assert status.can_configure
        (register,) = fake_portal.calls("Register")
        assert register["body"] == ["harken", {}]  # who we are, first (harken.desktop)
        assert fake_portal.log()[0]["member"] == "Register"
        (bind,) = fake_portal.calls("BindShortcuts")
        session, shortcuts, _parent, options = bind["body"]
        (shortcut_id, info) = shortcuts[0]
        assert shortcut_id == "push-to-talk"
        assert info["preferred_trigger"] == ["s", "CTRL+ALT+space"]
        assert options["handle_token"][1].startswith("harken_")

        # Activated → press, Deactivated → release.
        assert fake_portal.press()
        assert await holds.until(1) == ["press"]
        fake_portal.release()
        assert await holds.until(2) == ["press", "release"]

        # The settings page shows what the desktop assigned, and that the hotkey is active.
        desktop.window.open_settings()
        page = desktop.window.settings_dialog.shortcuts
        assert page.state.text() == "✓ Active, through the desktop portal (Wayland)"
        assert page.trigger.text() == "Meta+F9"
        assert page.configure.isVisibleTo(page)
        desktop.window.settings_dialog.close()

        await closed(desktop)
        (close,) = fake_portal.calls("Close")
        assert close["path"] == session  # the session is closed on quit

    qt_async.run(scenario())


def test_a_key_repeat_through_the_portal_is_one_hold(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient
) -> None:
    async def scenario() -> None:
        bridge = ScriptedBridge()
        holds = Holds(bridge)
        desktop = desktop_for(qtbot, bridge)
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        await until_status(hotkeys, lambda s: s.active, "the shortcut is bound")
        # A release followed at once by another activation (a key repeat) is one hold, with
        # the same debounce as the X11 keyboard.
        for _ in range(3):
            fake_portal.press()
            fake_portal.release()
        # The desktop's Closed signal comes after every key signal: once it is seen, all of
        # them were delivered (and the hold is released).
        fake_portal.end_session()
        await until_status(hotkeys, lambda s: not s.active, "the session's end")
        assert holds.log == ["press", "release"]
        await closed(desktop)

    qt_async.run(scenario())


def test_change_opens_the_desktops_editor_and_shows_the_new_trigger(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient
) -> None:
    async def scenario() -> None:
        desktop = desktop_for(qtbot, ScriptedBridge())
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        await until_status(hotkeys, lambda s: s.active, "the shortcut is bound")
        desktop.window.open_settings()
        page = desktop.window.settings_dialog.shortcuts
        assert page.trigger.text() == "Ctrl+Alt+Space"
        page.configure.click()
        await until_status(hotkeys, lambda s: s.trigger == "Meta+F9", "the new trigger")
        assert page.trigger.text() == "Meta+F9"
        assert len(fake_portal.calls("ConfigureShortcuts")) == 1
        desktop.window.settings_dialog.close()
        await closed(desktop)

    qt_async.run(scenario())


@pytest.mark.parametrize("portal_flags", [["--version", "1"]])
def test_a_version_1_portal_has_no_change_button(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient
) -> None:
    async def scenario() -> None:
        desktop = desktop_for(qtbot, ScriptedBridge())
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        status = await until_status(hotkeys, lambda s: s.active, "the shortcut is bound")
        assert not status.can_configure and "Change" not in status.message
        desktop.window.open_settings()
        assert not desktop.window.settings_dialog.shortcuts.configure.isVisibleTo(
            desktop.window.settings_dialog
        )
        desktop.window.settings_dialog.close()
        await closed(desktop)

    qt_async.run(scenario())


def test_a_new_hotkey_setting_rebinds_in_a_new_session(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient
) -> None:
    async def scenario() -> None:
        desktop = desktop_for(qtbot, ScriptedBridge())
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        await until_status(hotkeys, lambda s: s.active, "the first binding")
        changed = Settings()
        changed.hotkey.global_hotkey = "<ctrl>+<shift>+h"
        desktop.window.settings_saved(changed)  # what Settings → Save calls
        await until_status(hotkeys, lambda s: s.trigger == "Ctrl+Shift+H", "the new binding")
        binds = fake_portal.calls("BindShortcuts")
        assert [b["body"][1][0][1]["preferred_trigger"][1] for b in binds] == [
            "CTRL+ALT+space",
            "CTRL+SHIFT+h",
        ]
        first_session = binds[0]["body"][0]
        assert [c["path"] for c in fake_portal.calls("Close")] == [first_session]
        desktop.window.settings_saved(changed)  # saved again, unchanged: no new session
        assert len(fake_portal.calls("CreateSession")) == 2
        await closed(desktop)

    qt_async.run(scenario())


@pytest.mark.parametrize(
    ("portal_flags", "says"),
    [
        (["--bind-response", "1"], "declined in the desktop's dialog"),
        (["--bind-response", "2"], "The desktop refused the global shortcut"),
        (["--no-interface"], NO_INTERFACE),
    ],
)
def test_a_refusing_portal_gives_a_clear_message(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient, says: str
) -> None:
    async def scenario() -> None:
        desktop = desktop_for(qtbot, ScriptedBridge())
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        status = await until_status(
            hotkeys, lambda s: not s.message.startswith("Asking"), "the portal's answer"
        )
        assert not status.active and says in status.message
        assert "Space in the Harken window" in status.message
        desktop.window.open_settings()
        page = desktop.window.settings_dialog.shortcuts
        assert page.state.text() == "Not available" and says in page.hotkey_note.text()
        desktop.window.settings_dialog.close()
        await closed(desktop)

    qt_async.run(scenario())


@pytest.mark.parametrize("portal_flags", [["--bind-response", "1"]])
def test_saving_the_settings_asks_again_after_a_decline(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient
) -> None:
    async def scenario() -> None:
        desktop = desktop_for(qtbot, ScriptedBridge())
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        await until_status(hotkeys, lambda s: "declined" in s.message, "the decline")
        assert "Save the settings to be asked again" in hotkeys.status.message
        desktop.window.settings_saved(Settings())  # Settings → Save, nothing changed
        assert hotkeys.starting and hotkeys.status.message.startswith("Asking")
        await until_status(hotkeys, lambda s: "declined" in s.message, "the second decline")
        assert len(fake_portal.calls("BindShortcuts")) == 2
        await closed(desktop)

    qt_async.run(scenario())


def test_no_portal_on_the_bus_says_what_to_do(
    qtbot: QtBot, qt_async: QtAsync, portal_env: str
) -> None:
    async def scenario() -> None:
        desktop = desktop_for(qtbot, ScriptedBridge())
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        status = await until_status(
            hotkeys, lambda s: not s.message.startswith("Asking"), "the bus's answer"
        )
        assert not status.active and status.message == NO_PORTAL
        await closed(desktop)

    qt_async.run(scenario())


def test_the_desktop_ending_the_session_is_shown(
    qtbot: QtBot, qt_async: QtAsync, fake_portal: FakePortalClient
) -> None:
    async def scenario() -> None:
        desktop = desktop_for(qtbot, ScriptedBridge())
        hotkeys = desktop.hotkeys
        assert hotkeys is not None
        await until_status(hotkeys, lambda s: s.active, "the shortcut is bound")
        fake_portal.end_session()
        status = await until_status(hotkeys, lambda s: not s.active, "the session's end")
        assert "ended the global shortcut session" in status.message
        await closed(desktop)

    qt_async.run(scenario())
