"""End to end: ``harken --headless --stt-url`` against the real faster-whisper-server.

The server (``tests.support.whisper_server``) serves the bundled tiny.en on a
free port and its access log counts the utterances it transcribed; the LLM is
the scripted SSE server; the input is espeak speech read as a microphone in
real time. Through the CLI, so the flags, the settings and the composition
root are the ones a user runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from app.config.first_run import TRANSCRIPTION_SERVERS, Offer, detect
from app.config.secrets import SecretStore
from app.config.settings import Settings, save_settings
from app.config.stt_config import SttConfig
from app.desktop.settings.stt_group import SpeechRecognitionGroup
from app.desktop.window.main_window import MainWindow
from app.selftest.runner import run_self_test
from app.selftest.stt_server import stt_server_check
from tests.support.scripted_bridge import ScriptedBridge
from tests.support.speech import SpeechLibrary, silence, write_wav
from tests.support.spoken_interruption import spoken_interruption
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply
from tests.support.whisper_server import WhisperServer, free_port, running_whisper_server
from tests.test_headless_e2e import of, position, run_headless

ROOT = Path(__file__).resolve().parent.parent
FALLBACK = "transcribed on this computer instead"


@pytest.fixture(scope="module")
def whisper_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhisperServer]:
    with running_whisper_server(tmp_path_factory.mktemp("fws")) as server:
        yield server


@pytest.fixture
def patient() -> None:
    """A generous server deadline: this machine is shared, and a slow answer is not the
    point of these tests (tests/test_server_stt.py covers the deadline)."""
    settings = Settings()
    settings.stt.timeout_ms = 60_000
    save_settings(settings)


def llm(server: ScriptedServer) -> tuple[str, ...]:
    return ("--no-tts", "--base-url", server.base_url("openai"), "--model", "m",
            "--api-key", "sk-local")  # fmt: skip


def test_a_voice_turn_in_headless_mode_is_transcribed_by_the_server(
    speech: SpeechLibrary,
    server: ScriptedServer,
    whisper_server: WhisperServer,
    tmp_path: Path,
    patient: None,
) -> None:
    audio = np.concatenate([silence(0.4), speech.say("What is the capital of France?"), silence(1)])
    path = write_wav(tmp_path / "one.wav", audio)
    server.add(sse_reply(openai_stream(["Paris."])))
    before = whisper_server.transcriptions
    code, events, stderr = run_headless(
        "--input", str(path), "--stt-url", whisper_server.url, *llm(server)
    )
    assert code == 0, stderr
    ready = events[0]
    assert ready["type"] == "ready" and ready["stt_engine"] == "server"
    assert ready["stt_url"] == whisper_server.url and whisper_server.url in ready["stt_model"]
    assert whisper_server.wait_transcriptions(before + 1) - before == 1  # the server's words
    (transcript,) = of(events, "transcript")
    assert "france" in transcript["text"].lower()
    assert not [e for e in of(events, "status") if FALLBACK in e["text"]]
    assert "france" in server.requests[0].json()["messages"][-1]["content"].lower()


def test_barge_in_with_remote_transcription_transcript_first_one_close_no_retry(
    speech: SpeechLibrary,
    server: ScriptedServer,
    whisper_server: WhisperServer,
    tmp_path: Path,
    patient: None,
) -> None:
    path = spoken_interruption(speech, server, tmp_path / "two.wav")
    before = whisper_server.transcriptions
    code, events, stderr = run_headless(
        "--input", str(path), "--realtime", "--stt-url", whisper_server.url, *llm(server)
    )
    assert code == 0, stderr
    transcripts = of(events, "transcript")
    assert len(transcripts) == 2, [e["type"] for e in events]
    assert "dragon" in transcripts[0]["text"].lower()
    assert "capital" in transcripts[1]["text"].lower()
    t1, t2 = transcripts[0]["turn_id"], transcripts[1]["turn_id"]
    i_echo = position(events, "transcript", turn_id=t2)
    i_cut = position(events, "turn_interrupted", turn_id=t1, by=t2)
    i_new = position(events, "turn_started", turn_id=t2)
    assert i_echo < i_cut < i_new  # transcribed first, then echoed, then interrupted
    assert of(events, "turn_failed") == []
    stories, questions = server.requests_for("dragon"), server.requests_for("capital")
    assert len(stories) + len(questions) == len(server.requests)
    assert len(stories) <= 2 and len(questions) <= 2  # none retried (at most one early each)
    for request in [*stories, *questions[:-1]]:  # the old stream (and unused early ones) closed
        server.wait_for_end(request, timeout_s=2.0)
    assert whisper_server.wait_transcriptions(before + 2) - before == 2  # both from the server
    assert not [e for e in of(events, "status") if FALLBACK in e["text"]]


def test_the_server_going_down_mid_session_falls_back_to_local_whisper_with_a_message(
    speech: SpeechLibrary, server: ScriptedServer, tmp_path: Path, patient: None
) -> None:
    first = speech.say("What is the capital of France?")
    second = speech.say("Please set a timer for ten minutes.")
    audio = np.concatenate([silence(0.4), first, silence(6.0), second, silence(1.2)])
    path = write_wav(tmp_path / "two.wav", audio)
    server.answer("france", sse_reply(openai_stream(["Paris."])))
    server.answer("timer", sse_reply(openai_stream(["Done."])))
    events: list[dict[str, Any]] = []
    with running_whisper_server(tmp_path) as whisper_server:
        before = whisper_server.transcriptions  # the warm-up
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "--headless",
                "--input",
                str(path),
                "--realtime",
                "--stt-url",
                whisper_server.url,
                *llm(server),
            ],  # fmt: skip
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                events.append(json.loads(line))
                if events[-1]["type"] == "transcript":
                    break  # the first utterance is in: take the server down
        except BaseException:
            proc.kill()
            proc.communicate()
            raise
        whisper_server.wait_transcriptions(before + 1)
    served = whisper_server.transcriptions - before  # all of its log, read to the end
    out, stderr = proc.communicate(timeout=60)
    events += [json.loads(line) for line in out.splitlines() if line.strip()]
    assert proc.returncode == 0, stderr
    transcripts = of(events, "transcript")
    assert len(transcripts) == 2, [e["type"] for e in events]
    assert "france" in transcripts[0]["text"].lower() and served == 1
    assert "timer" in transcripts[1]["text"].lower()  # no utterance lost
    (notice,) = [e for e in of(events, "status") if FALLBACK in e["text"]]
    assert whisper_server.url in notice["text"]
    assert position(events, "speech_ended") < events.index(notice) < events.index(transcripts[1])
    assert server.requests_for("timer")  # the second utterance reached the model


def test_settings_test_button_transcribes_the_sample_on_the_server_off_the_gui_thread(
    qtbot: QtBot, whisper_server: WhisperServer
) -> None:
    group = SpeechRecognitionGroup()
    qtbot.addWidget(group)
    group.fill(Settings().stt, SecretStore())
    assert not group.test.isEnabled()  # "On this computer": nothing to test
    group.server.setChecked(True)
    group.url.setText(whisper_server.url)
    with qtbot.waitSignal(group.tested, timeout=60_000):
        group.test.click()
        assert not group.test.isEnabled() and "Transcribing" in group.result.text()
    text = group.result.text()
    assert text.startswith("✓ “Please turn on the kitchen lights"), text
    assert re.search(r"in \d+\.\d\d s$", text), text
    assert group.test.isEnabled()

    group.url.setText(f"http://127.0.0.1:{free_port()}/v1")
    with qtbot.waitSignal(group.tested, timeout=30_000):
        group.test.click()
    assert group.result.text().startswith("✗ The transcription server is unreachable")


async def test_first_run_offers_a_transcription_server_on_its_port(
    whisper_server: WhisperServer,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    offers = await detect(
        {}, local_servers={}, transcription_servers=[dead, whisper_server.url], timeout_s=5
    )
    (offer,) = offers
    assert (offer.kind, offer.base_url, offer.models) == ("stt", whisper_server.url, ("whisper-1",))
    assert "transcription server" in offer.label
    assert TRANSCRIPTION_SERVERS == ("http://localhost:8000/v1",)  # its usual port


def test_first_run_use_it_switches_speech_recognition_to_the_server(qtbot: QtBot) -> None:
    chosen: list[Settings] = []
    window = MainWindow(ScriptedBridge(), Settings(), on_settings_saved=chosen.append)
    qtbot.addWidget(window)
    offer = Offer("", "a transcription server at localhost:8000", "stt", "http://x:8000/v1",
                  ("whisper-1",))  # fmt: skip
    window.show_offers([offer])
    window.use_offer(0)
    (settings,) = chosen
    assert (settings.stt.mode, settings.stt.url) == ("server", "http://x:8000/v1")
    assert settings.provider == Settings().provider  # the reply provider is untouched


async def test_self_test_checks_the_configured_server(whisper_server: WhisperServer) -> None:
    good = SttConfig(whisper_server.url, "whisper-1")
    dead = SttConfig(f"http://127.0.0.1:{free_port()}/v1", "whisper-1")
    report = await run_self_test(
        [("server", stt_server_check(good)), ("dead server", stt_server_check(dead))]
    )
    ok, failed = report.results
    assert ok.ok and "kitchen lights" in ok.detail and whisper_server.url in ok.detail
    assert not failed.ok and "unreachable" in failed.detail
    assert "Settings → Audio → Speech recognition" in failed.detail
