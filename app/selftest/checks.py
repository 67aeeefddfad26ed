"""The checks ``harken --self-test`` runs, one function each, against the real parts.

Each check returns a one-line description of what it found, or raises
:class:`SelfTestFailure` with a sentence a person can act on. They use the
same code paths as the app (the bundled Whisper model through
``WhisperTranscriber``, Silero VAD through ``SileroVad``, the Piper voice
through ``PiperTts``, a provider from ``create_provider``), so a bundle that
lacks a model, a native library or a Qt plugin fails here rather than in
front of a user.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.config import paths

SAMPLE_WAV = "selftest/sample.wav"
SAMPLE_TEXT = "selftest/sample.txt"
TTS_SENTENCE = "The speech output is working fine."
MIN_SIMILARITY = 75.0  # rapidfuzz ratio (0-100) between what was said and what was heard


class SelfTestFailure(Exception):
    """A check failed; the message says what is wrong and what to do."""


@dataclass
class SelfTestContext:
    """What one check hands to the next (the loaded Whisper model, the decoded sample)."""

    transcriber: Any = None
    sample: Any = None

    def close(self) -> None:
        if self.transcriber is not None:
            self.transcriber.close()


def similarity(expected: str, heard: str) -> float:
    """0-100: how closely ``heard`` matches ``expected``, ignoring case and punctuation."""
    from rapidfuzz import fuzz

    from audio.text_norm import normalise

    return float(fuzz.ratio(normalise(expected), normalise(heard)))


def _require_transcriber(ctx: SelfTestContext) -> Any:
    if ctx.transcriber is None:
        raise SelfTestFailure("Skipped: it needs the speech recognition model, which failed.")
    return ctx.transcriber


# -- checks ----------------------------------------------------------------------------------


def check_directories(ctx: SelfTestContext) -> str:
    """The settings, data, log and cache folders exist (or can be made) and take a file."""
    folders = (
        ("settings", paths.config_dir, "XDG_CONFIG_HOME"),
        ("data", paths.data_dir, "XDG_DATA_HOME"),
        ("log", paths.log_dir, "XDG_STATE_HOME"),
        ("cache", paths.cache_dir, "XDG_CACHE_HOME"),
    )
    problems: list[str] = []
    for label, folder, variable in folders:
        try:
            where = folder()
            with tempfile.NamedTemporaryFile(dir=where, prefix=".harken-selftest-") as probe:
                probe.write(b"harken")
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as exc:
            hint = f" or set {variable} to a writable folder" if sys.platform == "linux" else ""
            path = exc.filename or "?"
            problems.append(
                f"The {label} folder cannot be written: {path} ({exc.strerror or exc}). "
                f"Fix its permissions{hint}."
            )
    if problems:
        raise SelfTestFailure(" ".join(problems))
    return f"settings, data, log and cache folders are writable (data: {paths.data_dir()})"


def check_desktop(ctx: SelfTestContext) -> str:
    """Qt starts, and reads the SVG icons (the imageformats/iconengines plugins are there)."""
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform == "linux" and no_display and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # no screen: Qt would abort the process
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QIcon, QImageReader
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        raise SelfTestFailure(
            "Qt cannot read SVG images (its svg image plugin is missing), so the icons would "
            "be blank. Reinstall Harken."
        )
    icon_path = paths.resource_path("icons/harken.svg")
    image = QIcon(str(icon_path)).pixmap(64, 64).toImage()
    if image.isNull() or not any(
        image.pixelColor(x, y).alpha() > 0 for x in range(0, 64, 4) for y in range(0, 64, 4)
    ):
        raise SelfTestFailure(
            f"The app icon {icon_path} did not render; the bundled assets are missing or "
            "damaged. Reinstall Harken."
        )
    platform = app.platformName() if isinstance(app, QApplication) else "?"
    return f"Qt {qVersion()} on the {platform} platform; SVG icons render"


async def check_whisper(ctx: SelfTestContext) -> str:
    """The bundled tiny.en model loads in the transcriber's worker thread."""
    from audio.transcriber import WhisperTranscriber

    transcriber = WhisperTranscriber(None)
    ctx.transcriber = transcriber
    try:
        description = await transcriber.wait_loaded()
    except Exception as exc:
        ctx.transcriber = None
        transcriber.close()
        raise SelfTestFailure(str(exc)) from exc
    return description


def check_vad(ctx: SelfTestContext) -> str:
    """Silero VAD loads and finds the speech in the bundled sample."""
    from audio.file_source import decode_file
    from audio.vad import FRAME_SAMPLES, SileroVad

    sample_path = paths.resource_path(SAMPLE_WAV)
    try:
        ctx.sample = decode_file(sample_path)
    except Exception as exc:
        raise SelfTestFailure(
            f"The bundled speech sample could not be decoded ({exc}). Reinstall Harken."
        ) from exc
    vad = SileroVad()
    audio = ctx.sample
    frames = len(audio) // FRAME_SAMPLES
    speech = sum(
        vad.speech_prob(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]) >= 0.5
        for i in range(frames)
    )
    speech_s, total_s = speech * FRAME_SAMPLES / 16000, len(audio) / 16000
    if speech_s < 0.3 * total_s:
        raise SelfTestFailure(
            f"Voice detection found only {speech_s:.1f} s of speech in the {total_s:.1f} s "
            "sample; hands-free listening would miss speech. Reinstall Harken."
        )
    return f"Silero VAD finds {speech_s:.1f} s of speech in the {total_s:.1f} s sample"


