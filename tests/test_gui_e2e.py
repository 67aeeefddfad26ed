"""End to end: the real ``harken`` window on an X server, spoken to through a microphone.

``python -m app.cli`` runs as its own process on a private Xvfb display
(``QT_QPA_PLATFORM=xcb``), hands-free (from its settings file), with speech
output off so the PulseAudio virtual microphone carries only the test's
voice. espeak-ng asks a question into the microphone; the reply streams from
a local ``ScriptedServer`` and stalls; a spoken interruption cuts it off. What
the window shows is read through its ``HARKEN_DEBUG_DUMP=-`` hook (one JSON
line on stdout per change). Screenshots of the window are taken mid-reply and
after the interruption (``HARKEN_E2E_SCREENSHOTS=dir`` keeps them). SIGTERM
ends the app, which must exit 0, cleanly, with the conversation saved.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest

from app.runtime.history_store import HistoryStore
from tests.support.pulse import PulseMic
from tests.support.speech import SpeechLibrary, silence
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply
from tests.support.xvfb import screenshot

pytest_plugins = ["tests.support.pulse", "tests.support.xvfb"]
pytestmark = pytest.mark.pulse

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What is the tallest mountain in the world?"
INTERRUPTION = "Stop. What is the capital of Japan?"
STORY = [
    "Mount Everest is the tallest mountain on Earth: **8,849 metres** above sea level, ",
    "on the border between Nepal and China. ",
    "Tenzing Norgay and Edmund Hillary first reached its summit in 1953. ",
]
SHOWN = "first reached its summit in 1953."  # the last words before the stream stalls
ANSWER = "Tokyo is the capital of Japan."

Check = Callable[[dict[str, Any]], bool]


class WindowDump:
    """Reads the app's ``HARKEN_DEBUG_DUMP=-`` lines from its stdout in a thread."""

    def __init__(self, stdout: IO[str]) -> None:
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.last: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._read, args=(stdout,), daemon=True)
        self._thread.start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))
        self.lines.put(None)  # the app closed its stdout

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def wait(self, predicate: Check, what: str, timeout_s: float) -> None:
        """Block until a dumped window state satisfies ``predicate``."""
        deadline = time.monotonic() + timeout_s
        while not (self.last and predicate(self.last)):
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{what}: not within {timeout_s} s; {self.last}") from None
            if line is None:
                raise AssertionError(f"{what}: the app exited; last shown: {self.last}")
            self.last = line

    def shows(self, *texts: str) -> Check:
        return lambda d: all(t in d["conversation"] for t in texts)


@dataclass
class RunningApp:
    proc: subprocess.Popen[str]
    dump: WindowDump
    display: str
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


@pytest.fixture
def app(
    xvfb_display: str, pulse_mic: PulseMic, server: ScriptedServer, tmp_path: Path
) -> Iterator[RunningApp]:
    """``harken`` on the private display, hands-free, speech output off, dumping its window."""
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "harken"
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text('[audio]\ninput_mode = "hands_free"\n', encoding="utf-8")
    sockets = tmp_path / "sockets"  # the single-instance socket: never meet another Harken
    sockets.mkdir()
    env = {
        **os.environ,
        **pulse_mic.env,
        "DISPLAY": xvfb_display,
        "QT_QPA_PLATFORM": "xcb",
        "HARKEN_DEBUG_DUMP": "-",
        "TMPDIR": str(sockets),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("WAYLAND_DISPLAY", None)
    stderr_path = tmp_path / "app.stderr"
    stderr = open(stderr_path, "w")  # closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--no-tts", "--base-url", server.base_url("openai"),
         "--model", "test-model", "--api-key", "sk-local"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    dump = WindowDump(proc.stdout)
    try:
        yield RunningApp(proc, dump, xvfb_display, stderr_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        dump.join(10)  # the app is gone: its stdout ends
        proc.stdout.close()
        stderr.close()


def test_spoken_question_and_spoken_interruption_in_the_real_window(
    app: RunningApp,
    pulse_mic: PulseMic,
    server: ScriptedServer,
    speech: SpeechLibrary,
    tmp_path: Path,
) -> None:
    dump = app.dump
    # Answered by what was said: an early request its turn did not take over (hands-free
    # default, app.agent.early_request) must not use up the next reply.
    server.answer("tallest", sse_reply([*openai_stream(STORY)[: 1 + len(STORY)], Stall()]))
    server.answer("japan", sse_reply(openai_stream([ANSWER], delay_s=0.05)))
    dump.wait(lambda d: d["state"] == "idle" and d["mic"], "models loaded, microphone on", 90)
    assert dump.last["status"] == "Ready. Just start talking."  # hands-free, from settings

    question = np.concatenate([silence(0.3), speech.say(QUESTION)])
    assert pulse_mic.play(question).wait(timeout=30) == 0
    dump.wait(dump.shows("🎙", SHOWN), "the echo and the streaming reply", 60)
    assert dump.last["state"] == "replying"
    snap(app, tmp_path / "replying.png")

    # 2 s on: speech sooner after the question would continue it (one turn, issue 17).
    interruption = np.concatenate([silence(2.0), speech.say(INTERRUPTION)])
    assert pulse_mic.play(interruption).wait(timeout=30) == 0
    dump.wait(dump.shows(ANSWER), "the answer to the interruption", 60)
    dump.wait(lambda d: d["state"] == "idle", "idle after the answer", 30)
    snap(app, tmp_path / "interrupted.png")

    text = dump.last["conversation"]
    first_echo = text.index("🎙")
    second_echo = text.index("🎙", first_echo + 1)
    assert "tallest" in text[first_echo : text.index("Mount Everest")].lower()
    assert (
        first_echo
        < text.index("8,849 metres above sea level")
        < text.index(SHOWN)
        < text.index("⏹ interrupted")
        < second_echo
        < text.index(ANSWER)
    )
    assert "japan" in text[second_echo : text.index(ANSWER)].lower()
    questions, interruptions = server.requests_for("tallest"), server.requests_for("japan")
    assert len(questions) + len(interruptions) == len(server.requests)
    assert len(questions) <= 2 and len(interruptions) <= 2  # none retried, one early at most
    for request in [*questions, *interruptions[:-1]]:  # the story (and unused early ones) closed
        server.wait_for_end(request, timeout_s=5.0)
    sent = interruptions[-1].json()["messages"]
    assert "tallest" in sent[-3]["content"].lower()
    assert sent[-2]["content"].startswith("".join(STORY).strip())  # all of it was shown
    assert "[interrupted by the user]" in sent[-2]["content"]
    assert "japan" in sent[-1]["content"].lower()

    app.proc.send_signal(signal.SIGTERM)  # a logout: quit cleanly, conversation saved
    assert app.proc.wait(timeout=30) == 0
    for trouble in ("Traceback", "Exception ignored", "Error"):
        assert trouble not in app.stderr(), app.stderr()[-3000:]
    store = HistoryStore()
    try:
        (conversation,) = store.list_conversations()
        assert len(store.messages(conversation.id)) == 4
    finally:
        store.close()


def snap(app: RunningApp, path: Path) -> None:
    """Screenshot the window (to look at: ``HARKEN_E2E_SCREENSHOTS=dir`` keeps a copy);
    skipped when ImageMagick's ``import`` is not installed."""
    if not screenshot(app.display, path):
        return
    assert path.stat().st_size > 20_000  # a rendered window, not a blank screen
    keep = os.environ.get("HARKEN_E2E_SCREENSHOTS")
    if keep:
        shutil.copyfile(path, Path(keep) / path.name)
