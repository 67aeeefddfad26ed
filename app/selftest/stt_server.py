"""Does the transcription server work? The bundled sample, transcribed through it, timed.

One probe for two callers: Settings → Audio → *Test* (shows the words and the
time) and ``harken --self-test`` when a server is configured (a check that
fails with what to do). It runs the app's own ``RemoteTranscriber``, so a
wrong URL, key or model gives the same sentence the app would give.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from app.config import paths
from app.config.stt_config import SttConfig
from app.selftest.checks import (
    MIN_SIMILARITY,
    SAMPLE_TEXT,
    SAMPLE_WAV,
    SelfTestContext,
    SelfTestFailure,
    similarity,
)
from app.version import user_agent

PROBE_TIMEOUT_S = 60.0  # a first request may load the server's model


@dataclass(frozen=True)
class SttProbe:
    """``ok``: the server heard the sample's words; ``message``: what to show."""

    ok: bool
    message: str
    text: str = ""
    elapsed_s: float = 0.0


async def probe_server(config: SttConfig, *, timeout_s: float = PROBE_TIMEOUT_S) -> SttProbe:
    """Transcribe the bundled sample on ``config``'s server; never raises for a bad server."""
    import asyncio

    from audio.errors import TranscriptionError
    from audio.file_source import decode_file
    from audio.remote_transcriber import RemoteTranscriber
    from providers import new_http_client

    sample = await asyncio.to_thread(decode_file, paths.resource_path(SAMPLE_WAV))
    expected = paths.resource_path(SAMPLE_TEXT).read_text(encoding="utf-8").strip()
    client = new_http_client(user_agent=user_agent())
    try:
        remote = RemoteTranscriber(
            config.url,
            api_key=config.api_key,
            model=config.model,
            client=client,
            timeout_s=timeout_s,
        )
        started = time.perf_counter()
        try:
            result = await remote.transcribe(sample)
        except TranscriptionError as exc:
            return SttProbe(False, exc.message)
        elapsed_s = time.perf_counter() - started
    finally:
        await client.aclose()
    text = result.text.strip()
    score = similarity(expected, text)
    if score < MIN_SIMILARITY:
        return SttProbe(
            False,
            f"The server heard the test sample as “{text}” instead of “{expected}” "
            f"({elapsed_s:.2f} s). Check the model name and that it understands English.",
            text,
            elapsed_s,
        )
    return SttProbe(True, f"“{text}” in {elapsed_s:.2f} s", text, elapsed_s)


def stt_server_check(
    config: SttConfig,
) -> Callable[[SelfTestContext], Coroutine[Any, Any, str]]:
    """The self-test's check of the configured server."""

    async def check_stt_server(ctx: SelfTestContext) -> str:
        probe = await probe_server(config)
        if not probe.ok:
            raise SelfTestFailure(
                f"{probe.message} Speech is transcribed on this computer while the server "
                "fails; fix it in Settings → Audio → Speech recognition."
            )
        return f"{config.describe()}: {probe.message}"

    return check_stt_server
