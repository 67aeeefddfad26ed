"""Settings → Audio → Speech recognition: on this computer, or on a transcription server.

The server's URL (with /v1), model and API key, and a *Test* button that
sends the bundled sample through the server (``app.selftest.stt_server``)
off the GUI thread — an asyncio task on the Qt loop when qasync runs one,
else a worker thread — and shows the words and the time. The key is kept
in the keyring under the server's URL (``app.config.stt_config``): editing
the URL shows the key saved for the new URL, which is none until one is saved.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.config.settings import SttSettings
from app.config.stt_config import KEY_PRESET, SttConfig, check_url
from app.desktop.window.theme import colors

PLACEHOLDER_URL = "http://localhost:8000/v1"


class SpeechRecognitionGroup(QGroupBox):
    tested = Signal(object)  # SttProbe, on the GUI thread

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Speech recognition", parent)
        self.secrets: Any = None
        self.local = QRadioButton("On this &computer (Whisper, works offline)", self)
        self.server = QRadioButton("O&n a server (OpenAI-compatible transcription API)", self)
        self.url = QLineEdit(self)
        self.url.setPlaceholderText(PLACEHOLDER_URL)
        self.model = QLineEdit(self)
        self.model.setPlaceholderText("whisper-1")
        self.api_key = QLineEdit(self)
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("optional; stored in the keyring for this URL only")
        self.test = QPushButton("&Test", self)
        self.result = QLabel(self)
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget, name in (
            (self.local, "Speech recognition on this computer"),
            (self.server, "Speech recognition on a server"),
            (self.url, "Transcription server URL"),
            (self.model, "Transcription model"),
            (self.api_key, "Transcription server API key"),
            (self.test, "Test the transcription server"),
            (self.result, "Transcription server test result"),
        ):
            widget.setAccessibleName(name)
        self._tasks: set[asyncio.Task[None]] = set()
        self._threads: list[threading.Thread] = []
        self._key_url = ""  # the URL whose stored key the key field shows

        form = QFormLayout()
        form.addRow("&URL:", self.url)
        form.addRow("Mo&del:", self.model)
        form.addRow("API ke&y:", self.api_key)
        row = QHBoxLayout()
        row.addWidget(self.test)
        row.addWidget(self.result, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.local)
        layout.addWidget(self.server)
        layout.addLayout(form)
        layout.addLayout(row)
        hint = QLabel(
            "With a server, the live preview stays on this computer and the final words come "
            "from the server; if it fails or is slow, this computer transcribes instead.",
            self,
        )
        hint.setWordWrap(True)
        hint.setProperty("hint", True)
        layout.addWidget(hint)
        self.server.toggled.connect(self._update_enabled)
        self.url.editingFinished.connect(self._url_edited)
        self.test.clicked.connect(self.run_test)
        self.tested.connect(self._show_result)

    # -- filling and reading -----------------------------------------------------------------

    def fill(self, stt: SttSettings, secrets: Any) -> None:
        self.secrets = secrets
        (self.server if stt.mode == "server" else self.local).setChecked(True)
        self.url.setText(stt.url)
        self.model.setText(stt.model)
        self._key_url = stt.url.strip()
        self.api_key.setText(self._stored_key(self._key_url))
        self._update_enabled()

    def read(self, stt: SttSettings) -> None:
        stt.mode = "server" if self.server.isChecked() else "local"
        stt.url = self.url.text().strip()
        stt.model = self.model.text().strip() or "whisper-1"

    def save_key(self) -> str | None:
        """Store the key shown for the URL shown; returns a message when it could only be
        kept in memory."""
        url = self.url.text().strip()
        key = self.api_key.text().strip()
        if self.secrets is None or not url or key == self._stored_key(url):
            return None
        result: str | None = self.secrets.set(KEY_PRESET, url, key)
        return result

    def config(self) -> SttConfig:
        return SttConfig(
            url=self.url.text().strip(),
            model=self.model.text().strip() or "whisper-1",
            api_key=self.api_key.text().strip() or None,
        )

    def _stored_key(self, url: str) -> str:
        if self.secrets is None or not url:
            return ""
        return str(self.secrets.get(KEY_PRESET, url) or "")

    def _url_edited(self) -> None:
        url = self.url.text().strip()
        if url != self._key_url:  # the key is bound to the URL: show the new URL's key
            self._key_url = url
            self.api_key.setText(self._stored_key(url))

    def _update_enabled(self) -> None:
        on = self.server.isChecked()
        for widget in (self.url, self.model, self.api_key, self.test):
            widget.setEnabled(on)

    # -- the Test button ---------------------------------------------------------------------

    def run_test(self) -> None:
        problem = check_url(self.url.text())
        if problem:
            self._show(False, problem[0].upper() + problem[1:] + ".")
            return
        config = self.config()
        self.test.setEnabled(False)
        self.result.setStyleSheet("")
        self.result.setText("Transcribing the test sample on the server…")

        async def run() -> None:
            from app.selftest.stt_server import probe_server

            probe = await probe_server(config)
            try:
                self.tested.emit(probe)
            except RuntimeError:  # the dialog was closed meanwhile
                pass

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = loop.create_task(run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
            self._threads.append(thread)
            thread.start()

    def cancel_test(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _show_result(self, probe: Any) -> None:
        self.test.setEnabled(self.server.isChecked())
        self._show(probe.ok, probe.message)

    def _show(self, ok: bool, message: str) -> None:
        c = colors(self.palette())
        self.result.setStyleSheet(f"color: {(c.ok if ok else c.error_fg).name()};")
        self.result.setText(("✓ " if ok else "✗ ") + message)
