"""SpeechPlayer through a fake sounddevice that drives the real callback at real-time pace."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from audio.errors import AudioErrorKind, SpeechOutputError
from audio.playback import ChunkStarted, PlaybackFailed, PlaybackIdle, PlayerEvent, SpeechPlayer
from tests.support.fake_output_stream import FakeOutputStream
from tests.support.fake_sounddevice import FakeSoundDevice

RATE = 22_050
BLOCK = RATE * 20 // 1000


def ramp(seconds: float, start: float = 0.01, stop: float = 0.99) -> np.ndarray:
    """Distinct, non-zero samples: lost or repeated samples show up in comparisons."""
    return np.linspace(start, stop, int(RATE * seconds), dtype=np.float32)


def sound(stream: FakeOutputStream, first_block: int = 0) -> np.ndarray:
    samples = stream.samples(first_block)
    return samples[samples != 0.0]


class Recorder:
    def __init__(self) -> None:
        self.events: list[PlayerEvent] = []

    def __call__(self, event: PlayerEvent) -> None:
        self.events.append(event)

    def started(self) -> list[str]:
        return [event.text for event in self.events if isinstance(event, ChunkStarted)]

    def heard(self) -> str:
        """The texts of the chunks whose first sample reached the device (untitled ones
        skipped): a chunk counts as heard once it started, even if stop() cut it short."""
        return " ".join(text for text in self.started() if text)


@pytest.fixture
def fake_sd() -> FakeSoundDevice:
    return FakeSoundDevice(speed=1.0)


@pytest.fixture
def player(fake_sd: FakeSoundDevice) -> Iterator[SpeechPlayer]:
    speech = SpeechPlayer(RATE, sounddevice_module=fake_sd, idle_close_s=30)
    yield speech
    speech.close()


async def test_chunks_play_in_order_sample_for_sample(fake_sd: FakeSoundDevice) -> None:
    player = SpeechPlayer(RATE, sounddevice_module=FakeSoundDevice(speed=8.0))
    recorder = Recorder()
    player.add_listener(recorder)
    first, second = ramp(0.3, 0.01, 0.5), ramp(0.2, 0.51, 0.99)
    try:
        player.enqueue(first, "one", tag=1)
        player.enqueue(second, "two", tag=2)
        assert not player.idle
        await asyncio.wait_for(player.wait_idle(), timeout=5)
        stream = player._sounddevice().last_stream
        np.testing.assert_array_equal(sound(stream), np.concatenate([first, second]))
        assert stream.blocksize == BLOCK and stream.samplerate == RATE
        assert stream.latency == "low"
        assert recorder.started() == ["one", "two"]
        assert [e.tag for e in recorder.events if isinstance(e, ChunkStarted)] == [1, 2]
        assert isinstance(recorder.events[-1], PlaybackIdle)
    finally:
        player.close()


async def test_stop_is_silent_within_one_block_and_drops_the_queue(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    recorder = Recorder()
    player.add_listener(recorder)
    player.enqueue(np.full(RATE * 5, 0.5, np.float32), "long")
    player.enqueue(np.full(RATE, 0.25, np.float32), "never heard")
    stream = fake_sd.last_stream
    assert await asyncio.to_thread(stream.wait_for_blocks, 5)
    player.stop()
    at_stop = stream.block_count
    assert player.idle
    await asyncio.wait_for(player.wait_idle(), timeout=0.1)  # at once
    assert await asyncio.to_thread(stream.wait_for_blocks, at_stop + 6)
    # block at_stop may have been in flight when stop() returned; none after it
    assert not np.any(stream.samples(at_stop + 1))
    assert recorder.heard() == "long"
    assert not np.any(stream.samples() == 0.25)  # the queued chunk never reached the device


async def test_pause_keeps_the_position_and_resume_continues(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    audio = ramp(0.5)
    player.enqueue(audio, "ramp")
    stream = fake_sd.last_stream
    assert await asyncio.to_thread(stream.wait_for_blocks, 5)
    player.pause()
    at_pause = stream.block_count
    assert player.paused and not player.idle
    assert await asyncio.to_thread(stream.wait_for_blocks, at_pause + 5)
    assert not np.any(stream.samples(at_pause + 1))
    player.resume()
    await asyncio.wait_for(player.wait_idle(), timeout=5)
    np.testing.assert_array_equal(sound(stream), audio)  # nothing lost, nothing repeated


async def test_played_seconds_count_audio_only_not_pauses_and_restart_at_stop(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    player.enqueue(ramp(0.3), "first")
    stream = fake_sd.last_stream
    assert await asyncio.to_thread(stream.wait_for_blocks, 3)
    player.pause()
    assert await asyncio.to_thread(stream.wait_for_blocks, stream.block_count + 2)
    paused_at = player.played_s  # (a block in flight at pause() has been counted by now)
    assert 0.0 < paused_at < 0.3
    assert await asyncio.to_thread(stream.wait_for_blocks, stream.block_count + 5)
    assert player.played_s == paused_at  # the silence of a pause is not heard
    player.resume()
    await asyncio.wait_for(player.wait_idle(), timeout=5)
    assert player.played_s == pytest.approx(0.3, abs=1 / RATE)
    assert await asyncio.to_thread(stream.wait_for_blocks, stream.block_count + 3)
    assert player.played_s == pytest.approx(0.3, abs=1 / RATE)  # idle blocks: silence
    player.stop()
    assert player.played_s == 0.0


async def test_wait_idle_waits_through_a_pause(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    player.enqueue(ramp(0.1), "short")
    player.pause()
    waiter = asyncio.create_task(player.wait_idle())
    stream = fake_sd.last_stream
    # 15 paused blocks (0.3 s, three times the chunk) pass with the waiter still waiting.
    assert await asyncio.to_thread(stream.wait_for_blocks, stream.block_count + 15)
    assert not waiter.done()
    player.resume()
    await asyncio.wait_for(waiter, timeout=5)


async def test_a_chunk_is_announced_once_it_started(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    recorder = Recorder()
    player.add_listener(recorder)
    player.enqueue(ramp(0.04, 0.01, 0.1), "")  # untitled audio counts for nothing
    first = ramp(2.0, 0.2, 0.4)
    player.enqueue(first, "first")
    player.enqueue(ramp(0.5, 0.6, 0.8), "second")
    stream = fake_sd.last_stream
    assert await asyncio.to_thread(stream.wait_for_blocks, 6)
    assert recorder.started() == ["", "first"]
    player.stop()
    at_stop = stream.block_count
    assert await asyncio.to_thread(stream.wait_for_blocks, at_stop + 3)
    assert recorder.heard() == "first"  # heard is heard, even if cut short
    played = sound(stream)
    assert np.any(np.isin(played, first)) and not np.any(played > 0.5)  # never "second"


async def test_stream_opens_lazily_and_closes_when_idle() -> None:
    fake_sd = FakeSoundDevice(speed=8.0)
    player = SpeechPlayer(RATE, sounddevice_module=fake_sd, idle_close_s=0.2)
    recorder = Recorder()
    player.add_listener(recorder)
    try:
        assert fake_sd.streams == [] and not player.stream_open
        player.enqueue(ramp(0.2), "a")
        first = fake_sd.last_stream
        await asyncio.wait_for(player.wait_idle(), timeout=5)
        assert await asyncio.to_thread(first.closed_event.wait, 5)
        assert not player.stream_open
        player.enqueue(ramp(0.2), "b")
        assert len(fake_sd.streams) == 2 and player.stream_open
        await asyncio.wait_for(player.wait_idle(), timeout=5)
        assert recorder.heard() == "a b"
        np.testing.assert_array_equal(sound(fake_sd.streams[1]), ramp(0.2))
    finally:
        player.close()
    assert fake_sd.last_stream.closed


async def test_a_busy_stream_is_not_closed() -> None:
    fake_sd = FakeSoundDevice(speed=1.0)
    player = SpeechPlayer(RATE, sounddevice_module=fake_sd, idle_close_s=0.05)
    try:
        player.enqueue(ramp(0.5), "long")
        await asyncio.wait_for(player.wait_idle(), timeout=5)
        assert len(fake_sd.streams) == 1  # never closed and reopened while it was playing
        np.testing.assert_array_equal(sound(fake_sd.streams[0]), ramp(0.5))
    finally:
        player.close()


async def test_a_chunk_is_played_even_when_the_idle_closer_wins_the_race() -> None:
    # With no idle grace at all, the housekeeping thread retires every freshly opened
    # stream at once; enqueue must notice and open another, never queue onto nothing.
    fake_sd = FakeSoundDevice(speed=4.0)
    player = SpeechPlayer(RATE, sounddevice_module=fake_sd, idle_close_s=0.0)
    try:
        for _ in range(20):
            player.enqueue(ramp(0.05), "short")
            await asyncio.wait_for(player.wait_idle(), timeout=5)
        played = np.concatenate([sound(stream) for stream in fake_sd.streams])
        assert np.count_nonzero(played) == 20 * ramp(0.05).size
    finally:
        player.close()


def test_no_output_device_is_an_actionable_error() -> None:
    player = SpeechPlayer(RATE, sounddevice_module=FakeSoundDevice(output_available=False))
    with pytest.raises(SpeechOutputError) as caught:
        player.enqueue(ramp(0.1), "x")
    assert caught.value.kind is AudioErrorKind.NO_DEVICE
    assert "Settings → Audio" in str(caught.value)
    assert player.idle


def test_real_sounddevice_without_a_sound_card() -> None:
    import sounddevice

    try:
        sounddevice.query_devices(kind="output")
    except (sounddevice.PortAudioError, ValueError):
        pass
    else:
        pytest.skip("this machine has an output device")
    player = SpeechPlayer(RATE, sounddevice_module=sounddevice)
    with pytest.raises(SpeechOutputError, match="not available"):
        player.enqueue(ramp(0.1), "x")
    player.close()


def test_unknown_device_name_is_an_actionable_error() -> None:
    import sounddevice

    player = SpeechPlayer(RATE, device="No Such Speakers", sounddevice_module=sounddevice)
    with pytest.raises(SpeechOutputError, match="“No Such Speakers” is not available"):
        player.open()


async def test_a_vanishing_device_is_reported_not_a_crash(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    recorder = Recorder()
    player.add_listener(recorder)
    player.enqueue(ramp(3.0), "talking")
    stream = fake_sd.last_stream
    assert await asyncio.to_thread(stream.wait_for_blocks, 3)
    stream.lose_device()
    await asyncio.wait_for(player.wait_idle(), timeout=5)
    failures = [e for e in recorder.events if isinstance(e, PlaybackFailed)]
    assert len(failures) == 1
    assert failures[0].error.kind is AudioErrorKind.DEVICE_LOST
    assert "unplugged" in failures[0].error.message
    assert not player.stream_open
    with pytest.raises(SpeechOutputError):
        player.enqueue(ramp(0.1), "again")  # still gone
    fake_sd.output_available = True  # plugged back in
    player.enqueue(ramp(0.1), "back")
    await asyncio.wait_for(player.wait_idle(), timeout=5)
    assert recorder.heard().endswith("back")
    np.testing.assert_array_equal(sound(fake_sd.last_stream), ramp(0.1))


async def test_a_failing_listener_does_not_stop_playback(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    def broken(event: PlayerEvent) -> None:
        raise RuntimeError("listener bug")

    recorder = Recorder()
    player.add_listener(broken)
    player.add_listener(recorder)
    player.enqueue(ramp(0.1), "fine")
    await asyncio.wait_for(player.wait_idle(), timeout=5)
    assert fake_sd.last_stream.callback_error is None
    assert recorder.heard() == "fine"  # listeners after the broken one still hear
    np.testing.assert_array_equal(sound(fake_sd.last_stream), ramp(0.1))


async def test_duck_turns_down_at_once_then_pauses_keeping_the_position(
    fake_sd: FakeSoundDevice,
) -> None:
    """Issue 16: a speech onset ducks the reply (−20 dB); only speech that goes on for
    ``pause_after_s`` pauses it; ``resume`` plays on at full volume from where it was."""
    tapped: list[np.ndarray] = []
    player = SpeechPlayer(
        RATE,
        sounddevice_module=fake_sd,
        idle_close_s=30,
        tap=lambda block, rate, at_s: tapped.append(block),
    )
    try:
        audio = np.full(RATE * 2, 0.5, dtype=np.float32)
        player.enqueue(audio, "tone")
        stream = fake_sd.last_stream
        assert await asyncio.to_thread(stream.wait_for_blocks, 3)
        player.duck(pause_after_s=0.2)
        at_duck = stream.block_count
        assert await asyncio.to_thread(stream.wait_for_blocks, at_duck + 25)
        after = stream.samples(at_duck)
        levels = [float(np.max(np.abs(after[i : i + BLOCK]))) for i in range(0, after.size, BLOCK)]
        ducked = [lv for lv in levels if 0 < lv < 0.1]
        assert ducked and max(ducked) == pytest.approx(0.05, abs=0.002)  # 0.5 at −20 dB
        assert 8 <= len(ducked) <= 13  # ~0.2 s of 20 ms blocks, then silence
        assert levels[-1] == 0.0 and player.paused and not player.idle
        player.resume()
        await asyncio.wait_for(player.wait_idle(), timeout=5)
        played = stream.samples()
        assert np.count_nonzero(played) == audio.size  # nothing lost, nothing repeated
        # The tap saw exactly what was written, ducked blocks and silence included.
        np.testing.assert_array_equal(np.concatenate(tapped)[: played.size], played)
    finally:
        player.close()


async def test_resume_before_the_pause_is_only_a_dip_in_volume(
    player: SpeechPlayer, fake_sd: FakeSoundDevice
) -> None:
    player.enqueue(np.full(RATE, 0.5, dtype=np.float32), "tone")
    stream = fake_sd.last_stream
    assert await asyncio.to_thread(stream.wait_for_blocks, 3)
    player.duck(pause_after_s=0.5)
    at_duck = stream.block_count
    assert await asyncio.to_thread(stream.wait_for_blocks, at_duck + 5)
    player.resume()
    await asyncio.wait_for(player.wait_idle(), timeout=5)
    played = stream.samples()
    sounding = np.nonzero(played)[0]
    assert sounding.size == RATE  # every sample played once
    assert sounding[-1] - sounding[0] + 1 == RATE  # never silent in between: no audible stop
    assert np.any(played[sounding] < 0.1) and not player.ducked
