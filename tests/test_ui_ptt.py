"""Push-to-talk: one press and one release per hold, whatever X11 auto-repeat sends."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.desktop.controls.hold import HoldDebouncer
from app.desktop.controls.ptt_button import HELD_TEXT, IDLE_TEXT, PushToTalkButton


class Recorder:
    def __init__(self, button: PushToTalkButton) -> None:
        self.log: list[str] = []
        button.pressed_to_talk.connect(lambda: self.log.append("press"))
        button.released_to_talk.connect(lambda: self.log.append("release"))


def make(qtbot: QtBot) -> tuple[PushToTalkButton, Recorder]:
    button = PushToTalkButton()
    qtbot.addWidget(button)
    button.show()
    button.setFocus()
    return button, Recorder(button)


def auto_repeat(button: PushToTalkButton, kind: QEvent.Type) -> None:
    event = QKeyEvent(kind, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " ", True)
    QApplication.sendEvent(button, event)


def test_holding_space_presses_once_and_releases_once(qtbot: QtBot) -> None:
    button, rec = make(qtbot)
    qtbot.keyPress(button, Qt.Key.Key_Space)
    assert rec.log == ["press"]
    assert button.held and button.text() == HELD_TEXT
    for _ in range(5):  # flagged auto-repeat is ignored
        auto_repeat(button, QEvent.Type.KeyRelease)
        auto_repeat(button, QEvent.Type.KeyPress)
    # Unflagged release/press pairs, as some X11 setups send them a few ms apart.
    for _ in range(3):
        qtbot.keyRelease(button, Qt.Key.Key_Space)
        qtbot.keyPress(button, Qt.Key.Key_Space)
    assert rec.log == ["press"], "an auto-repeat pair split the utterance"
    qtbot.keyRelease(button, Qt.Key.Key_Space)
    assert button.debouncer.release_pending
    with qtbot.waitSignal(button.released_to_talk, timeout=1000):
        pass  # the real 40 ms QTimer completes the release
    assert rec.log == ["press", "release"]
    assert not button.held and button.text() == IDLE_TEXT


def test_release_pending_can_be_completed_without_waiting(qtbot: QtBot) -> None:
    button, rec = make(qtbot)
    qtbot.keyPress(button, Qt.Key.Key_Space)
    qtbot.keyRelease(button, Qt.Key.Key_Space)
    assert rec.log == ["press"]
    button.debouncer.flush()
    assert rec.log == ["press", "release"]
    button.debouncer.flush()  # nothing pending: nothing happens
    assert rec.log == ["press", "release"]


def test_a_second_hold_after_the_gap_is_a_second_utterance(qtbot: QtBot) -> None:
    button, rec = make(qtbot)
    for _ in range(2):
        qtbot.keyPress(button, Qt.Key.Key_Space)
        qtbot.keyRelease(button, Qt.Key.Key_Space)
        button.debouncer.flush()
    assert rec.log == ["press", "release", "press", "release"]


def test_mouse_hold_releases_at_once(qtbot: QtBot) -> None:
    button, rec = make(qtbot)
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    assert rec.log == ["press"] and button.isDown()
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    assert rec.log == ["press", "release"] and not button.isDown()


def test_other_keys_and_modified_space_are_not_push_to_talk(qtbot: QtBot) -> None:
    button, rec = make(qtbot)
    qtbot.keyPress(button, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyPress(button, Qt.Key.Key_A)
    qtbot.keyRelease(button, Qt.Key.Key_A)
    assert rec.log == []


def test_cancel_releases_a_stuck_hold(qtbot: QtBot) -> None:
    button, rec = make(qtbot)
    qtbot.keyPress(button, Qt.Key.Key_Space)
    button.debouncer.cancel()  # what focus loss to another app does
    assert rec.log == ["press", "release"]
    qtbot.keyRelease(button, Qt.Key.Key_Space)  # the late key-up does not release twice
    button.debouncer.flush()
    assert rec.log == ["press", "release"]


def test_debouncer_down_while_held_is_ignored(qtbot: QtBot) -> None:
    d = HoldDebouncer()
    log: list[str] = []
    d.pressed.connect(lambda: log.append("p"))
    d.released.connect(lambda: log.append("r"))
    d.down()
    d.down()
    d.up(immediate=True)
    d.up(immediate=True)
    assert log == ["p", "r"]
