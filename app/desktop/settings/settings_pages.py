"""The settings dialog's pages: Provider, Audio, and General (window, agent, hotkey, tools).

Each page is a plain widget with named fields, filled from ``Settings`` and
read back by ``SettingsDialog``; nothing here saves anything.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.config.audio_devices import Device
from app.config.presets import PRESETS
from app.config.settings import RANGES
from app.desktop.settings.local_model_page import LocalModelGroup
from app.desktop.settings.stt_group import SpeechRecognitionGroup

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
NO_MIC = "No microphone found"
NO_SPEAKER = "No speaker found"
DEFAULT_DEVICE = "System default"


def _hint(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setProperty("hint", True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _named(widget: QWidget, name: str) -> QWidget:
    widget.setAccessibleName(name)
    return widget


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
        self.preset_note = _hint("", self)
        self.key_note = _hint("", self)
        self.key_note.hide()
        self.override_note = _hint("", self)
        self.override_note.hide()
        self.local = LocalModelGroup(self)

        self.form = form = QFormLayout()
        form.addRow("&Provider:", _named(self.preset, "Provider preset"))
        form.addRow("&Base URL:", _named(self.base_url, "Base URL"))
        form.addRow("&Model:", _named(self.model, "Model"))
        self.api_version_label = QLabel("API &version:", self)
        self.api_version_label.setBuddy(self.api_version)
        form.addRow(self.api_version_label, _named(self.api_version, "Azure API version"))
        key_label = QLabel("API &key:", self)
        key_label.setBuddy(self.api_key)
        form.addRow(key_label, key_row)
        self.key_row = key_row
        _named(self.api_key, "API key")
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


class AudioPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input_device = QComboBox(self)
        self.output_device = QComboBox(self)
        self.push_to_talk = QRadioButton("&Push to talk (hold Space or the Talk button)", self)
        self.hands_free = QRadioButton("&Hands-free (listen all the time)", self)
        self.barge_in = QCheckBox("&Interrupt the reply when I start talking (barge-in)", self)
        self.hangover = QSpinBox(self)
        low, high = RANGES["audio.hangover_ms"]
        self.hangover.setRange(low, high)
        self.hangover.setSingleStep(50)
        self.hangover.setSuffix(" ms")
        self.adaptive_hangover = QCheckBox(
            "&Adapt to what I said: end sooner after a finished sentence, wait longer mid-phrase",
            self,
        )
        self.hangover_min = self._ms_box("audio.hangover_min_ms")
        self.hangover_max = self._ms_box("audio.hangover_max_ms")
        self.adaptive_hangover.toggled.connect(self.hangover_min.setEnabled)
        self.adaptive_hangover.toggled.connect(self.hangover_max.setEnabled)
        self.whisper_model = QComboBox(self)
        self.whisper_model.setEditable(True)
        self.whisper_model.addItem("bundled")
        for name in ("tiny.en", "base.en", "small.en", "distil-small.en"):
            self.whisper_model.addItem(name)
        self.speech_output = QCheckBox("&Speak replies aloud", self)
        self.voice = QComboBox(self)
        self.voice.addItem("Joe (Piper, bundled)", "piper-joe")
        self.voice.addItem("System voice", "system")

        mode = QGroupBox("Listening", self)
        mode_box = QVBoxLayout(mode)
        mode_box.addWidget(_named(self.push_to_talk, "Push to talk mode"))
        mode_box.addWidget(_named(self.hands_free, "Hands-free mode"))
        mode_box.addWidget(_named(self.barge_in, "Barge-in"))
        form = QFormLayout()
        form.addRow("&Microphone:", _named(self.input_device, "Microphone"))
        form.addRow("Spea&ker:", _named(self.output_device, "Speaker"))
        form.addRow(
            "&End of speech after:", _named(self.hangover, "Silence that ends an utterance")
        )
        form.addRow("", _named(self.adaptive_hangover, "Adaptive end of speech"))
        form.addRow(
            "Sho&rtest pause:", _named(self.hangover_min, "Shortest silence that ends an utterance")
        )
        form.addRow(
            "Lon&gest pause:", _named(self.hangover_max, "Longest silence that ends an utterance")
        )
        form.addRow("&Whisper model:", _named(self.whisper_model, "Whisper model"))
        form.addRow(
            "", _hint("“bundled” works offline; a folder path or model name also works.", self)
        )
        form.addRow("", _named(self.speech_output, "Speak replies"))
        form.addRow("&Voice:", _named(self.voice, "Voice"))
        self.stt = SpeechRecognitionGroup(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(mode)
        layout.addWidget(self.stt)
        layout.addStretch(1)

    def _ms_box(self, setting: str) -> QSpinBox:
        box = QSpinBox(self)
        low, high = RANGES[setting]
        box.setRange(low, high)
        box.setSingleStep(50)
        box.setSuffix(" ms")
        return box

    def set_devices(self, devices: list[Device], chosen_in: str, chosen_out: str) -> None:
        for combo, kind, chosen, none_text in (
            (self.input_device, "input", chosen_in, NO_MIC),
            (self.output_device, "output", chosen_out, NO_SPEAKER),
        ):
            combo.clear()
            names = [d.name for d in devices if (d.inputs if kind == "input" else d.outputs) > 0]
            if not names:
                combo.addItem(none_text, "")
            else:
                combo.addItem(DEFAULT_DEVICE, "")
                for name in dict.fromkeys(names):
                    combo.addItem(name, name)
            if chosen and combo.findData(chosen) < 0:
                combo.addItem(f"{chosen} (not connected)", chosen)
            combo.setCurrentIndex(max(0, combo.findData(chosen)))


class GeneralPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = QComboBox(self)
        self.theme.addItem("Follow the system", "system")
        self.theme.addItem("Light", "light")
        self.theme.addItem("Dark", "dark")
        self.show_latency = QCheckBox("Show &latency under each reply", self)
        self.close_to_tray = QCheckBox("&Closing the window keeps Harken in the tray", self)
        self.system_prompt = QPlainTextEdit(self)
        self.system_prompt.setPlaceholderText("Leave empty for the built-in prompt")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setMaximumHeight(110)
        self.hotkey_enabled = QCheckBox("&Global push-to-talk hotkey (works in other apps)", self)
        self.hotkey = QLineEdit(self)
        self.hotkey.setPlaceholderText("<ctrl>+<alt>+space")
        self.hotkey_note = _hint("", self)
        self.clipboard_read = QCheckBox("Let the assistant &read the clipboard", self)
        self.clipboard_write = QCheckBox("Let the assistant &write to the clipboard", self)

        form = QFormLayout()
        form.addRow("&Theme:", _named(self.theme, "Theme"))
        form.addRow("", _named(self.show_latency, "Show latency"))
        form.addRow("", _named(self.close_to_tray, "Close to tray"))
        form.addRow("System &prompt:", _named(self.system_prompt, "System prompt"))
        form.addRow("", _named(self.hotkey_enabled, "Global hotkey enabled"))
        form.addRow("&Hotkey:", _named(self.hotkey, "Global hotkey"))
        form.addRow("", self.hotkey_note)
        form.addRow("Tools:", _named(self.clipboard_read, "Allow clipboard read"))
        form.addRow("", _named(self.clipboard_write, "Allow clipboard write"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