async def check_transcribe(ctx: SelfTestContext) -> str:
    """The bundled sample, decoded with PyAV, is transcribed to the words it says."""
    transcriber = _require_transcriber(ctx)
    if ctx.sample is None:
        raise SelfTestFailure("Skipped: the speech sample could not be decoded (see above).")
    expected = paths.resource_path(SAMPLE_TEXT).read_text(encoding="utf-8").strip()
    result = await transcriber.transcribe(ctx.sample)
    score = similarity(expected, result.text)
    if score < MIN_SIMILARITY:
        raise SelfTestFailure(
            f"The sample was heard as “{result.text}” instead of “{expected}”; speech "
            "recognition is not working. Reinstall Harken."
        )
    return f"“{result.text.strip()}” ({score:.0f}% match)"


async def check_tts(ctx: SelfTestContext) -> str:
    """The Piper voice speaks a sentence, and Whisper hears that sentence in it."""
    from audio.capture import resample
    from audio.tts import PiperTts

    tts = PiperTts()
    try:
        await asyncio.to_thread(tts.load)
        chunks = await asyncio.to_thread(lambda: list(tts.synthesize(TTS_SENTENCE)))
    except Exception as exc:
        raise SelfTestFailure(str(exc)) from exc
    if not chunks:
        raise SelfTestFailure("The Piper voice produced no audio. Reinstall Harken.")
    audio = np.concatenate(chunks)
    duration_s = len(audio) / tts.sample_rate_hz
    transcriber = _require_transcriber(ctx)
    resampled = resample(audio, tts.sample_rate_hz, 16000)
    heard = (await transcriber.transcribe(resampled)).text
    if similarity(TTS_SENTENCE, heard) < MIN_SIMILARITY:
        raise SelfTestFailure(
            f"The voice said “{TTS_SENTENCE}” but it was heard as “{heard}”; the Piper voice "
            "is damaged. Reinstall Harken, or choose the system voice in Settings → Audio."
        )
    return f"{tts.description}: {duration_s:.1f} s of audio, heard back as “{heard.strip()}”"


async def check_stream(ctx: SelfTestContext) -> str:
    """A reply streams from a local server, and a cancel closes the connection, no retry."""
    from app.selftest.server import SelfTestServer
    from app.version import user_agent
    from providers import (
        CancelToken,
        ChatRequest,
        ProviderConfig,
        StreamCancelled,
        TextDelta,
        UserMessage,
        create_provider,
        new_http_client,
    )

    with SelfTestServer() as server:
        config = ProviderConfig(
            kind="openai", base_url=server.base_url, model="selftest", display_name="self-test"
        )
        client = new_http_client(user_agent=user_agent())
        try:
            provider = create_provider(config, client)
            token = CancelToken()
            request = ChatRequest(model="selftest", messages=[UserMessage("Count slowly.")])
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            first_s: float | None = None
            cancelled_at: float | None = None
            deltas = late = 0

            def cancel() -> None:
                nonlocal cancelled_at
                cancelled_at = time.perf_counter()
                token.cancel("the self-test cancelled the reply")

            try:
                async for event in provider.stream(request, token):
                    if not isinstance(event, TextDelta):
                        continue
                    deltas += 1
                    late += cancelled_at is not None
                    if first_s is None:
                        first_s = time.perf_counter() - started
                    if deltas == 3:  # cancel while the stream waits for the next bytes
                        loop.call_later(0.005, cancel)
            except StreamCancelled:
                pass
            else:
                raise SelfTestFailure("The reply was not stopped by its cancel token.")
            hung_up = await asyncio.to_thread(server.wait_for_disconnect, 2.0)
        finally:
            await client.aclose()
    if hung_up is None or cancelled_at is None:
        raise SelfTestFailure(
            "Cancelling a reply did not close its connection (the server kept streaming); "
            "interrupting Harken would not stop the model. Please report this bug."
        )
    close_ms = max(0.0, hung_up - cancelled_at) * 1000
    if late or server.requests != 1 or close_ms > 1000:
        raise SelfTestFailure(
            f"After the cancel the stream went on: {late} more text pieces, "
            f"{server.requests} requests, connection closed after {close_ms:.0f} ms. "
            "Please report this bug."
        )
    assert first_s is not None
    return (
        f"first token after {first_s * 1000:.0f} ms; cancelled after {deltas} pieces; "
        f"connection closed {close_ms:.0f} ms after the cancel; 1 request, no retry"
    )
