"""The echo canceller's alignment: the reference lands at the time it is heard, the
microphone's timeline follows jittery stamps without jumping, and with both aligned the
real WebRTC canceller removes a delayed echo of espeak speech (and does not when the
stamps lie)."""

from __future__ import annotations

import numpy as np
import pytest

from audio.echo_canceller import (
    RATE_HZ,
    EchoCanceller,
    EchoReference,
    LivekitApm,
    stream_clock_s,
)
from tests.support.speech import SpeechLibrary

pytest_plugins = ["tests.support.speech"]

VOICE_HZ = 22_050
BLOCK = 441  # the player's 20 ms block at 22.05 kHz
T0 = 1000.0


def impulse_block_stream(
    at_sample: int, total: int, jitter_s: float = 0.0, seed: int = 0
) -> list[tuple[np.ndarray, float]]:
    """A 22.05 kHz signal with one impulse, cut into player blocks with DAC stamps."""
    signal = np.zeros(total, dtype=np.float32)
    signal[at_sample] = 1.0
    rng = np.random.default_rng(seed)
    blocks = []
    for start in range(0, total, BLOCK):
        stamp = T0 + start / VOICE_HZ + rng.uniform(-jitter_s, jitter_s)
        blocks.append((signal[start : start + BLOCK], stamp))
    return blocks


def peak_time(reference: EchoReference, start_s: float, seconds: float) -> float:
    heard = reference.read(start_s, round(seconds * RATE_HZ))
    return start_s + int(np.argmax(np.abs(heard))) / RATE_HZ


def test_stream_clock_maps_a_portaudio_stamp_to_monotonic_time() -> None:
    assert stream_clock_s(50.040, 50.000, now_s=7.0) == pytest.approx(7.040)
    assert stream_clock_s(49.970, 50.000, now_s=7.0) == pytest.approx(6.970)
    assert stream_clock_s(0.0, 0.0, now_s=7.0) == 7.0  # a host API without stamps: "now"


def test_reference_places_each_sample_at_the_time_it_is_heard() -> None:
    reference = EchoReference()
    for block, stamp in impulse_block_stream(at_sample=15_000, total=VOICE_HZ, jitter_s=0.001):
        reference.push(block, VOICE_HZ, stamp)
    expected = T0 + 15_000 / VOICE_HZ
    # Within the first stamp's jitter: the blocks after it are laid end to end.
    assert peak_time(reference, T0, 1.0) == pytest.approx(expected, abs=0.001 + 1.5 / RATE_HZ)
    assert reference.shifts == 0 and reference.reanchors == 0  # 1 ms jitter moves nothing


def test_reference_follows_an_underrun_and_starts_over_for_a_new_stream() -> None:
    reference = EchoReference()
    blocks = impulse_block_stream(at_sample=20_000, total=VOICE_HZ)
    for i, (block, stamp) in enumerate(blocks):
        late_s = 0.030 if i >= 20 else 0.0  # an underrun: everything after is 30 ms later
        reference.push(block, VOICE_HZ, stamp + late_s)
    assert reference.shifts == 1
    expected = T0 + 20_000 / VOICE_HZ + 0.030
    assert peak_time(reference, T0, 1.2) == pytest.approx(expected, abs=1.5 / RATE_HZ)
    # A new output stream 5 s later: a fresh timeline, the old audio still readable.
    for block, stamp in impulse_block_stream(at_sample=2_000, total=8_820):
        reference.push(block, VOICE_HZ, stamp + 5.0)
    assert reference.reanchors == 1
    assert peak_time(reference, T0 + 5.0, 0.4) == pytest.approx(
        T0 + 5.0 + 2_000 / VOICE_HZ, abs=1.5 / RATE_HZ
    )
    assert peak_time(reference, T0, 1.2) == pytest.approx(expected, abs=1.5 / RATE_HZ)


