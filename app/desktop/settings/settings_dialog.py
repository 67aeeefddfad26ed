"""Settings → edit everything in ``Settings``, the API key (stored via ``app.config.secrets``), and
check the provider with "Fetch models" / "Test connection" without freezing the window.

The probes run as asyncio tasks on the Qt loop when qasync runs one (the
app), or in a worker thread with its own loop otherwise; either way the
result comes back on the GUI thread. Each page fills and reads its own
fields; ``saved`` carries a new ``Settings``, and the caller writes the file
and applies it. ``hotkeys`` (the window's ``HotkeyService``) keeps the
Shortcuts page's status live and opens the desktop's shortcut editor.
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
from app.desktop.settings.audio_page import AudioPage
from app.desktop.settings.general_page import GeneralPage
from app.desktop.settings.provider_page import ProviderPage
from app.desktop.settings.shortcuts_page import ShortcutsPage
from app.desktop.window.theme import colors


class SettingsDialog(QDialog):
    saved = Signal(object)  # Settings
    probe_done = Signal(str, object)  # ("fetch" | "test", ProbeResult), on the GUI thread

    def __init__(
        self,
        settings: Settings,
        secrets: Any = None,
        *,
        hotkeys: Any = None,
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
        self.shortcuts = ShortcutsPage(self)
        self.general = GeneralPage(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.provider, "&Provider")
        self.tabs.addTab(self.audio, "&Audio")
        self.tabs.addTab(self.shortcuts, "&Shortcuts")
        self.tabs.addTab(self.general, "&General")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)

        self.provider.fill(settings)
        self._show_key(self._slot)
        self.provider.show_overridden(overridden)
        self.audio.fill(settings, (devices or list_devices)())
        self.audio.stt.fill(settings.stt, self.secrets)
        self.shortcuts.fill(settings, hotkeys.status if hotkeys is not None else None)
        self.general.fill(settings)
        if hotkeys is not None:
            hotkeys.status_changed.connect(self.shortcuts.show_status)
            self.shortcuts.configure_requested.connect(hotkeys.configure)
        self.provider.preset.currentIndexChanged.connect(self._preset_changed)
        self.provider.base_url.editingFinished.connect(self._url_changed)
        self.provider.fetch.clicked.connect(self.fetch_models)
        self.provider.test.clicked.connect(self.test_connection)
        self.probe_done.connect(self._show_probe)
        self.finished.connect(self._cancel_probes)

    # -- filling and reading (each page fills and reads its own fields) ---------------------

    def edited(self) -> Settings:
        """The settings as currently shown in the dialog."""
        s = copy.deepcopy(self.original)
        for page in (self.provider, self.audio, self.shortcuts, self.general):
            page.read(s)
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
        p.update_kind()

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
