"""The Smart Turn audio model on real speech, and its place in the end of turn.

jfk.flac is one sentence with thinking pauses; after "…what your country can
do for you" Whisper writes a full stop, so the words alone would end the turn
at the short hangover. The audio model hears that the sentence goes on and
vetoes it; at the real end it agrees.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.agent.input_pump import InputPump
from app.agent.live_transcription import LiveOptions, LiveTranscription, PauseDecision
from app.config.paths import resource_path
from audio.errors import TranscriptionError
from audio.segmenter import SpeechSegmenter
from audio.transcriber import WhisperTranscriber
from audio.turn_model import MODEL_FILE, SmartTurnModel
from audio.vad import SileroVad
from tests.support.controller_harness import make_controller
from tests.support.pause_set import JFK
from tests.support.sse_server import ScriptedServer

pytestmark = pytest.mark.slow

BLOCK = 512
RATE = 16_000
MID_SENTENCE_PAUSE_S = (7.3, 7.9)  # after "…can do for you", before "ask what you can do"


@pytest.fixture(scope="module")
def model() -> Iterator[SmartTurnModel]:
    path = resource_path(f"models/smart-turn/{MODEL_FILE}")
    if not path.is_file():
        pytest.skip(f"{path} is missing: run scripts/fetch_smart_turn.py (setup.sh does)")
    loaded = SmartTurnModel(path)
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def jfk_audio() -> np.ndarray:
    from faster_whisper import decode_audio

    return np.asarray(decode_audio(str(JFK), sampling_rate=RATE), dtype=np.float32)


def test_the_model_hears_a_mid_sentence_pause_and_the_real_end(
    model: SmartTurnModel, jfk_audio: np.ndarray
) -> None:
    mid = model.submit(jfk_audio[: int(7.62 * RATE)]).result(30)
    end = model.submit(jfk_audio).result(30)
    assert mid < 0.5 < end, (mid, end)


def test_a_missing_model_file_says_what_to_do(tmp_path: Path) -> None:
    missing = SmartTurnModel(tmp_path / MODEL_FILE)
    with pytest.raises(TranscriptionError, match="setup.sh"):
        missing.wait_loaded(30)
    missing.close()


async def judged_at_mid_sentence(
    server: ScriptedServer,
    whisper: WhisperTranscriber,
    quiet: object,
    audio: np.ndarray,
    model: SmartTurnModel | None,
) -> PauseDecision:
    controller, log, client = make_controller(server, transcriber=whisper, speech=quiet)
    segmenter = SpeechSegmenter(SileroVad(), hangover_s=0.5)
    live = LiveTranscription(
        controller, segmenter, whisper, emit=log, options=LiveOptions(), turn_model=model
    )
    decided: asyncio.Queue[PauseDecision] = asyncio.Queue()
    live.on_decision = decided.put_nowait
    pump = InputPump(controller, segmenter, emit=log, live=live)
    at = 0
    while True:
        pump.feed(audio[at : at + BLOCK])
        at += BLOCK
        end_s = segmenter.pause_end_s
        if segmenter.pause_pending and end_s is not None and end_s > MID_SENTENCE_PAUSE_S[0]:
            break
    assert end_s < MID_SENTENCE_PAUSE_S[1]
    while (decision := await asyncio.wait_for(decided.get(), 60)).end_s != end_s:
        pass
    live.close()
    await controller.close()
    await client.aclose()  # type: ignore[attr-defined]
    return decision


async def test_the_audio_model_keeps_a_sentence_that_looks_finished_open(
    server: ScriptedServer,
    whisper: WhisperTranscriber,
    quiet: object,
    model: SmartTurnModel,
    jfk_audio: np.ndarray,
) -> None:
    words_only = await judged_at_mid_sentence(server, whisper, quiet, jfk_audio, None)
    assert words_only.text.rstrip().endswith(".") and words_only.hangover_s == 0.2
    with_model = await judged_at_mid_sentence(server, whisper, quiet, jfk_audio, model)
    assert with_model.complete_prob is not None and with_model.complete_prob < 0.5
    assert with_model.hangover_s == 1.5  # wait the longest pause instead