def test_reference_is_silent_where_nothing_played_and_forgets_old_audio() -> None:
    reference = EchoReference(history_s=1.0)
    tone = np.full(VOICE_HZ // 2, 0.5, dtype=np.float32)
    reference.push(tone, VOICE_HZ, T0)
    assert not np.any(reference.read(T0 - 0.5, 4000))  # before it played
    assert np.all(reference.read(T0 + 0.1, 1600) > 0.4)
    assert not np.any(reference.read(T0 + 0.6, 1600))  # after
    reference.push(tone, VOICE_HZ, T0 + 3.0)  # a new stream, 3 s later
    assert not np.any(reference.read(T0 + 0.1, 1600))  # overwritten: older than history_s


def delayed_echo_scene(
    speech: SpeechLibrary, delay_s: float = 0.030
) -> tuple[np.ndarray, np.ndarray, int]:
    """(far-end voice at 16 kHz, microphone = its echo ``delay_s`` late, filtered, quieter)."""
    far = speech.say(
        "Once upon a time there was an old clockmaker who lived at the edge of a forest, "
        "and every morning he wound the clocks on his walls."
    )
    delay = round(delay_s * RATE_HZ)
    echo = np.zeros_like(far)
    echo[delay:] = far[: far.size - delay]
    mic = np.convolve(echo, [0.5, 0.2, -0.1], mode="same").astype(np.float32)
    mic += np.random.default_rng(1).standard_normal(mic.size).astype(np.float32) * 1e-4
    return far, mic, delay


def run_canceller(
    far: np.ndarray, mic: np.ndarray, *, mic_stamp_error_s: float, jitter_s: float
) -> tuple[np.ndarray, EchoCanceller]:
    """Play ``far`` into the reference and the microphone blocks through the canceller,
    each with its stamp (the microphone's off by ``mic_stamp_error_s``, both jittered).
    The player is 64 ms ahead of the microphone, as its output latency puts it."""
    reference = EchoReference()
    canceller = EchoCanceller(reference, apm=LivekitApm())
    rng = np.random.default_rng(2)
    out = []
    reference.push(far[:1024], RATE_HZ, T0)
    for start in range(0, mic.size - 1536, 512):
        reference.push(far[start + 1024 : start + 1536], RATE_HZ, T0 + (start + 1024) / RATE_HZ)
        stamp = T0 + start / RATE_HZ + mic_stamp_error_s + rng.uniform(-jitter_s, jitter_s)
        out.append(canceller.process(mic[start : start + 512], stamp))
    return np.concatenate(out), canceller


def reduction_db(mic: np.ndarray, out: np.ndarray, from_s: float) -> float:
    begin = round(from_s * RATE_HZ)
    n = out.size
    return float(10 * np.log10(np.sum(mic[begin:n] ** 2) / (np.sum(out[begin:] ** 2) + 1e-12)))


def test_aligned_stamps_let_webrtc_remove_the_echo(speech: SpeechLibrary) -> None:
    far, mic, _ = delayed_echo_scene(speech)
    out, canceller = run_canceller(far, mic, mic_stamp_error_s=0.0, jitter_s=0.002)
    assert canceller.stats.restarts == 0  # 2 ms jitter is followed, not jumped to
    assert reduction_db(mic, out, from_s=2.0) > 25  # measured ~35 dB
    assert canceller.stats.reduction_db > 15
    assert canceller.stats.frames == out.size // 160


def test_an_echo_a_millisecond_late_is_cancelled(speech: SpeechLibrary) -> None:
    """A laptop: the speaker's sound reaches the microphone ~1 ms after the DAC. The
    reference is read ahead of the microphone frame, so its echo never comes first
    (read 10 ms behind instead, this removed 10 dB; ahead, measured 43 dB)."""
    far, mic, _ = delayed_echo_scene(speech, delay_s=0.001)
    out, _ = run_canceller(far, mic, mic_stamp_error_s=0.0, jitter_s=0.001)
    assert reduction_db(mic, out, from_s=2.0) > 25


def test_stamps_that_put_the_echo_before_its_reference_defeat_it(speech: SpeechLibrary) -> None:
    """The same scene with the microphone stamped 150 ms early: the canceller reads a
    reference 110 ms older than the echo's source, which it is given only frames after
    the echo — no causal filter cancels that, so the alignment above is what does the
    work."""
    far, mic, _ = delayed_echo_scene(speech)
    out, _ = run_canceller(far, mic, mic_stamp_error_s=-0.150, jitter_s=0.0)
    assert reduction_db(mic, out, from_s=2.0) < 10


class RecordingCanceller(EchoCanceller):
    """The real canceller, noting when each batch of samples was said to be captured."""

    def __init__(self) -> None:
        super().__init__(EchoReference(), apm=LivekitApm())
        self.calls: list[tuple[float, int]] = []

    def process(self, samples: np.ndarray, start_s: float) -> np.ndarray:
        self.calls.append((start_s, len(samples)))
        return super().process(samples, start_s)


@pytest.mark.parametrize("device_hz", [16_000, 48_000, 44_100])
def test_microphone_stamps_each_16khz_sample_with_its_capture_time(
    device_hz: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 48 kHz microphone is resampled before the canceller: the stamps handed to it are
    those of the 16 kHz samples (the resampler's lag taken off), not of the device block.
    (PortAudio's clock is taken as the monotonic one, so the figures are exact.)"""
    import asyncio
    import types

    from audio import microphone
    from audio.microphone import _CallbackPipe

    monkeypatch.setattr(microphone, "stream_clock_s", lambda pa_time_s, pa_now_s: pa_time_s)

    loop = asyncio.new_event_loop()
    try:
        canceller = RecordingCanceller()
        pipe = _CallbackPipe(
            loop, lambda items: None, rate_hz=device_hz, block_samples=512,
            echo_canceller=canceller,
        )  # fmt: skip
        block = device_hz // 50  # 20 ms device blocks
        t0 = 1000.0
        for k in range(50):
            stamps = types.SimpleNamespace(
                inputBufferAdcTime=t0 + k * block / device_hz,
                currentTime=t0 + k * block / device_hz + 0.03,
            )
            indata = np.zeros((block, 1), dtype=np.float32)
            pipe.callback(indata, block, stamps, None)
    finally:
        loop.close()
    delivered = 0
    for start_s, count in canceller.calls:
        assert start_s == pytest.approx(t0 + delivered / RATE_HZ, abs=1e-5)
        delivered += count
    assert delivered > 15_000 and canceller.stats.restarts == 0


def test_the_cleaned_signal_does_not_depend_on_how_the_microphone_cuts_it(
    speech: SpeechLibrary,
) -> None:
    """Samples held for the next call's frame, and blocks larger than any before (the
    buffers grow), change nothing: irregular blocks give the 512-sample blocks' output."""
    far, mic, _ = delayed_echo_scene(speech)

    def cleaned(sizes: list[int]) -> np.ndarray:
        reference = EchoReference()
        canceller = EchoCanceller(reference, apm=LivekitApm())
        out, start, k, played = [], 0, 0, 0
        while start + max(sizes) <= mic.size:
            size = sizes[k % len(sizes)]
            while played < start + size + 1024:  # the player runs ahead
                reference.push(far[played : played + 512], RATE_HZ, T0 + played / RATE_HZ)
                played += 512
            out.append(canceller.process(mic[start : start + size], T0 + start / RATE_HZ))
            start, k = start + size, k + 1
        return np.concatenate(out)

    regular, irregular = cleaned([512]), cleaned([512, 37, 1000, 160, 3, 2400, 480])
    n = min(regular.size, irregular.size)
    assert n > 3 * RATE_HZ
    assert np.array_equal(regular[:n], irregular[:n])


class ReadingReference(EchoReference):
    """The real reference, noting where each of the canceller's reads starts."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[float] = []

    def read_into(self, start_s: float, out: np.ndarray) -> np.ndarray:
        self.reads.append(start_s)
        return super().read_into(start_s, out)


def reads_with_stamp_errors(errors_s: dict[int, float]) -> tuple[list[float], EchoCanceller]:
    """Where the canceller reads the reference for 20 blocks of 480 samples (30 ms) whose
    stamps are exact but for ``errors_s`` (block index → error)."""
    reference = ReadingReference()
    canceller = EchoCanceller(reference, apm=LivekitApm())
    block = np.zeros(480, dtype=np.float32)
    for k in range(20):
        canceller.process(block, T0 + k * 0.030 + errors_s.get(k, 0.0))
    return reference.reads, canceller


def test_one_stray_microphone_stamp_moves_nothing() -> None:
    """On the rig a stamp is now and then 21–68 ms off and the next one on time again:
    the timeline keeps to the other stamps, for that block too."""
    exact, _ = reads_with_stamp_errors({})
    stray, canceller = reads_with_stamp_errors({8: 0.032})
    assert stray == pytest.approx(exact, abs=1e-9)
    assert canceller.stats.restarts == 0 and canceller.stats.stray_stamps == 1


def test_two_stamps_that_agree_restart_the_timeline() -> None:
    """A real jump (a reopened stream, input dropped): from the second stamp on, the
    timeline is where the stamps say (the first block is read at the old place)."""
    exact, _ = reads_with_stamp_errors({})
    jumped, canceller = reads_with_stamp_errors({k: 0.050 for k in range(8, 20)})
    assert jumped[:9] == pytest.approx(exact[:9], abs=1e-9)
    assert jumped[9:] == pytest.approx([t + 0.050 for t in exact[9:]], abs=1e-9)
    assert canceller.stats.restarts == 1 and canceller.stats.stray_stamps == 1
