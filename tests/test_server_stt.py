"""Server first, local Whisper after: a real local HTTP server and the real tiny.en model.

The scripted server (``tests.support.transcription_script``) fails, stalls or
answers as each test says and notices when the client closes the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper import decode_audio

from audio.remote_transcriber import RemoteTranscriber
from audio.server_stt import FallbackTranscriber, ServerFinal
from audio.transcriber import Transcriber, Transcription, WhisperTranscriber
from providers.cancel import Cancelled, CancelToken
from tests.support.transcription_script import Script, serve

RATE = 16_000


class CountingLocal:
    """The real local transcriber, counting the utterances it was asked for."""

    def __init__(self, whisper: WhisperTranscriber) -> None:
        self.whisper = whisper
        self.calls = 0

    async def transcribe(
        self, audio: npt.NDArray[np.float32], cancel: CancelToken | None = None
    ) -> Transcription:
        self.calls += 1
        return await self.whisper.transcribe(audio, cancel)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def server(script: Script) -> Iterator[str]:
    with serve(script) as url:
        yield url


@pytest.fixture(scope="module")
def speech(jfk_flac: Path) -> np.ndarray:
    return decode_audio(str(jfk_flac), sampling_rate=RATE)[: RATE * 4]


def fallback(
    url: str, client: httpx.AsyncClient, local: Transcriber, notices: list[str], deadline_s: float
) -> FallbackTranscriber:
    remote = RemoteTranscriber(url, api_key=None, model="whisper-1", client=client)
    return FallbackTranscriber(
        remote, local, server_url=url, deadline_s=deadline_s, on_notice=notices.append
    )


async def test_a_failing_server_falls_back_to_local_whisper_and_says_so_once(
    server: str, script: Script, speech: np.ndarray, whisper: WhisperTranscriber
) -> None:
    script.status, script.body = 500, b"CUDA out of memory"
    local, notices = CountingLocal(whisper), []
    async with httpx.AsyncClient() as client:
        stt = fallback(server, client, local, notices, deadline_s=30)
        assert isinstance(stt, Transcriber)
        first = await stt.transcribe(speech)
        second = await stt.transcribe(speech)
        assert "fellow americans" in first.text.lower() and second.text == first.text
        assert local.calls == 2 and len(script.requests) == 2
        assert len(notices) == 1, notices  # once per run of failures, not per utterance
        assert "failed (500: CUDA out of memory)" in notices[0]
        assert "transcribed on this computer instead" in notices[0]
        script.status, script.body = 200, b'{"text": " Turn on the lights."}'
        third = await stt.transcribe(speech)
    assert third.text == "Turn on the lights." and local.calls == 2
    assert notices[1] == f"The transcription server at {server} answers again."


async def test_a_slow_server_is_cut_off_at_the_deadline_and_local_whisper_answers(
    server: str, script: Script, speech: np.ndarray, whisper: WhisperTranscriber
) -> None:
    script.hold = True
    local, notices = CountingLocal(whisper), []
    async with httpx.AsyncClient() as client:
        stt = fallback(server, client, local, notices, deadline_s=0.5)
        result = await stt.transcribe(speech)
    assert "fellow americans" in result.text.lower() and local.calls == 1
    assert script.disconnected.is_set()  # the stalled request was closed, not left open
    assert notices == [
        f"The transcription server at {server} did not answer within 0.5 s. "
        "This utterance was transcribed on this computer instead."
    ]


async def test_a_cancel_closes_the_request_at_once_and_is_not_transcribed_locally(
    server: str, script: Script, speech: np.ndarray, whisper: WhisperTranscriber
) -> None:
    script.hold = True
    local, notices = CountingLocal(whisper), []
    token = CancelToken()
    async with httpx.AsyncClient() as client:
        stt = fallback(server, client, local, notices, deadline_s=30)
        job = asyncio.create_task(stt.transcribe(speech, token))
        assert await asyncio.to_thread(script.arrived.wait, 5)
        token.cancel("the user stopped")
        cancelled_at = time.perf_counter()
        with pytest.raises(Cancelled):
            await job
        assert time.perf_counter() - cancelled_at < 0.5  # a hang bound
    assert await asyncio.to_thread(script.disconnected.wait, 5)
    assert local.calls == 0 and notices == [] and stt.fallbacks == 0


async def test_the_hands_free_final_pass_is_requested_at_once_and_closed_by_a_cancel(
    server: str, script: Script, speech: np.ndarray, whisper: WhisperTranscriber
) -> None:
    async with httpx.AsyncClient() as client:
        stt = fallback(server, client, CountingLocal(whisper), [], deadline_s=30)
        final = ServerFinal(stt, speech)
        assert await asyncio.to_thread(script.arrived.wait, 5)  # before anyone awaits it
        assert (await final.result(CancelToken())).text == "Turn on the lights."

        script.hold, script.arrived = True, type(script.arrived)()
        final = ServerFinal(stt, speech)
        token = CancelToken()
        waiting = asyncio.create_task(final.result(token))
        assert await asyncio.to_thread(script.arrived.wait, 5)
        token.cancel("barge-in")
        with pytest.raises(Cancelled):
            await asyncio.wait_for(waiting, 2)
    assert await asyncio.to_thread(script.disconnected.wait, 5)
