"""The big press-and-hold push-to-talk button.

Mouse press/release and Space (while it, or the window, has focus) start
and stop recording. Auto-repeat is ignored twice over: flagged repeat events
are dropped, and unflagged release/press pairs are merged by ``HoldDebouncer``.
The button never emits ``clicked``; it emits ``pressed_to_talk`` and
``released_to_talk`` exactly once per hold.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from app.desktop.controls.hold import HoldDebouncer
from app.desktop.window.icons import icon

IDLE_TEXT = "Hold to talk"
HELD_TEXT = "Listening… release to send"


class PushToTalkButton(QPushButton):
    pressed_to_talk = Signal()
    released_to_talk = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(IDLE_TEXT, parent)
        self.debouncer = HoldDebouncer(self)
        self.debouncer.pressed.connect(self._on_pressed)
        self.debouncer.released.connect(self._on_released)
        self.setObjectName("pttButton")
        self.setAccessibleName("Push to talk")
        self.setAccessibleDescription("Hold the mouse button or the Space key while you speak.")
        self.setToolTip("Hold (mouse or Space) while you speak")
        self.setIcon(icon("mic"))
        self.setIconSize(QSize(22, 22))
        self.setMinimumHeight(52)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCheckable(False)
        self.setProperty("held", False)

    @property
    def held(self) -> bool:
        return self.debouncer.held

    # -- keyboard: Space ----------------------------------------------------------------

    def key_down(self, event: QKeyEvent) -> bool:
        """Handle a Space press (also called by the window for Space anywhere); True if used."""
        if (
            event.key() != Qt.Key.Key_Space
            or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            return False
        if not event.isAutoRepeat():
            self.debouncer.down()
        return True

    def key_up(self, event: QKeyEvent) -> bool:
        if event.key() != Qt.Key.Key_Space:
            return False
        if not event.isAutoRepeat():
            self.debouncer.up()
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.key_down(event):
            event.accept()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if self.key_up(event):
            event.accept()
        else:
            super().keyReleaseEvent(event)

    # -- mouse ----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.debouncer.down()
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.debouncer.up(immediate=True)
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        # Switching to another app mid-hold: its key release will never reach us, so
        # release now rather than leave the microphone open.
        if event.reason() == Qt.FocusReason.ActiveWindowFocusReason:
            self.debouncer.cancel()
        super().focusOutEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.setIcon(icon("mic"))

    # -- state ------------------------------------------------------------------------------

    def _on_pressed(self) -> None:
        self.setDown(True)
        self._set_held(True)
        self.pressed_to_talk.emit()

    def _on_released(self) -> None:
        self.setDown(False)
        self._set_held(False)
        self.released_to_talk.emit()

    def _set_held(self, held: bool) -> None:
        self.setText(HELD_TEXT if held else IDLE_TEXT)
        self.setProperty("held", held)
        self.style().unpolish(self)
        self.style().polish(self)
