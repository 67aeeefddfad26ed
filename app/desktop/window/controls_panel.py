"""The talk controls under the conversation: state and level, the text box, Talk, Hands-free, Stop.

``ControlsPanel`` builds and lays out the widgets; the window connects them
to the bridge and keeps references to the ones it drives (``ptt``,
``hands_free``, ``stop_button``, ``message_box``…).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.desktop.controls.level_meter import LevelMeter
from app.desktop.controls.message_box import MessageBox
from app.desktop.controls.ptt_button import PushToTalkButton
from app.desktop.controls.state_indicator import StateIndicator, StateTracker
from app.desktop.window.icons import icon


class ControlsPanel(QWidget):
    def __init__(self, tracker: StateTracker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("controls")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # "#controls" in style.py
        self.indicator = StateIndicator(tracker, self)
        self.meter = LevelMeter(self)
        self.meter.setFixedHeight(8)
        self.ptt = PushToTalkButton(self)
        self.hands_free = self._button("hands-free", "Hands-free", "handsFree")
        self.hands_free.setCheckable(True)
        self.hands_free.setAccessibleName("Hands-free listening")
        self.hands_free.setToolTip("Listen all the time and answer when you stop talking")
        self.stop_button = self._button("stop", "Stop", "stopButton")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.message_box = MessageBox(self)
        self.send_button = self._button("send", "", "sendButton")
        self.send_button.setAccessibleName("Send message")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.clicked.connect(self.message_box.submit)
        self.send_button.setMinimumHeight(40)
        for button in (self.ptt, self.hands_free, self.stop_button):
            button.setMinimumHeight(52)

        meter_row = QHBoxLayout()
        meter_row.setSpacing(12)
        meter_row.addWidget(self.indicator)
        meter_row.addWidget(self.meter, 1)
        talk_row = QHBoxLayout()
        talk_row.setSpacing(8)
        talk_row.addWidget(self.ptt, 1)
        talk_row.addWidget(self.hands_free)
        talk_row.addWidget(self.stop_button)
        text_row = QHBoxLayout()
        text_row.setSpacing(8)
        text_row.addWidget(self.message_box, 1)
        text_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        box = QVBoxLayout(self)
        box.setContentsMargins(16, 10, 16, 14)
        box.setSpacing(10)
        box.addLayout(meter_row)
        box.addLayout(text_row)
        box.addLayout(talk_row)

    def _button(self, icon_name: str, text: str, object_name: str) -> QPushButton:
        button = QPushButton(icon(icon_name), text, self)
        button.setObjectName(object_name)
        button.setProperty("icon_name", icon_name)
        return button

    def refresh_icons(self) -> None:
        """The palette changed: redraw the line icons in the new text colour."""
        for button in (self.hands_free, self.stop_button, self.send_button):
            button.setIcon(icon(str(button.property("icon_name"))))
