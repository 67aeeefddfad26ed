"""Settings → edit everything in ``Settings``, the API key (stored via ``app.config.secrets``), and
check the provider with "Fetch models" / "Test connection" without freezing the window.

The probes run as asyncio tasks on the Qt loop when qasync runs one (the
app), or in a worker thread with its own loop otherwise; either way the
result comes back on the GUI thread. ``saved`` carries a new ``Settings``;
the caller writes the file and applies it.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QVBoxLayout, QWidget

from app.config.audio_devices import Device, list_devices
from app.config.presets import AZURE_DEFAULT_API_VERSION, preset
from app.config.provider_probe import ProbeResult, check_connection, fetch_models
from app.config.secrets import endpoint
from app.config.settings import Settings
from app.desktop.settings.settings_pages import PRESET_NOTES, AudioPage, GeneralPage, ProviderPage
from app.desktop.window.theme import colors


class SettingsDialog(QDialog):
    saved = Signal(object)  # Settings
    probe_done = Signal(str, object)  # ("fetch" | "test", ProbeResult), on the GUI thread

    def __init__(
        self,
        settings: Settings,
        secrets: Any = None,
        *,
        hotkey_status: tuple[bool, str] | None = None,
        devices: Callable[[], list[Device]] | None = None,
        overridden: frozenset[str] = frozenset(),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Harken Settings")
        self.setMinimumWidth(560)
        self.original = settings
        self.secrets = secrets
        self.key_message: str | None = None
        # (preset id, endpoint) → key typed in this dialog; a key belongs to one base URL
        self._keys: dict[tuple[str, str], str] = {}
        self._slot = (settings.provider.preset, endpoint(settings.provider.base_url))
        self._shown = ""  # the stored key put in the field for ``_slot`` (to notice typing)
        self._tasks: set[asyncio.Task[None]] = set()
        self._threads: list[threading.Thread] = []
        self.provider = ProviderPage(self)
        self.audio = AudioPage(self)
        self.general = GeneralPage(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.provider, "&Provider")
        self.tabs.addTab(self.audio, "&Audio")
        self.tabs.addTab(self.general, "&General")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)

        self._fill(settings, devices or list_devices, hotkey_status, overridden)
        self.provider.preset.currentIndexChanged.connect(self._preset_changed)
        self.provider.base_url.editingFinished.connect(self._url_changed)
        self.provider.fetch.clicked.connect(self.fetch_models)
        self.provider.test.clicked.connect(self.test_connection)
        self.probe_done.connect(self._show_probe)
        self.finished.connect(self._cancel_probes)

    # -- filling and reading ----------------------------------------------------------------

    def _fill(
        self,
        s: Settings,
        devices: Callable[[], list[Device]],
        hotkey_status: tuple[bool, str] | None,
        overridden: frozenset[str],
    ) -> None:
        p = self.provider
        p.preset.setCurrentIndex(max(0, p.preset.findData(s.provider.preset)))
        p.base_url.setText(s.provider.base_url)
        p.model.setEditText(s.provider.model)
        p.api_version.setText(s.provider.api_version)
        self._show_key(self._slot)
        p.local.fill(s.local)
        self._update_kind()
        if overridden:
            p.override_note.setText(
                "This run uses environment variables or command-line flags for "
                f"{', '.join(sorted(overridden))}. They apply to this run only and are never "
                "saved; this dialog shows and saves your own settings."
            )
            p.override_note.show()
        a = self.audio
        a.set_devices(devices(), s.audio.input_device, s.audio.output_device)
        (a.hands_free if s.audio.input_mode == "hands_free" else a.push_to_talk).setChecked(True)
        a.barge_in.setChecked(s.audio.barge_in)
        a.hangover.setValue(s.audio.hangover_ms)
        a.adaptive_hangover.setChecked(s.audio.adaptive_hangover)
        a.hangover_min.setValue(s.audio.hangover_min_ms)
        a.hangover_max.setValue(s.audio.hangover_max_ms)
        a.hangover_min.setEnabled(s.audio.adaptive_hangover)
        a.hangover_max.setEnabled(s.audio.adaptive_hangover)
        a.whisper_model.setEditText(s.audio.whisper_model)
        a.speech_output.setChecked(s.audio.speech_output)
        a.voice.setCurrentIndex(max(0, a.voice.findData(s.audio.voice)))
        a.stt.fill(s.stt, self.secrets)
        g = self.general
        g.theme.setCurrentIndex(max(0, g.theme.findData(s.ui.theme)))
        g.show_latency.setChecked(s.ui.show_latency)
        g.close_to_tray.setChecked(s.ui.close_to_tray)
        g.system_prompt.setPlainText(s.agent.system_prompt)
        g.hotkey_enabled.setChecked(s.hotkey.enabled)
        g.hotkey.setText(s.hotkey.global_hotkey)
        if hotkey_status is not None and not hotkey_status[0]:
            g.hotkey_note.setText(f"The global hotkey is unavailable: {hotkey_status[1]}")
        else:
            g.hotkey_note.setText(
                "Hold the combination anywhere to talk; Space still works in this window."
            )
        g.clipboard_read.setChecked(s.tools.allow_clipboard_read)
        g.clipboard_write.setChecked(s.tools.allow_clipboard_write)

    def edited(self) -> Settings:
        """The settings as currently shown in the dialog."""
        s = copy.deepcopy(self.original)
        p = self.provider
        chosen = preset(str(p.preset.currentData()))
        s.provider.preset, s.provider.kind = chosen.id, chosen.kind
        s.provider.base_url = p.base_url.text().strip()
        s.provider.model = p.model.currentText().strip()
        s.provider.api_version = p.api_version.text().strip() if chosen.kind == "azure" else ""
        p.local.read(s.local)
        a = self.audio
        s.audio.input_device = str(a.input_device.currentData() or "")
        s.audio.output_device = str(a.output_device.currentData() or "")
        s.audio.input_mode = "hands_free" if a.hands_free.isChecked() else "push_to_talk"
        s.audio.barge_in = a.barge_in.isChecked()
        s.audio.hangover_ms = a.hangover.value()
        s.audio.adaptive_hangover = a.adaptive_hangover.isChecked()
        low, high = sorted((a.hangover_min.value(), a.hangover_max.value()))
        s.audio.hangover_min_ms, s.audio.hangover_max_ms = low, high
        s.audio.whisper_model = a.whisper_model.currentText().strip() or "bundled"
        s.audio.speech_output = a.speech_output.isChecked()
        s.audio.voice = str(a.voice.currentData())
        a.stt.read(s.stt)
        g = self.general
        s.ui.theme = str(g.theme.currentData())
        s.ui.show_latency = g.show_latency.isChecked()
        s.ui.close_to_tray = g.close_to_tray.isChecked()
        s.agent.system_prompt = g.system_prompt.toPlainText().strip()
        s.hotkey.enabled = g.hotkey_enabled.isChecked()
        s.hotkey.global_hotkey = g.hotkey.text().strip() or s.hotkey.global_hotkey
        s.tools.allow_clipboard_read = g.clipboard_read.isChecked()
        s.tools.allow_clipboard_write = g.clipboard_write.isChecked()
        return s

    def save(self) -> None:
        """Keys are saved for the preset and base URL they were entered with."""
        self._url_changed()
        settings = self.edited()
        self._remember_typed_key()
        if self.secrets is not None:
            for (preset_id, url), key in self._keys.items():
                if key != (self.secrets.get(preset_id, url) or ""):
                    message = self.secrets.set(preset_id, url, key)
                    self.key_message = message or self.key_message
            self.key_message = self.audio.stt.save_key() or self.key_message
        self.saved.emit(settings)
        self.accept()

    # -- provider page behaviour -----------------------------------------------------------

    def _stored_key(self, slot: tuple[str, str]) -> str:
        if slot in self._keys:
            return self._keys[slot]
        key = self.secrets.get(*slot) if self.secrets is not None else None
        if self.secrets is not None and self.secrets.message:
            self.provider.key_note.setText(self.secrets.message)
            self.provider.key_note.show()
        return key or ""

    def _show_key(self, slot: tuple[str, str]) -> None:
        self._slot = slot
        self._shown = self._stored_key(slot)
        self.provider.api_key.setText(self._shown)

    def _remember_typed_key(self) -> None:
        typed = self.provider.api_key.text().strip()
        if typed != self._shown:
            self._keys[self._slot] = typed

    def _url_changed(self) -> None:
        """A new base URL: a stored key stays with its own URL (the field shows the key saved
        for the new one, if any); a key the user typed here goes with the URL they give."""
        p = self.provider
        slot = (str(p.preset.currentData()), endpoint(p.base_url.text()))
        if slot == self._slot:
            return
        typed = p.api_key.text().strip()
        if typed != self._shown:
            self._keys.pop(self._slot, None)
            self._slot, self._shown = slot, self._stored_key(slot)
            p.api_key.setText(typed)
        else:
            self._show_key(slot)

    def _preset_changed(self) -> None:
        p = self.provider
        self._remember_typed_key()
        chosen = preset(str(p.preset.currentData()))
        p.base_url.setText(chosen.base_url)
        p.model.clear()
        p.model.setEditText(chosen.default_model)
        if chosen.kind == "azure" and not p.api_version.text():
            p.api_version.setText(AZURE_DEFAULT_API_VERSION)
        self._show_key((chosen.id, endpoint(chosen.base_url)))
        p.result.clear()
        self._update_kind()

    def _update_kind(self) -> None:
        p = self.provider
        chosen = preset(str(p.preset.currentData()))
        p.preset_note.setText(PRESET_NOTES.get(chosen.id, ""))
        azure = chosen.kind == "azure"
        p.api_version.setVisible(azure)
        p.api_version_label.setVisible(azure)
        p.show_local(chosen.kind == "local")
        p.base_url.setPlaceholderText(
            "https://<resource>.openai.azure.com"
            if azure
            else "https://api.anthropic.com"
            if chosen.kind == "anthropic"
            else "http://host:port/v1"
        )
        p.api_key.setPlaceholderText(
            "stored in the system keyring" if chosen.needs_key else "optional for local servers"
        )

    def fetch_models(self) -> None:
        self._probe("fetch", fetch_models)

    def test_connection(self) -> None:
        self._probe("test", check_connection)

    def _probe(self, which: str, probe: Callable[..., Coroutine[Any, Any, ProbeResult]]) -> None:
        self._url_changed()  # the key field holds the key for the URL being probed
        s = self.edited()
        key = self.provider.api_key.text().strip() or None
        args = (s.provider.kind, s.provider.base_url, key, s.provider.api_version or None)
        self.provider.result.setText("Checking…")
        self.provider.result.setStyleSheet("")
        self.provider.fetch.setEnabled(False)
        self.provider.test.setEnabled(False)

        async def run() -> None:
            self._deliver(which, await probe(*args))

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:  # qasync: a task on the Qt loop
            task = loop.create_task(run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:  # no loop on this thread (tests, or before qasync starts): a worker thread
            thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _deliver(self, which: str, result: ProbeResult) -> None:
        try:
            self.probe_done.emit(which, result)
        except RuntimeError:  # the dialog was deleted while the probe ran
            pass

    def _show_probe(self, which: str, result: ProbeResult) -> None:
        p = self.provider
        p.fetch.setEnabled(True)
        p.test.setEnabled(True)
        c = colors(self.palette())
        p.result.setStyleSheet(f"color: {(c.ok if result.ok else c.error_fg).name()};")
        p.result.setText(("✓ " if result.ok else "✗ ") + result.message)
        if result.ok and result.models:
            current = p.model.currentText()
            p.model.clear()
            p.model.addItems(list(result.models))
            p.model.setEditText(current or result.models[0])

    def _cancel_probes(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.audio.stt.cancel_test()
