"""livekit's AEC3 through serialised requests with the GIL held (audio/livekit_apm.py):
the same output, to the bit, as livekit's public API on the same signal; a refused
request raises instead of passing the microphone through unchecked."""

from __future__ import annotations

import numpy as np
import pytest

from audio.livekit_apm import FRAME_SAMPLES, LivekitApm
from tests.support.speech import SpeechLibrary

pytest_plugins = ["tests.support.speech"]


def echo_blocks(speech: SpeechLibrary) -> list[tuple[np.ndarray, np.ndarray]]:
    """(reference, microphone) int16 blocks of 1–4 frames: espeak and its echo 30 ms late."""
    far = speech.say("Once upon a time there was an old clockmaker who wound every clock.")
    echo = np.zeros_like(far)
    echo[480:] = 0.5 * far[:-480]
    far16, mic16 = (np.round(x * 32767).astype(np.int16) for x in (far, echo))
    blocks, at, sizes = [], 0, [3, 4, 1, 2]
    while at + 4 * FRAME_SAMPLES <= far.size:
        n = sizes[len(blocks) % len(sizes)] * FRAME_SAMPLES
        blocks.append((far16[at : at + n].copy(), mic16[at : at + n].copy()))
        at += n
    return blocks


def run(apm: LivekitApm, blocks: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    out = []
    for reverse, capture in blocks:
        capture = capture.copy()
        apm.process(reverse, capture)
        out.append(capture)
    return np.concatenate(out)


def test_direct_requests_clean_exactly_as_the_public_api(speech: SpeechLibrary) -> None:
    blocks = echo_blocks(speech)
    direct, public = LivekitApm(), LivekitApm(direct=False)
    assert direct.direct and not public.direct  # the installed livekit has the internals
    cleaned = run(direct, blocks)
    assert np.array_equal(cleaned, run(public, blocks))
    mic = np.concatenate([c for _, c in blocks]).astype(np.float64)
    tail = slice(cleaned.size // 2, None)  # converged: the echo is mostly gone
    assert np.sum(cleaned[tail].astype(np.float64) ** 2) < 0.1 * np.sum(mic[tail] ** 2)


def test_a_block_larger_than_the_buffers_grows_them(speech: SpeechLibrary) -> None:
    blocks = echo_blocks(speech)
    whole = [(np.concatenate([r for r, _ in blocks]), np.concatenate([c for _, c in blocks]))]
    assert np.array_equal(run(LivekitApm(), whole), run(LivekitApm(), blocks))


def test_a_refused_request_raises() -> None:
    apm = LivekitApm()
    assert apm._ffi is not None
    apm._ffi._handle = 987_654  # no such module: livekit answers nothing
    apm._frames = []  # requests made anew, for the missing module
    with pytest.raises(RuntimeError, match="refused"):
        apm.process(np.zeros(FRAME_SAMPLES, np.int16), np.zeros(FRAME_SAMPLES, np.int16))


def test_without_livekit_internals_the_public_api_cleans(
    speech: SpeechLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A livekit release that moved its private names: the public calls, same output."""
    from audio import livekit_apm

    def moved(*args: object) -> None:
        raise ImportError("cannot import name 'FfiClient'")

    monkeypatch.setattr(livekit_apm, "_DirectFfi", moved)
    blocks = echo_blocks(speech)
    fallback = LivekitApm()
    assert not fallback.direct
    assert np.array_equal(run(fallback, blocks), run(LivekitApm(direct=False), blocks))
