"""Settings → Audio: devices, listening mode, barge-in, end of speech, Whisper model, voice."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.config.audio_devices import Device
from app.config.settings import RANGES, Settings
from app.desktop.settings.stt_group import SpeechRecognitionGroup
from app.desktop.settings.widgets import hint, named

NO_MIC = "No microphone found"
NO_SPEAKER = "No speaker found"
DEFAULT_DEVICE = "System default"


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
        self.turn_model = QCheckBox("&Listen to how I said it, too (end-of-turn audio model)", self)
        self.adaptive_hangover.toggled.connect(self.turn_model.setEnabled)
        self.early_request = QCheckBox(
            "Start the reply while I pause (held until I have &finished)", self
        )
        self.adaptive_hangover.toggled.connect(self.early_request.setEnabled)
        self.speak_after = self._ms_box("audio.speak_after_ms")
        self.speak_after.setSpecialValueText("at once")
        self.speak_after.setToolTip(
            "Hands-free: the reply shows at once, but is spoken only once you have been quiet "
            "this long, so a pause to think is not answered aloud."
        )
        self.hands_free.toggled.connect(self.speak_after.setEnabled)  # push-to-talk: at once
        self.whisper_model = QComboBox(self)
        self.whisper_model.setEditable(True)
        self.whisper_model.addItem("bundled")
        for name in ("tiny.en", "base.en", "small.en", "distil-small.en"):
            self.whisper_model.addItem(name)
        self.speech_output = QCheckBox("&Speak replies aloud", self)
        self.stt = SpeechRecognitionGroup(self)
        self.echo_cancellation = QCheckBox(
            "Cancel the speakers' &echo (turn off with a headset)", self
        )
        self.voice = QComboBox(self)
        self.voice.addItem("Joe (Piper, bundled)", "piper-joe")
        self.voice.addItem("System voice", "system")

        mode = QGroupBox("Listening", self)
        mode_box = QVBoxLayout(mode)
        mode_box.addWidget(named(self.push_to_talk, "Push to talk mode"))
        mode_box.addWidget(named(self.hands_free, "Hands-free mode"))
        mode_box.addWidget(named(self.barge_in, "Barge-in"))
        form = QFormLayout()
        form.addRow("&Microphone:", named(self.input_device, "Microphone"))
        form.addRow("Spea&ker:", named(self.output_device, "Speaker"))
        form.addRow("&End of speech after:", named(self.hangover, "Silence that ends an utterance"))
        form.addRow("", named(self.adaptive_hangover, "Adaptive end of speech"))
        form.addRow(
            "Sho&rtest pause:", named(self.hangover_min, "Shortest silence that ends an utterance")
        )
        form.addRow(
            "Lon&gest pause:", named(self.hangover_max, "Longest silence that ends an utterance")
        )
        form.addRow("", named(self.turn_model, "End-of-turn audio model"))
        form.addRow("", named(self.early_request, "Early reply request"))
        form.addRow(
            "&Quiet before speaking:",
            named(self.speak_after, "Silence before the reply is spoken (hands-free)"),
        )
        form.addRow("&Whisper model:", named(self.whisper_model, "Whisper model"))
        form.addRow(
            "", hint("“bundled” works offline; a folder path or model name also works.", self)
        )
        form.addRow("", named(self.speech_output, "Speak replies"))
        form.addRow("&Voice:", named(self.voice, "Voice"))
        form.addRow("", named(self.echo_cancellation, "Echo cancellation"))
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

    def fill(self, s: Settings, devices: list[Device]) -> None:
        self.set_devices(devices, s.audio.input_device, s.audio.output_device)
        (self.hands_free if s.audio.input_mode == "hands_free" else self.push_to_talk).setChecked(
            True
        )
        self.barge_in.setChecked(s.audio.barge_in)
        self.hangover.setValue(s.audio.hangover_ms)
        self.adaptive_hangover.setChecked(s.audio.adaptive_hangover)
        self.hangover_min.setValue(s.audio.hangover_min_ms)
        self.hangover_max.setValue(s.audio.hangover_max_ms)
        self.hangover_min.setEnabled(s.audio.adaptive_hangover)
        self.hangover_max.setEnabled(s.audio.adaptive_hangover)
        self.turn_model.setChecked(s.audio.turn_model)
        self.turn_model.setEnabled(s.audio.adaptive_hangover)
        self.early_request.setChecked(s.audio.early_request)
        self.early_request.setEnabled(s.audio.adaptive_hangover)
        self.speak_after.setValue(s.audio.speak_after_ms)
        self.speak_after.setEnabled(s.audio.input_mode == "hands_free")
        self.whisper_model.setEditText(s.audio.whisper_model)
        self.speech_output.setChecked(s.audio.speech_output)
        self.echo_cancellation.setChecked(s.audio.echo_cancellation)
        self.voice.setCurrentIndex(max(0, self.voice.findData(s.audio.voice)))

    def read(self, s: Settings) -> None:
        s.audio.input_device = str(self.input_device.currentData() or "")
        s.audio.output_device = str(self.output_device.currentData() or "")
        s.audio.input_mode = "hands_free" if self.hands_free.isChecked() else "push_to_talk"
        s.audio.barge_in = self.barge_in.isChecked()
        s.audio.hangover_ms = self.hangover.value()
        s.audio.adaptive_hangover = self.adaptive_hangover.isChecked()
        s.audio.turn_model = self.turn_model.isChecked()
        s.audio.early_request = self.early_request.isChecked()
        s.audio.speak_after_ms = self.speak_after.value()
        low, high = sorted((self.hangover_min.value(), self.hangover_max.value()))
        s.audio.hangover_min_ms, s.audio.hangover_max_ms = low, high
        s.audio.whisper_model = self.whisper_model.currentText().strip() or "bundled"
        s.audio.speech_output = self.speech_output.isChecked()
        s.audio.echo_cancellation = self.echo_cancellation.isChecked()
        s.audio.voice = str(self.voice.currentData())
        self.stt.read(s.stt)
