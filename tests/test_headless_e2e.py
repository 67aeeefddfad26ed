"""End to end: ``harken --headless`` as a real process, real audio, a real local server.

The audio file is read as a microphone paced in real time (``--realtime``),
so the second utterance really is spoken while the first reply streams.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.speech import SpeechLibrary, silence, white_noise, write_wav
from tests.support.spoken_interruption import spoken_interruption
from tests.support.sse_server import ScriptedServer, last_user_text, openai_stream, sse_reply

ROOT = Path(__file__).resolve().parent.parent


def run_headless(*args: str, timeout_s: float = 120) -> tuple[int, list[dict[str, Any]], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--headless", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, events, proc.stderr


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def position(events: list[dict[str, Any]], kind: str, **match: Any) -> int:
    for i, e in enumerate(events):
        if e["type"] == kind and all(e.get(k) == v for k, v in match.items()):
            return i
    raise AssertionError(f"no {kind} {match} in {[e['type'] for e in events]}")


def test_spoken_interruption_end_to_end(
    speech: SpeechLibrary, server: ScriptedServer, tmp_path: Path
) -> None:
    path = spoken_interruption(speech, server, tmp_path / "two.wav")
    code, events, stderr = run_headless(
        "--input", str(path), "--realtime", "--no-tts",
        "--base-url", server.base_url("openai"), "--model", "m", "--api-key", "sk-local",
    )  # fmt: skip
    assert code == 0, stderr
    types = [e["type"] for e in events]
    assert types[0] == "ready" and all({"ts", "t"} <= e.keys() for e in events)
    transcripts = of(events, "transcript")
    assert len(transcripts) == 2, types
    assert "dragon" in transcripts[0]["text"].lower()
    assert "capital" in transcripts[1]["text"].lower()  # tiny.en hears "France" as "friends" here
    t1, t2 = transcripts[0]["turn_id"], transcripts[1]["turn_id"]
    i_echo = position(events, "transcript", turn_id=t2)
    i_cut = position(events, "turn_interrupted", turn_id=t1, by=t2)
    i_new = position(events, "turn_started", turn_id=t2)
    assert i_echo < i_cut < i_new
    assert position(events, "turn_finished", turn_id=t2) > i_new
    assert of(events, "turn_failed") == []
    # The story's stream (the one its turn used: the last one asked for it) was closed, and
    # each early request the turns did not take over too; none was retried.
    stories, questions = server.requests_for("dragon"), server.requests_for("capital")
    assert len(stories) + len(questions) == len(server.requests)
    assert len(stories) <= 2 and len(questions) <= 2
    for request in [*stories, *questions[:-1]]:  # a stalled story ends only by a hang-up
        server.wait_for_end(request, timeout_s=2.0)
    sent = questions[-1].json()["messages"]
    assert "dragon" in sent[-3]["content"].lower()
    assert sent[-2]["role"] == "assistant" and sent[-2]["content"].startswith("Once upon a time 0.")
    assert "interrupted" in sent[-2]["content"]
    assert "capital" in sent[-1]["content"].lower()


def test_noise_burst_during_reply_does_not_interrupt(
    speech: SpeechLibrary, server: ScriptedServer, tmp_path: Path
) -> None:
    question = speech.say("Count slowly to five.")
    noise = white_noise(0.6, level_dbfs=-18.0, seed=3)
    audio = np.concatenate([silence(0.3), question, silence(1.0), noise, silence(1.5)])
    path = write_wav(tmp_path / "noise.wav", audio)
    # Answered by content: an early request at the pause (app.agent.early_request) that the
    # turn does not take over must not use up the turn's reply.
    server.answer(
        "", sse_reply(openai_stream(["One, ", "two, ", "three, ", "four, ", "five."], delay_s=0.5))
    )
    code, events, stderr = run_headless(
        "--input", str(path), "--realtime", "--no-tts",
        "--base-url", server.base_url("openai"), "--model", "m",
    )  # fmt: skip
    assert code == 0, stderr
    assert len(of(events, "transcript")) == 1
    assert of(events, "turn_interrupted") == []
    finished = of(events, "turn_finished")
    assert [f["text"] for f in finished] == ["One, two, three, four, five."]
    # The turn's own request, and at most an early one at the pause: none for the noise.
    said = of(events, "transcript")[0]["text"].lower()
    assert said in [last_user_text(r) for r in server.requests]
    assert len(server.requests) <= 2


def test_typed_turn_and_usage_errors(server: ScriptedServer, tmp_path: Path) -> None:
    server.add(sse_reply(openai_stream(["Hi ", "there."])))
    code, events, stderr = run_headless(
        "--say", "hello", "--no-tts", "--base-url", server.base_url("openai"), "--model", "m"
    )
    assert code == 0, stderr
    assert [e["type"] for e in events if e["type"] != "status"][:2] == ["ready", "turn_started"]
    assert of(events, "turn_finished")[0]["text"] == "Hi there."
    code, _, stderr = run_headless("--input", str(tmp_path / "missing.wav"))
    assert code == 2 and "no such file" in stderr
    code, _, stderr = run_headless("--say", "x", "--provider", "anthropic")
    assert code == 2 and "ANTHROPIC_API_KEY" in stderr and len(stderr.strip().splitlines()) == 1


def test_partial_transcripts_while_speaking_and_the_switches_that_turn_them_off(
    speech: SpeechLibrary, server: ScriptedServer, tmp_path: Path
) -> None:
    said = "Please set a timer for ten minutes and then remind me to call my mother tonight."
    audio = np.concatenate([silence(0.4), speech.say(said), silence(1.2)])
    path = write_wav(tmp_path / "long.wav", audio)
    server.add(sse_reply(openai_stream(["Done."])), sse_reply(openai_stream(["Done."])))
    common = ("--input", str(path), "--realtime", "--no-tts", "--base-url",
              server.base_url("openai"), "--model", "m", "--api-key", "sk-local")  # fmt: skip

    code, events, stderr = run_headless(*common, "--loop-lag")
    assert code == 0, stderr
    (transcript,) = of(events, "transcript")
    utterance = transcript["utterance_id"]
    partials = of(events, "partial_transcript")
    assert partials, [e["type"] for e in events]
    assert all(p["utterance_id"] == utterance and p["text"] for p in partials)
    assert position(events, "partial_transcript") < position(events, "speech_ended")
    assert "timer" in transcript["text"].lower()
    (lag,) = of(events, "loop_lag")
    assert lag["samples"] > 100 and 0 <= lag["worst_s"] < 5.0  # a hang bound, not a figure

    code, events, stderr = run_headless(*common, "--no-speculation", "--fixed-hangover")
    assert code == 0, stderr
    assert of(events, "partial_transcript") == [] and of(events, "loop_lag") == []
    (transcript,) = of(events, "transcript")
    assert "timer" in transcript["text"].lower() and transcript["utterance_id"] >= 1
