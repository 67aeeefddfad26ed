"""MicrophoneSource through a fake sounddevice that replays audio via the real callback signature.

Covers: same blocks as the file source, device choice, the failure modes
(no device, busy, unplugged, muted) as typed errors, restarting capture, a
48 kHz-only device resampled to 16 kHz, a stereo-only device downmixed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from audio.capture import SAMPLE_RATE_HZ
from audio.devices import describe_devices, find_input_device, list_input_devices
from audio.errors import AudioErrorKind, CaptureError
from audio.file_source import FileSource, decode_file
from audio.microphone import MicrophoneSource
from tests.support.fake_sounddevice import FakeDevice, FakeSoundDevice
from tests.support.speech import sine, white_noise

FAST = 40.0  # replay speed for tests that do not care about pacing


async def take(mic: MicrophoneSource, n: int) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    async with asyncio.timeout(20):
        async for block in mic.blocks():
            out.append(block)
            if len(out) == n:
                break
    return out


async def read_until_error(mic: MicrophoneSource) -> tuple[list[np.ndarray], CaptureError]:
    blocks: list[np.ndarray] = []
    with pytest.raises(CaptureError) as info:
        async with asyncio.timeout(20):
            async for block in mic.blocks():
                blocks.append(block)
    return blocks, info.value


async def test_microphone_delivers_the_same_blocks_as_the_file(jfk_flac: Path) -> None:
    async with FileSource(jfk_flac) as file:
        from_file = [b async for b in file.blocks()]
        file_time = file.stream_time_s
    fake = FakeSoundDevice(decode_file(jfk_flac), speed=FAST)
    async with MicrophoneSource(sounddevice_module=fake) as mic:
        from_mic = await take(mic, len(from_file))
        assert mic.stream_time_s == pytest.approx(file_time)
    assert len(from_mic) == len(from_file) > 300
    # The fake reuses one indata buffer like PortAudio: equal blocks prove each was copied.
    for a, b in zip(from_mic, from_file, strict=True):
        assert a.dtype == np.float32 and a.shape == (512,)
        np.testing.assert_array_equal(a, b)
    stream = fake.streams[0]
    assert (stream.samplerate, stream.channels) == (SAMPLE_RATE_HZ, 1)
    assert stream.closed


async def test_no_input_device_is_a_readable_error() -> None:
    fake = FakeSoundDevice(
        devices=[FakeDevice("Speakers", max_input_channels=0, max_output_channels=2)]
    )
    with pytest.raises(CaptureError) as info:
        async with MicrophoneSource(sounddevice_module=fake):
            pass
    assert info.value.kind is AudioErrorKind.NO_DEVICE
    assert str(info.value) == (
        "No microphone was found. Plug one in or pick another in Settings → Audio."
    )
    assert fake.streams == []


async def test_busy_device_then_restart_once_it_is_free() -> None:
    fake = FakeSoundDevice(white_noise(2.0, -30), speed=FAST, busy=True)
    mic = MicrophoneSource(sounddevice_module=fake)
    with pytest.raises(CaptureError) as info:
        async with mic:
            pass
    assert info.value.kind is AudioErrorKind.DEVICE_BUSY
    assert "another application may be using it" in str(info.value)
    assert "Fake USB Microphone" in str(info.value)

    fake.busy = False  # the other application let go: the same source opens now
    async with mic:
        assert len(await take(mic, 5)) == 5


async def test_unplugged_mid_utterance_then_restart() -> None:
    fake = FakeSoundDevice(white_noise(3.0, -20), speed=FAST, unplug_after_s=0.5)
    mic = MicrophoneSource(sounddevice_module=fake)
    async with mic:
        blocks, err = await read_until_error(mic)
    assert err.kind is AudioErrorKind.DEVICE_LOST
    assert "was it unplugged?" in str(err)
    assert 10 <= len(blocks) <= 17  # ~0.5 s of audio got through before the device vanished
    assert fake.streams[0].lost and fake.streams[0].closed  # close() raised and was tolerated

    fake.unplug_after_s = None  # plugged back in
    async with mic:
        assert mic.stream_time_s == 0.0
        assert len(await take(mic, 20)) == 20
        assert mic.stream_time_s == pytest.approx(20 * 512 / SAMPLE_RATE_HZ)


async def test_device_that_stops_calling_back_counts_as_unplugged() -> None:
    fake = FakeSoundDevice(white_noise(3.0, -20), speed=FAST, unplug_after_s=0.3, unplug="stall")
    async with MicrophoneSource(sounddevice_module=fake, stall_timeout_s=0.3) as mic:
        blocks, err = await read_until_error(mic)
    assert err.kind is AudioErrorKind.DEVICE_LOST
    assert 0 < len(blocks) <= 10


async def test_overruns_are_logged_with_their_count_but_not_per_overrun(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Every 100th callback (3.2 s of audio) reports dropped input: 21 in 70 s.
    fake = FakeSoundDevice(white_noise(70.0, -20), speed=math.inf, overrun_every=100)
    with caplog.at_level(logging.WARNING, logger="audio.microphone"):
        async with MicrophoneSource(sounddevice_module=fake) as mic:
            await take(mic, round(70.0 * SAMPLE_RATE_HZ / 512))
    warnings = [r for r in caplog.records if "dropped input" in r.getMessage()]
    counts = [r.args[1] for r in warnings]  # type: ignore[index]
    at_s = [r.args[3] for r in warnings]  # type: ignore[index]
    totals = [r.args[4] for r in warnings]  # type: ignore[index]
    assert counts[0] == 1 and at_s[0] == pytest.approx(3.2, abs=0.1)  # the first at once
    assert 3 <= len(warnings) <= 4  # not 21: at most one per 30 s of audio, plus on close
    assert all(b - a >= 30.0 for a, b in zip(at_s[:3], at_s[1:3], strict=False))
    assert sum(counts) == totals[-1] >= 21  # every overrun is counted in some line


async def test_only_digital_silence_means_muted() -> None:
    fake = FakeSoundDevice(None, speed=FAST)  # exact zeros, as from a muted input
    async with MicrophoneSource(sounddevice_module=fake, silence_timeout_s=1.0) as mic:
        blocks, err = await read_until_error(mic)
    assert err.kind is AudioErrorKind.SILENT_INPUT
    assert str(err).startswith("The microphone is sending only silence — is it muted?")
    assert len(blocks) == int(1.0 * SAMPLE_RATE_HZ / 512)


async def test_a_very_quiet_room_is_not_muted() -> None:
    fake = FakeSoundDevice(white_noise(2.0, -90), speed=FAST)
    async with MicrophoneSource(sounddevice_module=fake, silence_timeout_s=0.5) as mic:
        assert len(await take(mic, 50)) == 50  # 1.6 s of near-silence, no error


async def test_48khz_only_device_is_resampled_to_16khz() -> None:
    rate = 48000
    tone = np.concatenate([sine(1000, 1.0, 0.5, rate), sine(12000, 1.0, 0.5, rate)])
    device = FakeDevice("Studio Interface", default_samplerate=rate, rates_hz=frozenset({rate}))
    fake = FakeSoundDevice(tone, audio_rate_hz=rate, devices=[device], speed=FAST)
    async with MicrophoneSource(sounddevice_module=fake) as mic:
        blocks = await take(mic, 60)  # 1.92 s at 16 kHz
    assert mic.device_rate_hz == rate and fake.streams[0].samplerate == rate
    audio = np.concatenate(blocks)
    first = audio[1600:14400]  # 0.1 .. 0.9 s: the 1 kHz part
    spectrum = np.abs(np.fft.rfft(first * np.hanning(len(first))))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE_HZ / len(first)
    assert abs(peak_hz - 1000) < 5
    assert np.sqrt(np.mean(first**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    # 12 kHz is above 16 kHz's Nyquist: it must be filtered out, not folded down to 4 kHz.
    second = audio[17600:30400]
    assert 20 * np.log10(np.sqrt(np.mean(second**2)) + 1e-12) < -60


async def test_stereo_only_device_is_downmixed() -> None:
    device = FakeDevice("Webcam", max_input_channels=2, channel_counts=frozenset({2}))
    noise = white_noise(1.0, -20)
    fake = FakeSoundDevice(noise, devices=[device], speed=FAST)
    async with MicrophoneSource(sounddevice_module=fake) as mic:
        blocks = await take(mic, 10)
    assert fake.streams[0].channels == 2
    np.testing.assert_allclose(np.concatenate(blocks), noise[: 10 * 512], atol=1e-7)


async def test_close_ends_the_block_stream_promptly() -> None:
    fake = FakeSoundDevice(white_noise(30.0, -20), speed=1.0)
    async with MicrophoneSource(sounddevice_module=fake) as mic:
        got: list[np.ndarray] = []
        first = asyncio.Event()

        async def pump() -> None:
            async for block in mic.blocks():
                got.append(block)
                first.set()

        task = asyncio.create_task(pump())
        await asyncio.wait_for(first.wait(), 5)
        mic.close()
        await asyncio.wait_for(task, 2)
    assert 0 < len(got) < 60


def test_device_choice_by_name_index_and_default() -> None:
    fake = FakeSoundDevice(
        devices=[
            FakeDevice("HDA Intel PCH: ALC3246 Analog (hw:0,0)", max_input_channels=2),
            FakeDevice("HDMI 0 (hw:0,3)", max_input_channels=0, max_output_channels=8),
            FakeDevice("Blue Yeti USB Microphone (hw:2,0)"),
        ]
    )
    assert [d.index for d in list_input_devices(fake)] == [0, 2]
    assert find_input_device(None, fake).index == 0
    assert find_input_device("blue yeti", fake).index == 2
    assert find_input_device(2, fake).name.startswith("Blue Yeti")
    # Re-plugged into another USB port: the ALSA card number changed.
    assert find_input_device("Blue Yeti USB Microphone (hw:3,0)", fake).index == 2
    with pytest.raises(CaptureError) as info:
        find_input_device("Rode NT-USB", fake)
    assert info.value.kind is AudioErrorKind.NO_DEVICE and "Rode NT-USB" in str(info.value)
    with pytest.raises(CaptureError):
        find_input_device(1, fake)  # an output-only device is not a microphone
    listing = describe_devices(fake)
    assert "Blue Yeti USB Microphone (hw:2,0), Fake ALSA — input" in listing
    assert "  0  HDA Intel PCH" in listing and "input (default)" in listing
    assert "HDMI 0 (hw:0,3), Fake ALSA — output (default)" in listing


async def test_microphone_opens_the_device_chosen_by_name() -> None:
    fake = FakeSoundDevice(
        white_noise(1.0, -20),
        devices=[FakeDevice("Built-in"), FakeDevice("USB Headset")],
        speed=FAST,
    )
    async with MicrophoneSource("headset", sounddevice_module=fake) as mic:
        await take(mic, 2)
    assert fake.streams[0].device == 1
    assert mic.device_info is not None and mic.device_info.name == "USB Headset"
