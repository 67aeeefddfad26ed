"""Hands-free on laptop speakers, on the real rig (issue 16).

``harken --headless`` listens to the live microphone (PortAudio → PulseAudio)
while its real player speaks a long Piper reply on a speaker sink whose sound
reaches the microphone through ``module-loopback`` at 0, −20 and −30 dB; 12 s
into the reply the user says "Stop and tell me the weather in Paris." over it.
With echo cancellation Harken neither answers nor pauses for its own voice, and
hears the user. (``tests/bench/bench_echo.py`` measures the same runs, with echo
cancellation on and off.)
"""

from __future__ import annotations

import pytest

from tests.support.echo_scenario import EchoRun, run_scenario
from tests.support.pulse import EchoRig
from tests.support.speech import SpeechLibrary
from tests.support.sse_server import ScriptedServer

pytest_plugins = ["tests.support.pulse"]
pytestmark = [pytest.mark.pulse, pytest.mark.timeout(240)]


def summary(run: EchoRun) -> str:
    shown = ("speech_started", "transcript", "false_interruption", "turn_started", "error")
    lines = [
        f"{e['ts'] - run.speaker_t0:6.2f} {e['type']} {e.get('text', e.get('reason', ''))}"
        for e in run.events
        if e["type"] in shown
    ]
    return "\n".join(lines)


@pytest.mark.parametrize("coupling_db", [0.0, -20.0, -30.0])
def test_talking_over_the_reply_on_speakers(
    echo_rig: EchoRig, server: ScriptedServer, speech: SpeechLibrary, coupling_db: float
) -> None:
    run = run_scenario(echo_rig, server, speech, coupling_db=coupling_db, echo_cancellation=True)
    story = summary(run)
    assert run.of("error") == [], story
    assert run.self_interruptions() == 0, story  # never answered its own voice
    assert run.own_voice_onsets() <= 1, story  # and (almost) never paused for it
    # The user was heard over the reply, and the reply gave way to the new request.
    # Half the words, not 0.75: tiny.en is unsteady on this sentence whatever the echo.
    # Replayed from the rig's own recordings, the user's voice alone (no echo at all),
    # cut 0–0.3 s before it starts, gave 0.50–1.00 (median 0.75; "Top and Tell Meatlet
    # Weather in Paris."), the canceller's output 0.62–1.00 (median 0.88); at 0 dB the
    # canceller loses "Stop and" in double talk however soon the reply is ducked or paused.
    assert run.interruption_overlap() >= 0.5, story
    assert "paris" in run.interruption_transcript().lower(), story
    latency = run.request_latency_s()
    assert latency is not None and latency < 5.0, story  # a hang bound, not a speed figure
    first = run.reply_turn()
    assert any(e["turn_id"] == first for e in run.of("turn_interrupted")), story
