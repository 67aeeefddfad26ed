"""The main window against a scripted bridge: keys, buttons, history, status bar, settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.config.settings import Settings, load_settings
from app.desktop.settings.settings_dialog import SettingsDialog
from app.desktop.window.main_window import MainWindow
from app.runtime.history_store import HistoryStore
from tests.support.scripted_bridge import ScriptedBridge, failed_turn, typed_turn, voice_turn


class Earcons:
    """Records what would be played (there is no sound card here)."""

    def __init__(self) -> None:
        self.played: list[str] = []

    def play(self, name: str) -> None:
        self.played.append(name)


@pytest.fixture
def store() -> Iterator[HistoryStore]:
    s = HistoryStore()
    yield s
    s.close()


@pytest.fixture
def bridge(store: HistoryStore) -> ScriptedBridge:
    return ScriptedBridge(store)


@pytest.fixture
def quits() -> list[str]:
    return []


@pytest.fixture
def window(
    qtbot: QtBot, bridge: ScriptedBridge, store: HistoryStore, quits: list[str]
) -> MainWindow:
    w = MainWindow(bridge, Settings(), store, earcons=Earcons(), on_quit=lambda: quits.append("q"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    bridge.calls.clear()
    return w


def test_escape_and_stop_button_stop(
    qtbot: QtBot, window: MainWindow, bridge: ScriptedBridge
) -> None:
    qtbot.keyClick(window.message_box, Qt.Key.Key_Escape)
    assert bridge.names() == ["stop"]
    assert not window.stop_button.isEnabled()  # nothing running
    bridge.emit_all([ev.StateChanged(state=ev.State.THINKING)])
    assert window.stop_button.isEnabled()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert bridge.names() == ["stop", "stop"]


def test_enter_sends_and_shift_enter_adds_a_line(
    qtbot: QtBot, window: MainWindow, bridge: ScriptedBridge
) -> None:
    box = window.message_box
    box.setFocus()
    qtbot.keyClicks(box, "hello")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "world")
    assert bridge.names() == []
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert bridge.calls == [("submit_text", ("hello\nworld",))]
    assert box.toPlainText() == ""
    qtbot.keyClick(box, Qt.Key.Key_Return)  # empty: nothing is sent
    qtbot.keyClicks(box, "again")
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert bridge.calls[-1] == ("submit_text", ("again",))


def test_space_is_push_to_talk_except_where_it_types(
    qtbot: QtBot, window: MainWindow, bridge: ScriptedBridge
) -> None:
    window.view.setFocus()
    qtbot.keyPress(window.view, Qt.Key.Key_Space)
    qtbot.keyRelease(window.view, Qt.Key.Key_Space)
    qtbot.keyPress(window.view, Qt.Key.Key_Space)  # an unflagged auto-repeat pair
    qtbot.keyRelease(window.view, Qt.Key.Key_Space)
    window.ptt.debouncer.flush()
    assert bridge.names() == ["push_to_talk_press", "push_to_talk_release"]
    box = window.message_box
    box.setFocus()
    qtbot.keyPress(box, Qt.Key.Key_Space)  # an empty box has no use for a space: talk
    qtbot.keyRelease(box, Qt.Key.Key_Space)
    window.ptt.debouncer.flush()
    assert box.toPlainText() == ""
    assert bridge.names() == ["push_to_talk_press", "push_to_talk_release"] * 2
    qtbot.keyClicks(box, "hi")
    qtbot.keyClick(box, Qt.Key.Key_Space)  # once there is text, Space types
    assert box.toPlainText() == "hi "
    assert len(bridge.calls) == 4


def test_ptt_button_and_hands_free(
    qtbot: QtBot, window: MainWindow, bridge: ScriptedBridge
) -> None:
    qtbot.mousePress(window.ptt, Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(window.ptt, Qt.MouseButton.LeftButton)
    assert bridge.names() == ["push_to_talk_press", "push_to_talk_release"]
    qtbot.mouseClick(window.hands_free, Qt.MouseButton.LeftButton)
    assert bridge.calls[-1] == ("set_hands_free", (True,))
    assert not window.ptt.isEnabled()
    window.hands_free.setChecked(False)
    assert bridge.calls[-1] == ("set_hands_free", (False,))
    assert window.ptt.isEnabled()


def test_events_reach_the_view_indicator_meter_status_and_earcons(
    window: MainWindow, bridge: ScriptedBridge
) -> None:
    assert window.status_label.text() == "Loading speech models…"
    bridge.emit_all([ev.Ready(stt_model="tiny.en (bundled)")])
    assert window.model_label.text() == "Speech: tiny.en (bundled)"
    assert window.status_label.text().startswith("Ready")
    bridge.emit_all(voice_turn(1, "hello there", "Hi!"))
    window.view.flush()
    assert "🎙 “hello there”" in window.view.toPlainText()
    assert window.indicator.label.text() == "Ready"
    assert window.earcons.played == ["start", "stop"]
    bridge.emit_all([ev.InputLevel(normalised=0.95)])
    assert window.meter.level == pytest.approx(0.95)
    bridge.emit_all([ev.Status(text="Retrying in 2 s…")])
    assert window.status_label.text() == "Retrying in 2 s…"
    bridge.emit_all([ev.ErrorEvent(kind="microphone", message="The microphone was unplugged.")])
    assert "The microphone was unplugged." in window.status_label.text()
    bridge.emit_all(failed_turn(2, "again"))
    assert "rejected (401)" in window.status_label.text()


def test_history_sidebar_new_switch_rename_delete_search(
    qtbot: QtBot, window: MainWindow, bridge: ScriptedBridge, store: HistoryStore
) -> None:
    sidebar = window.sidebar
    assert sidebar is not None
    bridge.emit_all(voice_turn(1, "Plan a trip to Lisbon", "Start in Alfama."))
    first = bridge.conversation_id
    assert first is not None
    assert sidebar.list.count() == 1
    assert sidebar.list.currentItem().text() == "Plan a trip to Lisbon"

    qtbot.keyClick(window.message_box, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert bridge.names()[-1] == "new_conversation"
    assert window.view.toPlainText().strip() == ""
    bridge.emit_all(typed_turn(2, "Write a haiku about rain", "Soft rain on the roof."))
    second = bridge.conversation_id
    assert second != first
    assert [sidebar.list.item(i).text() for i in range(2)] == [
        "Write a haiku about rain",
        "Plan a trip to Lisbon",
    ]

    older = sidebar.list.item(1)
    qtbot.mouseClick(
        sidebar.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=sidebar.list.visualItemRect(older).center(),
    )
    assert bridge.calls[-1] == ("open_conversation", (first,))
    assert "Start in Alfama." in window.view.toPlainText()
    assert "haiku" not in window.view.toPlainText()

    sidebar.list.setCurrentItem(older)
    older.setText("Lisbon plans")  # what the inline editor does on F2 / double-click
    assert store.get(first).title == "Lisbon plans"  # type: ignore[union-attr]

    sidebar.search.setText("haiku")
    assert sidebar.list.count() == 1
    sidebar.search.setText("alfama")  # message text matches too
    assert sidebar.list.item(0).text() == "Lisbon plans"
    sidebar.search.clear()

    sidebar.list.setCurrentItem(sidebar.list.item(1))
    qtbot.keyClick(sidebar.list, Qt.Key.Key_Delete)
    box = sidebar._confirm
    qtbot.waitUntil(box.isVisible, timeout=2000)
    box.button(QMessageBox.StandardButton.Yes).click()
    assert [c.id for c in store.list_conversations()] == [second]
    assert sidebar.list.count() == 1
    assert bridge.names()[-1] == "new_conversation"  # the open one was deleted


def test_settings_shortcut_opens_the_dialog_and_saving_applies(
    qtbot: QtBot, window: MainWindow
) -> None:
    bridge_events = voice_turn(1, "hi", "Hello.")
    window.bridge.emit_all(bridge_events)
    window.view.flush()
    assert "first token" in window.view.toPlainText()
    qtbot.keyClick(window.message_box, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.settings_dialog
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=2000)
    dialog.general.show_latency.setChecked(False)
    dialog.audio.barge_in.setChecked(False)
    dialog.save()
    assert "first token" not in window.view.toPlainText()
    assert not window.latency_action.isChecked()
    saved = load_settings().settings
    assert saved.ui.show_latency is False and saved.audio.barge_in is False


def test_quit_and_close(qtbot: QtBot, window: MainWindow, quits: list[str]) -> None:
    qtbot.keyClick(window.message_box, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert quits == ["q"]


def test_close_without_tray_quits(window: MainWindow, quits: list[str]) -> None:
    assert window.settings.ui.close_to_tray  # on, but there is no tray here
    window.close()
    assert quits == ["q"]


def test_help_opens_about(qtbot: QtBot, window: MainWindow) -> None:
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F1)
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    assert any(b.isVisible() and "Harken" in b.text() for b in boxes)
    for b in boxes:
        b.close()


def test_controls_have_accessible_names(window: MainWindow) -> None:
    for widget in (
        window.ptt,
        window.hands_free,
        window.stop_button,
        window.send_button,
        window.message_box,
        window.view,
        window.meter,
        window.indicator,
    ):
        assert widget.accessibleName(), widget
