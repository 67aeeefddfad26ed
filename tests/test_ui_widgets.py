"""Level meter and state indicator: driven by controller events, and honest about them."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.desktop.controls.level_meter import LevelMeter
from app.desktop.controls.state_indicator import DisplayState, StateIndicator, StateTracker

S = ev.State


def test_level_meter_jumps_up_and_falls_back_smoothly(qtbot: QtBot) -> None:
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.show()
    assert meter.level == 0.0
    meter.handle_event(ev.InputLevel(rms_dbfs=-12, peak_dbfs=-6, normalised=0.8))
    assert meter.level == pytest.approx(0.8)
    assert meter.accessibleDescription() == "80 %"
    meter.handle_event(ev.InputLevel(normalised=0.0))
    assert meter.level == pytest.approx(0.8), "the bar falls back over time, not at once"
    seen: list[float] = []
    qtbot.waitUntil(lambda: seen.append(meter.level) or meter.level == 0.0, timeout=3000)
    falling = [v for v in seen if 0.0 < v < 0.8]
    assert falling, "expected intermediate levels while falling"
    assert seen == sorted(seen, reverse=True)
    assert meter.accessibleName() == "Microphone level"
    meter.handle_event(ev.InputLevel(normalised=7.0))  # out of range is clamped
    assert meter.level == 1.0


def states(tracker: StateTracker, events: list[ev.Event]) -> list[DisplayState]:
    seen: list[DisplayState] = []
    tracker.changed.connect(seen.append)
    for event in events:
        tracker.handle_event(event)
    return seen


def test_tracker_follows_a_spoken_turn() -> None:
    tracker = StateTracker()
    seen = states(
        tracker,
        [
            ev.StateChanged(state=S.LISTENING),
            ev.StateChanged(state=S.TRANSCRIBING),
            ev.StateChanged(state=S.THINKING),
            ev.StateChanged(state=S.REPLYING),
            ev.TtsStarted(turn_id=1),
            ev.StateChanged(state=S.IDLE),  # text done, audio still playing
            ev.TtsStopped(turn_id=1),
        ],
    )
    assert seen == [
        DisplayState.LISTENING,
        DisplayState.TRANSCRIBING,
        DisplayState.THINKING,
        DisplayState.REPLYING,
        DisplayState.SPEAKING,
        DisplayState.IDLE,
    ]


def test_tracker_user_speech_wins_over_playback() -> None:
    tracker = StateTracker()
    states(tracker, [ev.StateChanged(state=S.REPLYING), ev.TtsStarted(turn_id=1)])
    assert tracker.state == DisplayState.SPEAKING
    tracker.handle_event(ev.StateChanged(state=S.LISTENING))  # barge-in: playback paused
    assert tracker.state == DisplayState.LISTENING


@pytest.mark.parametrize(
    "end",
    [
        ev.TurnFailed(turn_id=1, kind="network", message="down"),
        ev.TurnInterrupted(turn_id=1, by="user", kept_text=""),
    ],
)
def test_tracker_never_claims_a_dead_turn_is_running(end: ev.Event) -> None:
    tracker = StateTracker()
    states(tracker, [ev.StateChanged(state=S.REPLYING), ev.TtsStarted(turn_id=1), end])
    assert tracker.state == DisplayState.IDLE


def test_tracker_keeps_listening_through_an_interrupt() -> None:
    tracker = StateTracker()
    states(
        tracker,
        [
            ev.StateChanged(state=S.REPLYING),
            ev.StateChanged(state=S.TRANSCRIBING),
            ev.TurnInterrupted(turn_id=1, by=2, kept_text="x"),
        ],
    )
    assert tracker.state == DisplayState.TRANSCRIBING


def test_indicator_label_and_accessible_name(qtbot: QtBot) -> None:
    tracker = StateTracker()
    indicator = StateIndicator(tracker)
    qtbot.addWidget(indicator)
    assert indicator.label.text() == "Ready"
    tracker.handle_event(ev.StateChanged(state=S.THINKING))
    assert indicator.label.text() == "Thinking…"
    assert indicator.accessibleName() == "Assistant state: Thinking"


def test_tracker_says_loading_until_ready() -> None:
    tracker = StateTracker(loading=True)
    assert tracker.state == DisplayState.LOADING
    tracker.handle_event(ev.TtsStopped(turn_id=1))
    assert tracker.state == DisplayState.LOADING
    tracker.handle_event(ev.Ready(stt_model="tiny.en"))
    assert tracker.state == DisplayState.IDLE
    typed_first = StateTracker(loading=True)  # a typed turn before the models are ready
    typed_first.handle_event(ev.StateChanged(state=S.THINKING))
    assert typed_first.state == DisplayState.THINKING
