"""Settings → Provider, "Local model (in-process)": which GGUF file, its chat format, context
length and threads — or, without the llama.cpp extra, how to install it.

Shown in place of the URL/model/key fields when the local preset is chosen.
The file is picked with a file dialog (injectable, so tests need no dialog).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.config.settings import RANGES, LocalSettings
from providers import COMMON_CHAT_FORMATS, INSTALL_COMMAND, llama_cpp_available

FROM_METADATA_LABEL = "From model metadata"
MODELS_HINT = (
    "Use an instruction-tuned GGUF, e.g. Qwen2.5-1.5B-Instruct or Llama-3.2-3B-Instruct in "
    "Q4_K_M from Hugging Face. It loads in the background; the status bar shows progress."
)
MISSING_EXTRA = (
    "Local models need the llama.cpp extra, which is not installed. Install it into "
    f"Harken's Python environment, then restart Harken:\n\n{INSTALL_COMMAND}\n\n"
    "The CMAKE_ARGS build a portable library; the default build for the exact processor "
    "crashes on some CPUs."
)

BUNDLE_WITHOUT_EXTRA = (
    "This packaged Harken does not include llama.cpp. For a model run inside Harken, install "
    f"Harken with pip and the extra:\n\n{INSTALL_COMMAND}\n\nOr run a local server (Ollama, "
    "LM Studio, llama.cpp's llama-server) and choose its preset above."
)

FileChooser = Callable[[QWidget, str], str]


def choose_gguf(parent: QWidget, start: str) -> str:
    path, _ = QFileDialog.getOpenFileName(
        parent, "Choose a GGUF model", start, "GGUF models (*.gguf);;All files (*)"
    )
    return path


class LocalModelGroup(QGroupBox):
    def __init__(self, parent: QWidget | None = None, *, available: bool | None = None) -> None:
        super().__init__("Local model", parent)
        self.available = llama_cpp_available() if available is None else available
        self.choose_file: FileChooser = choose_gguf
        self.model_path = QLineEdit(self)
        self.model_path.setPlaceholderText("/path/to/model.gguf")
        self.model_path.setAccessibleName("Local model file")
        self.browse = QPushButton("&Browse…", self)
        self.browse.setAccessibleName("Choose the local model file")
        self.browse.clicked.connect(self._browse)
        self.chat_format = QComboBox(self)
        self.chat_format.setAccessibleName("Chat format")
        self.chat_format.addItem(FROM_METADATA_LABEL, "")
        for name in COMMON_CHAT_FORMATS:
            self.chat_format.addItem(name, name)
        self.context_length = QSpinBox(self)
        self.context_length.setAccessibleName("Context length")
        low, high = RANGES["local.context_length"]
        self.context_length.setRange(low, high)
        self.context_length.setSingleStep(1024)
        self.context_length.setSuffix(" tokens")
        self.threads = QSpinBox(self)
        self.threads.setAccessibleName("Threads")
        low, high = RANGES["local.threads"]
        self.threads.setRange(low, high)
        self.threads.setSpecialValueText("Automatic")
        missing = BUNDLE_WITHOUT_EXTRA if getattr(sys, "frozen", False) else MISSING_EXTRA
        self.note = QLabel(MODELS_HINT if self.available else missing, self)
        self.note.setWordWrap(True)
        self.note.setProperty("hint", True)
        self.note.setAccessibleName("Local model note")
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        file_row = QHBoxLayout()
        file_row.addWidget(self.model_path, 1)
        file_row.addWidget(self.browse)
        form = QFormLayout(self)
        file_label = QLabel("Model &file:", self)
        file_label.setBuddy(self.model_path)
        form.addRow(file_label, file_row)
        form.addRow("C&hat format:", self.chat_format)
        form.addRow("Conte&xt length:", self.context_length)
        form.addRow("&Threads:", self.threads)
        form.addRow(self.note)
        for widget in (self.model_path, self.browse, self.chat_format):
            widget.setEnabled(self.available)
        self.context_length.setEnabled(self.available)
        self.threads.setEnabled(self.available)

    def fill(self, local: LocalSettings) -> None:
        self.model_path.setText(local.model_path)
        index = self.chat_format.findData(local.chat_format)
        if index < 0:  # a format typed into the settings file: keep it selectable
            self.chat_format.addItem(local.chat_format, local.chat_format)
            index = self.chat_format.count() - 1
        self.chat_format.setCurrentIndex(index)
        self.context_length.setValue(local.context_length)
        self.threads.setValue(local.threads)

    def read(self, local: LocalSettings) -> None:
        local.model_path = self.model_path.text().strip()
        local.chat_format = str(self.chat_format.currentData() or "")
        local.context_length = self.context_length.value()
        local.threads = self.threads.value()

    def _browse(self) -> None:
        current = self.model_path.text().strip()
        start = str(Path(current).expanduser().parent) if current else str(Path.home())
        chosen = self.choose_file(self, start)
        if chosen:
            self.model_path.setText(chosen)
