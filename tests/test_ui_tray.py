"""Tray: icon and tooltip follow the state; menu actions work; closing can hide to the tray."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.config.settings import Settings
from app.desktop.window.main_window import MainWindow
from app.desktop.window.tray import Tray
from tests.support.scripted_bridge import ScriptedBridge


@pytest.fixture
def setup(qtbot: QtBot) -> tuple[MainWindow, Tray, ScriptedBridge, list[str]]:
    bridge = ScriptedBridge()
    quits: list[str] = []
    window = MainWindow(bridge, Settings(), None, on_quit=lambda: quits.append("q"))
    qtbot.addWidget(window)
    tray = Tray(window)
    window.show()
    bridge.calls.clear()
    return window, tray, bridge, quits


def test_tooltip_and_icon_follow_the_state(
    setup: tuple[MainWindow, Tray, ScriptedBridge, list[str]],
) -> None:
    window, tray, bridge, _ = setup
    assert tray.tooltip == "Harken: Loading models…"
    bridge.emit_all([ev.Ready(stt_model="tiny.en")])
    assert tray.tooltip == "Harken: Ready"
    idle_icon = tray.icon.icon().cacheKey()
    bridge.emit_all([ev.StateChanged(state=ev.State.LISTENING)])
    assert tray.tooltip == "Harken: Listening…"
    assert tray.icon.icon().cacheKey() != idle_icon
    bridge.emit_all([ev.StateChanged(state=ev.State.REPLYING), ev.TtsStarted(turn_id=1)])
    assert tray.tooltip == "Harken: Speaking…"
    bridge.emit_all([ev.TurnFailed(turn_id=1, kind="network", message="x")])
    assert tray.tooltip == "Harken: Ready"


def test_menu_actions(setup: tuple[MainWindow, Tray, ScriptedBridge, list[str]]) -> None:
    window, tray, bridge, quits = setup
    assert [a.text() for a in tray.menu.actions() if a.text()] == [
        "Hide Harken",
        "Push to talk",
        "Hands-free",
        "Quit Harken",
    ]
    tray.talk_action.trigger()
    assert bridge.names() == ["push_to_talk_press"]
    assert tray.talk_action.text() == "Stop and send" and tray.talk_action.isChecked()
    tray.talk_action.trigger()
    assert bridge.names() == ["push_to_talk_press", "push_to_talk_release"]

    tray.hands_free_action.trigger()
    assert bridge.calls[-1] == ("set_hands_free", (True,))
    assert window.hands_free.isChecked() and not tray.talk_action.isEnabled()
    window.hands_free.setChecked(False)  # the window's toggle updates the tray's
    assert not tray.hands_free_action.isChecked()

    tray.show_action.trigger()
    assert not window.isVisible()
    tray.menu.aboutToShow.emit()
    assert tray.show_action.text() == "Show Harken"
    tray.show_action.trigger()
    assert window.isVisible()

    tray.quit_action.trigger()
    assert quits == ["q"]


def test_close_hides_to_tray_when_available_and_enabled(
    setup: tuple[MainWindow, Tray, ScriptedBridge, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    window, tray, _, quits = setup
    # There is no system tray under the offscreen platform; pretend the desktop has one.
    monkeypatch.setattr(tray, "available", lambda: True)
    window.close()
    assert not window.isVisible() and quits == []
    window.show()
    window.settings.ui.close_to_tray = False
    window.close()
    assert quits == ["q"]
