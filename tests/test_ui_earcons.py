"""Earcons: the committed WAVs are what the generator makes; playing never blocks or raises."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from app.desktop.earcons import EARCONS, SAMPLE_RATE_HZ, EarconPlayer, asset_path, read_wav, render
from tests.support.fake_sounddevice import FakeSoundDevice


@pytest.mark.parametrize("name", sorted(EARCONS))
def test_committed_wav_matches_the_generator(name: str) -> None:
    samples, rate = read_wav(asset_path(name))
    assert rate == SAMPLE_RATE_HZ
    assert np.array_equal(samples, render(name)), "run: python -m app.desktop.earcons"
    assert 0.1 < len(samples) / rate < 0.3  # short
    peak = np.abs(samples).max() / 32768
    assert 0.2 < peak < 0.5  # audible, not startling
    assert abs(int(samples[0])) < 200 and abs(int(samples[-1])) < 200  # no clicks


def test_start_rises_and_stop_falls() -> None:
    def dominant_hz(x: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(x.astype(float)))
        return float(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE_HZ)[spectrum.argmax()])

    for name, rising in (("start", True), ("stop", False)):
        x = render(name)
        first, second = dominant_hz(x[: len(x) // 2]), dominant_hz(x[len(x) // 2 :])
        assert (second > first) is rising


def test_plays_off_the_calling_thread() -> None:
    sd = FakeSoundDevice()
    player = EarconPlayer(device="USB Headset", sounddevice=sd)
    future = player.play("start")
    assert future is not None
    future.result(timeout=5)
    assert sd.played == [(len(render("start")), SAMPLE_RATE_HZ, "USB Headset")]
    assert sd.play_threads[0] != threading.current_thread().name
    player.close()


def test_failure_is_silent_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    sd = FakeSoundDevice(fail_play=True)
    player = EarconPlayer(sounddevice=sd)
    with caplog.at_level(logging.WARNING, logger="app.desktop.earcons"):
        first = player.play("start")
        assert first is not None
        first.result(timeout=5)  # no exception escapes
        assert player.play("stop") is None  # broken: no more attempts
    assert caplog.text.count("earcons disabled") == 1
    player.close()


def test_disabled_player_plays_nothing() -> None:
    sd = FakeSoundDevice()
    player = EarconPlayer(sounddevice=sd)
    player.enabled = False
    assert player.play("start") is None
    player.close()
    assert sd.played == []
