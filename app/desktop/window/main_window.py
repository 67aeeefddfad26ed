"""The main window: conversation, history sidebar, talk controls, text box, status bar, menus.

It is built against the ``ControllerBridge`` interface only (an ``event``
signal plus command methods), renders every event it receives, and turns
the user's actions into bridge calls. It shows at once; the status bar says
while the speech models load. Space anywhere that is not a text field or a
button works as push-to-talk; Esc stops whatever is running.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.agent import events as ev
from app.config.presets import preset
from app.config.settings import ProviderSettings, Settings, SttSettings, save_settings
from app.desktop.controls.key_router import KeyRouter
from app.desktop.controls.level_meter import LevelMeter
from app.desktop.controls.message_box import MessageBox
from app.desktop.controls.ptt_button import PushToTalkButton
from app.desktop.controls.state_indicator import DisplayState, StateIndicator, StateTracker
from app.desktop.conversation.conversation_model import SETTINGS_LINK
from app.desktop.conversation.conversation_view import ConversationView
from app.desktop.conversation.history_sidebar import HistorySidebar
from app.desktop.window.icons import app_icon, icon
from app.desktop.window.menus import build_menus
from app.desktop.window.style import stylesheet
from app.desktop.window.theme import apply_theme

# The sidebar follows the history store. A conversation's first row is written when its
# first turn begins to run, just after TurnStarted, so FirstToken lists it while it streams.
_HISTORY_EVENTS = (
    ev.TurnStarted,
    ev.FirstToken,
    ev.TurnFinished,
    ev.TurnInterrupted,
    ev.TurnFailed,
)


class MainWindow(QMainWindow):
    def __init__(
        self,
        bridge: Any,
        settings: Settings,
        history_store: Any = None,
        *,
        secrets: Any = None,
        earcons: Any = None,
        hotkey_status: tuple[bool, str] | None = None,
        on_settings_saved: Callable[[Settings], None] | None = None,
        on_quit: Callable[[], None] | None = None,
        overridden: frozenset[str] = frozenset(),
        parent: QWidget | None = None,
    ) -> None:
        """``settings``: the saved (file's) settings, the only ones the window writes;
        ``overridden``: what the environment or flags set for this run (never saved)."""
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings
        self.overridden = overridden
        self.history = history_store
        self.secrets = secrets
        self.earcons = earcons
        self.hotkey_status = hotkey_status
        self.on_settings_saved = on_settings_saved
        self.on_quit = on_quit
        self.tray: Any = None  # set by app.desktop.window.tray.Tray
        self.models_ready = False
        self.settings_dialog: Any = None
        self._offers: list[Any] = []
        self._quitting = False
        self.setWindowTitle("Harken")
        self.setWindowIcon(app_icon())
        self.resize(1100, 760)

        self.tracker = StateTracker(self, loading=True)
        self._build()
        self.menus = build_menus(self)
        self.stop_action = self.menus.stop
        self.latency_action = self.menus.latency
        bridge.event.connect(self.handle_event)
        if hasattr(bridge, "history_written"):  # rows saved off the GUI thread
            bridge.history_written.connect(self._sync_history)
        self.tracker.changed.connect(self._state_changed)
        self._state_changed(self.tracker.state)
        self.keys = KeyRouter(self, self.ptt, self.show_about)
        self.apply_settings(settings, initial=True)
        self.status_label.setText("Loading speech models…")
        self.message_box.setFocus()

    # -- layout ---------------------------------------------------------------------------------

    def _build(self) -> None:
        self.view = ConversationView(self)
        self.view.settings_requested.connect(self.open_settings)
        self.view.link_activated.connect(self._link)
        self.indicator = StateIndicator(self.tracker, self)
        self.meter = LevelMeter(self)
        self.meter.setFixedHeight(8)
        self.ptt = PushToTalkButton(self)
        self.ptt.pressed_to_talk.connect(self.bridge.push_to_talk_press)
        self.ptt.released_to_talk.connect(self.bridge.push_to_talk_release)
        self.hands_free = QPushButton(icon("hands-free"), "Hands-free", self)
        self.hands_free.setObjectName("handsFree")
        self.hands_free.setCheckable(True)
        self.hands_free.setAccessibleName("Hands-free listening")
        self.hands_free.setToolTip("Listen all the time and answer when you stop talking")
        self.hands_free.toggled.connect(self._hands_free_toggled)
        self.stop_button = QPushButton(icon("stop"), "Stop", self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.clicked.connect(self.stop)
        self.message_box = MessageBox(self)
        self.message_box.submitted.connect(self._submit)
        self.send_button = QPushButton(icon("send"), "", self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName("Send message")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.clicked.connect(self.message_box.submit)
        for button in (self.hands_free, self.stop_button, self.send_button):
            button.setMinimumHeight(40)
        self.ptt.setMinimumHeight(52)
        self.hands_free.setMinimumHeight(52)
        self.stop_button.setMinimumHeight(52)

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
        controls = QWidget(self)
        controls.setObjectName("controls")
        box = QVBoxLayout(controls)
        box.setContentsMargins(16, 10, 16, 14)
        box.setSpacing(10)
        box.addLayout(meter_row)
        box.addLayout(text_row)
        box.addLayout(talk_row)

        main = QWidget(self)
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.setSpacing(0)
        main_layout.addWidget(self.view, 1)
        main_layout.addWidget(controls)

        self.sidebar: HistorySidebar | None = None
        self.splitter = QSplitter(self)
        self.splitter.setChildrenCollapsible(False)
        if self.history is not None:
            self.sidebar = HistorySidebar(self.history, self)
            self.sidebar.open_requested.connect(self.open_conversation)
            self.sidebar.new_requested.connect(self.new_conversation)
            self.sidebar.deleted.connect(self._deleted)
            self.sidebar.failed.connect(lambda text: self.show_status(f"⚠ {text}"))
            self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(main)
        self.splitter.setStretchFactor(self.splitter.count() - 1, 1)
        if self.sidebar is not None:
            self.splitter.setSizes([260, 840])
        self.setCentralWidget(self.splitter)

        self.status_label = QLabel(self)
        self.status_label.setAccessibleName("Status")
        self.model_label = QLabel(self)
        self.model_label.setObjectName("modelLabel")
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.model_label)
        self.setTabOrder(self.message_box, self.send_button)
        self.setTabOrder(self.send_button, self.ptt)
        self.setTabOrder(self.ptt, self.hands_free)
        self.setTabOrder(self.hands_free, self.stop_button)
        self.setTabOrder(self.stop_button, self.view)

    # -- events from the controller -------------------------------------------------------------

    def handle_event(self, event: object) -> None:
        self.tracker.handle_event(event)
        self.view.handle_event(event)
        if isinstance(event, ev.InputLevel):
            self.meter.handle_event(event)
        elif isinstance(event, ev.Status):
            self.show_status(event.text)
        elif isinstance(event, ev.ErrorEvent):
            self.show_status(f"⚠ {event.message}", timeout_ms=0)
        elif isinstance(event, ev.Ready):
            self.models_ready = True
            self.model_label.setText(f"Speech: {event.stt_model}" if event.stt_model else "")
            how = (
                "Just start talking."
                if self.hands_free.isChecked()
                else "Hold Space or the Talk button and speak."
            )
            self.show_status(f"Ready. {how}")
        elif isinstance(event, ev.FalseInterruption):
            self.show_status("Didn't catch any words, so the reply carries on.", timeout_ms=3000)
        elif isinstance(event, ev.TurnFailed):
            self.show_status(f"⚠ {event.message}", timeout_ms=0)
        if isinstance(event, _HISTORY_EVENTS):
            self._sync_history()

    def show_status(self, text: str, *, timeout_ms: int = 8000) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        self._status_serial += 1
        serial = self._status_serial
        if timeout_ms:
            QTimer.singleShot(timeout_ms, self, lambda: self._clear_status(serial))

    def _clear_status(self, serial: int) -> None:
        if serial == self._status_serial:
            self.status_label.setText("")

    _last_state = DisplayState.IDLE
    _status_serial = 0

    def _state_changed(self, state: DisplayState) -> None:
        busy = state not in (DisplayState.LOADING, DisplayState.IDLE, DisplayState.LISTENING)
        self.stop_button.setEnabled(busy)
        self.stop_action.setEnabled(True)
        if self.earcons is not None:
            if state == DisplayState.LISTENING:
                self.earcons.play("start")
            elif self._last_state == DisplayState.LISTENING:
                self.earcons.play("stop")
        self._last_state = state

    # -- user actions ---------------------------------------------------------------------------

    def stop(self) -> None:
        self.bridge.stop()

    def _submit(self, text: str) -> None:
        self.bridge.submit_text(text)

    def focus_message_box(self) -> None:
        self.message_box.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _hands_free_toggled(self, on: bool) -> None:
        self.ptt.setEnabled(not on)
        self.ptt.setText("Hands-free: just talk" if on else "Hold to talk")
        self.bridge.set_hands_free(on)

    def set_hands_free(self, on: bool) -> None:
        self.hands_free.setChecked(on)

    def new_conversation(self) -> None:
        self.bridge.new_conversation()
        self.view.clear_conversation()
        if self.sidebar is not None:
            self.sidebar.set_current(None)
        self.show_status("New conversation.", timeout_ms=3000)

    def open_conversation(self, conversation_id: int) -> None:
        if self.history is None:
            return
        self.bridge.open_conversation(conversation_id)
        self.view.load(self.history.messages(conversation_id))
        if self.sidebar is not None:
            self.sidebar.set_current(conversation_id)

    def _deleted(self, conversation_id: int) -> None:
        if getattr(self.bridge, "conversation_id", None) == conversation_id:
            self.new_conversation()

    def _sync_history(self) -> None:
        if self.sidebar is None:
            return
        self.sidebar.refresh()
        current = getattr(self.bridge, "conversation_id", None)
        if current is not None:
            self.sidebar.set_current(current)

    def toggle_latency(self) -> None:
        self.settings.ui.show_latency = self.latency_action.isChecked()
        self.view.set_show_latency(self.settings.ui.show_latency)
        self._save()

    def open_settings(self) -> None:
        from app.desktop.settings.settings_dialog import SettingsDialog

        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        dialog = SettingsDialog(
            self.settings,
            self.secrets,
            hotkey_status=self.hotkey_status,
            overridden=self.overridden,
            parent=self,
        )
        dialog.saved.connect(self.settings_saved)
        self.settings_dialog = dialog
        dialog.open()

    def settings_saved(self, settings: Settings) -> None:
        self.apply_settings(settings)
        self._save()
        if self.on_settings_saved is not None:
            self.on_settings_saved(settings)
        self.show_status("Settings saved.", timeout_ms=3000)

    def apply_settings(self, settings: Settings, *, initial: bool = False) -> None:
        self.settings = settings
        self.view.set_show_latency(settings.ui.show_latency)
        self.latency_action.setChecked(settings.ui.show_latency)
        app = QApplication.instance()
        if isinstance(app, QApplication) and (not initial or app.property("harken_scheme") is None):
            apply_theme(app, settings.ui.theme)
        self.setStyleSheet(stylesheet(self.palette()))
        hands_free = settings.audio.input_mode == "hands_free"
        if initial or hands_free != self.hands_free.isChecked():
            self.hands_free.blockSignals(True)
            self.hands_free.setChecked(hands_free)
            self.hands_free.blockSignals(False)
            self._hands_free_toggled(hands_free)

    def _save(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.show_status(f"⚠ Could not save settings: {exc}", timeout_ms=0)

    def show_offers(self, offers: Sequence[Any]) -> None:
        """First run: offer what ``first_run.detect`` found, each with a "Use it" link."""
        self._offers = list(offers)
        if not self._offers:
            self.view.add_notice(
                "Harken needs a language model to answer. Choose a provider and enter its "
                "key in Settings, or start Ollama or LM Studio on this computer.",
                link=("Open Settings", SETTINGS_LINK),
            )
        for i, offer in enumerate(self._offers):
            self.view.add_notice(f"Found {offer.label}.", link=("Use it", f"harken:offer:{i}"))

    def use_offer(self, index: int) -> None:
        offer = self._offers[index]
        settings = copy.deepcopy(self.settings)
        model = offer.models[0] if offer.models else preset(offer.preset).default_model
        if offer.kind == "stt":  # a transcription server: speech recognition, not replies
            settings.stt = SttSettings(mode="server", url=offer.base_url, model=model)
        else:
            settings.provider = ProviderSettings(
                preset=offer.preset, kind=offer.kind, base_url=offer.base_url, model=model
            )
        self.settings_saved(settings)
        self.show_status(f"Now using {offer.label}.", timeout_ms=6000)

    def _link(self, href: str) -> None:
        if href.startswith("harken:offer:"):
            self.use_offer(int(href.rsplit(":", 1)[1]))

    def show_about(self) -> None:
        from app.desktop.window.about import about_box

        box = about_box(self)
        box.open()

    def quit(self) -> None:
        self._quitting = True
        if self.on_quit is not None:
            self.on_quit()
        else:
            QApplication.quit()

    # -- Qt overrides ---------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        tray = self.tray
        if (
            not self._quitting
            and self.settings.ui.close_to_tray
            and tray is not None
            and tray.available()
        ):
            self.ptt.debouncer.cancel()
            self.hide()
            tray.notify_hidden()
            event.ignore()
            return
        event.accept()
        if not self._quitting:
            self.quit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.setStyleSheet(stylesheet(self.palette()))
            for button, name in (
                (self.hands_free, "hands-free"),
                (self.stop_button, "stop"),
                (self.send_button, "send"),
            ):
                button.setIcon(icon(name))
        elif event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow():
            self.ptt.debouncer.cancel()  # the key release will go to another app
