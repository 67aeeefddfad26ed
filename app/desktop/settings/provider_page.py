"""Settings → Provider: preset, base URL, model, API key, and the local model's file.

The page fills itself from ``Settings`` and reads itself back; the dialog
keeps the per-preset keys (typed but not yet saved) and runs the probes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.config.presets import PRESETS, preset
from app.config.settings import Settings
from app.desktop.settings.local_model_page import LocalModelGroup
from app.desktop.settings.widgets import hint, named

PRESET_NOTES = {
    "openai": "OpenAI's API. Get a key at platform.openai.com → API keys.",
    "anthropic": "Anthropic's Messages API (the base URL has no /v1). Keys: console.anthropic.com.",
    "azure": "Your Azure OpenAI resource endpoint; the model is your deployment's name.",
    "ollama": "Ollama's OpenAI-compatible API on this computer. No key needed.",
    "lmstudio": "LM Studio's local server (Developer tab → Start server). No key needed.",
    "llamacpp": "llama.cpp's llama-server. No key needed; the model is the one it loaded.",
    "local": "A GGUF model run inside Harken by llama.cpp: replies stay on this computer.",
    "custom": "Any OpenAI-compatible server (vLLM, Groq, OpenRouter…): its URL ends in /v1.",
}


class ProviderPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset = QComboBox(self)
        for p in PRESETS:
            self.preset.addItem(p.label, p.id)
        self.base_url = QLineEdit(self)
        self.base_url.setPlaceholderText("https://…/v1")
        self.model = QComboBox(self)
        self.model.setEditable(True)
        self.model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        model_edit = self.model.lineEdit()
        if model_edit is not None:
            model_edit.setPlaceholderText("model name (Azure: deployment name)")
        self.api_version = QLineEdit(self)
        self.api_version.setPlaceholderText("2024-10-21")
        self.api_key = QLineEdit(self)
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("stored in the system keyring")
        self.show_key = QToolButton(self)
        self.show_key.setText("Show")
        self.show_key.setCheckable(True)
        self.show_key.setAccessibleName("Show API key")
        self.show_key.toggled.connect(
            lambda on: self.api_key.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.show_key)
        self.fetch = QPushButton("Fetch models", self)
        self.test = QPushButton("Test connection", self)
        self.result = QLabel(self)
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Connection result")
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.fetch)
        buttons.addWidget(self.test)
        buttons.addStretch(1)
        self.preset_note = hint("", self)
        self.key_note = hint("", self)
        self.key_note.hide()
        self.override_note = hint("", self)
        self.override_note.hide()
        self.local = LocalModelGroup(self)

        self.form = form = QFormLayout()
        form.addRow("&Provider:", named(self.preset, "Provider preset"))
        form.addRow("&Base URL:", named(self.base_url, "Base URL"))
        form.addRow("&Model:", named(self.model, "Model"))
        self.api_version_label = QLabel("API &version:", self)
        self.api_version_label.setBuddy(self.api_version)
        form.addRow(self.api_version_label, named(self.api_version, "Azure API version"))
        key_label = QLabel("API &key:", self)
        key_label.setBuddy(self.api_key)
        form.addRow(key_label, key_row)
        self.key_row = key_row
        named(self.api_key, "API key")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preset_note)
        layout.addWidget(self.local)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        layout.addWidget(self.key_note)
        layout.addWidget(self.override_note)
        layout.addStretch(1)

    def show_local(self, local: bool) -> None:
        """The local preset has a file instead of a URL, a model name and a key."""
        for row in (self.base_url, self.model, self.key_row):
            self.form.setRowVisible(row, not local)
        self.fetch.setVisible(not local)
        self.test.setVisible(not local)
        self.local.setVisible(local)

    def fill(self, s: Settings) -> None:
        """Everything but the key (the dialog keeps keys per preset and base URL)."""
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(max(0, self.preset.findData(s.provider.preset)))
        self.preset.blockSignals(False)
        self.base_url.setText(s.provider.base_url)
        self.model.setEditText(s.provider.model)
        self.api_version.setText(s.provider.api_version)
        self.local.fill(s.local)
        self.update_kind()

    def read(self, s: Settings) -> None:
        chosen = preset(str(self.preset.currentData()))
        s.provider.preset, s.provider.kind = chosen.id, chosen.kind
        s.provider.base_url = self.base_url.text().strip()
        s.provider.model = self.model.currentText().strip()
        s.provider.api_version = self.api_version.text().strip() if chosen.kind == "azure" else ""
        self.local.read(s.local)

    def show_overridden(self, overridden: frozenset[str]) -> None:
        if overridden:
            self.override_note.setText(
                "This run uses environment variables or command-line flags for "
                f"{', '.join(sorted(overridden))}. They apply to this run only and are never "
                "saved; this dialog shows and saves your own settings."
            )
            self.override_note.show()

    def update_kind(self) -> None:
        """Show the fields the chosen preset's kind needs."""
        chosen = preset(str(self.preset.currentData()))
        self.preset_note.setText(PRESET_NOTES.get(chosen.id, ""))
        azure = chosen.kind == "azure"
        self.api_version.setVisible(azure)
        self.api_version_label.setVisible(azure)
        self.show_local(chosen.kind == "local")
        self.base_url.setPlaceholderText(
            "https://<resource>.openai.azure.com"
            if azure
            else "https://api.anthropic.com"
            if chosen.kind == "anthropic"
            else "http://host:port/v1"
        )
        self.api_key.setPlaceholderText(
            "stored in the system keyring" if chosen.needs_key else "optional for local servers"
        )
