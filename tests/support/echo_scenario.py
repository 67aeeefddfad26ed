"""Talking over Harken on laptop speakers: one run of ``harken --headless`` on the echo rig.

Shared by ``tests/test_echo_rig.py`` and ``tests/bench/bench_echo.py``. The
scenario is the one issue 16 measured: hands-free on the live microphone
(PortAudio → PulseAudio), the reply spoken by the real player on the rig's
speaker sink, whose sound reaches the microphone through the loopback at the
chosen coupling. The user asks for a story (spoken into the microphone's sink),
the local SSE server streams a long prose reply, and ``interrupt_after_s``
after the reply's first audio the user says ``INTERRUPTION`` over it.

``run_scenario`` returns an ``EchoRun`` with what happened: every headless
event, what the speaker played (recorded from its monitor), when the
interruption was played, and the server's requests.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.pulse import EchoRig
from tests.support.speech import SAMPLE_RATE_HZ, SpeechLibrary, active_span
from tests.support.sse_server import ScriptedServer, last_user_text, openai_stream, sse_reply

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent.parent

REQUEST = "Tell me a long story, please."
INTERRUPTION = "Stop and tell me the weather in Paris."
STORY = (
    "Once upon a time, in a village at the edge of a great forest, there lived an old "
    "clockmaker named Elias. Every morning he opened his little shop, wound every clock on "
    "the walls, and listened to them tick together like a choir of crickets. Children came "
    "by after school to watch him work, because his hands moved so carefully that even the "
    "smallest gear seemed to float into place. One winter evening, a stranger in a grey coat "
    "knocked on the door and asked him to repair a clock that had not ticked for a hundred "
    "years. Elias turned it over in his hands, opened the back, and found inside not gears "
    "but a folded letter, yellow with age, addressed to him by name."
)
ANSWER = "It is sunny in Paris today, about twenty degrees."
GAP_DBFS = -45.0  # a 10 ms frame of the speaker quieter than this is silence
GAP_S = 0.6


class HarkenExited(RuntimeError):
    pass


@dataclass
class EchoRun:
    coupling_db: float
    echo_cancellation: bool
    events: list[dict[str, Any]]
    stderr: str
    speaker: np.ndarray  # what the speaker played, 16 kHz, from ``speaker_t0`` (time.time)
    speaker_t0: float
    interruption_at: float  # time.time() when the interruption's first word was played
    interruption_end_at: float  # ... and its last
    # time.time() of each request and its last user message (lower-cased)
    requests: list[tuple[float, str]] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def reply_turn(self) -> int | None:
        started = self.of("turn_started")
        return started[0]["turn_id"] if started else None

    def self_interruptions(self) -> int:
        """Turns started from something other than the request and the interruption."""
        return sum(1 for e in self.of("turn_started") if _overlap(e["text"], REQUEST) < 0.5
                   and _overlap(e["text"], INTERRUPTION) < 0.5)  # fmt: skip

    def own_voice_onsets(self) -> int:
        """Speech onsets while the reply played, before the user spoke over it."""
        first_audio = next((e["ts"] for e in self.of("tts_started")), None)
        if first_audio is None:
            return 0
        return sum(
            1
            for e in self.of("speech_started")
            if first_audio <= e["ts"] < self.interruption_at - 0.05
        )

    def reply_gaps(self) -> list[float]:
        """Silences longer than ``GAP_S`` in what the speaker played, from the reply's
        first sound to the interruption (when the reply is meant to stop)."""
        frame = SAMPLE_RATE_HZ // 100
        n = len(self.speaker) // frame
        if n == 0:
            return []
        frames = self.speaker[: n * frame].reshape(n, frame)
        loud = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9) > GAP_DBFS
        stop = min(n, int((self.interruption_at - self.speaker_t0) * 100))
        sounding = np.nonzero(loud[:stop])[0]
        if sounding.size == 0:
            return []
        gaps: list[float] = []
        run = 0
        for is_loud in loud[sounding[0] : stop]:
            if is_loud:
                if run / 100 > GAP_S:
                    gaps.append(run / 100)
                run = 0
            else:
                run += 1
        return gaps

    def interruption_transcript(self) -> str:
        texts = [e["text"] for e in self.of("transcript") if _overlap(e["text"], REQUEST) < 0.5]
        return texts[-1] if texts else ""

    def interruption_overlap(self) -> float:
        return _overlap(self.interruption_transcript(), INTERRUPTION)

    def request_latency_s(self) -> float | None:
        """End of the user's interruption → its turn's request reached the server (the one
        carrying its transcript: an early request at a pause, or the turn's own)."""
        said = self.interruption_transcript().lower()  # as last_user_text reads requests
        after = [t for t, text in self.requests if t > self.interruption_at and text == said]
        return after[-1] - self.interruption_end_at if after and said else None

    def final_pass(self) -> tuple[float, float] | None:
        """The Whisper pass whose transcript became the interruption's request (the last
        quick, speculative or final pass logged done before it; partial passes are only
        previews): (when it started, seconds after the end of the interruption; how long
        it took), from the log."""
        latency = self.request_latency_s()
        if latency is None:
            return None
        sent = self.interruption_end_at + latency
        found = None
        for stamp, seconds in re.findall(
            r"^(\S+ \S+) DEBUG audio\.speculative: (?:quick|speculative|final) pass for "
            r"utterance \d+ done in ([\d.]+) s",
            self.stderr,
            flags=re.MULTILINE,
        ):
            done = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if self.interruption_at < done <= sent + 0.05:
                found = (done - float(seconds) - self.interruption_end_at, float(seconds))
        return found

    def echo_stats(self) -> tuple[float | None, float | None]:
        """(echo reduction in dB over the seconds of the reply before the user spoke,
        CPU ms per 10 ms frame), from the canceller's log lines; None without it."""
        cpu = re.search(r"echo canceller: \d+ frames, ([\d.]+) ms CPU", self.stderr)
        listed = re.search(r"echo canceller windows: (\[.*\])", self.stderr)
        if not cpu or not listed:
            return None, None
        windows = [w for w in json.loads(listed.group(1)) if w[0] < self.interruption_at]
        energy_in = sum(w[1] for w in windows)
        energy_out = sum(w[2] for w in windows)
        if energy_in <= 0 or energy_out <= 0:
            return None, float(cpu.group(1))
        return float(10 * np.log10(energy_in / energy_out)), float(cpu.group(1))


class MicSinkListener:
    """Records the microphone's sink in this process with PortAudio's capture stamps, to
    find when the interruption really reached the microphone (``paplay`` takes a while
    to start, more on a busy machine)."""

    def __init__(self, rig: EchoRig) -> None:
        import sounddevice

        self._blocks: list[tuple[float, np.ndarray]] = []
        saved = os.environ.get("PULSE_SOURCE")
        os.environ["PULSE_SOURCE"] = f"{rig.mic.sink}.monitor"
        try:
            self._stream = sounddevice.InputStream(
                samplerate=SAMPLE_RATE_HZ, channels=1, dtype="float32", callback=self._callback
            )
            self._stream.start()
        finally:
            if saved is None:
                os.environ.pop("PULSE_SOURCE", None)
            else:
                os.environ["PULSE_SOURCE"] = saved

    def _callback(self, indata: np.ndarray, frames: int, stamps: Any, status: Any) -> None:
        captured = time.time() - (stamps.currentTime - stamps.inputBufferAdcTime)
        self._blocks.append((captured, indata[:, 0].copy()))

    def find(self, clip: np.ndarray, *, after: float | None) -> float | None:
        """Wall time at which ``clip`` started in the recording (None: not found)."""
        if after is None or not self._blocks:
            return None
        blocks = [(t, b) for t, b in self._blocks if t >= after - 0.2]
        if not blocks:
            return None
        t0, audio = blocks[0][0], np.concatenate([b for _, b in blocks])
        probe = clip[: SAMPLE_RATE_HZ * 2]
        n = 1 << int(np.ceil(np.log2(audio.size + probe.size)))
        xc = np.fft.irfft(np.fft.rfft(audio, n) * np.conj(np.fft.rfft(probe, n)), n)
        lag = int(np.argmax(xc[: audio.size]))
        piece = audio[lag : lag + probe.size]
        m = min(piece.size, probe.size)
        score = np.dot(piece[:m], probe[:m]) / (
            np.linalg.norm(piece[:m]) * np.linalg.norm(probe[:m]) + 1e-12
        )
        return t0 + lag / SAMPLE_RATE_HZ if score > 0.5 else None

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def _overlap(heard: str, said: str) -> float:
    """Share of the said words that were heard (each heard word counts once)."""
    pool = words(heard)
    said_words = words(said)
    hits = 0
    for word in said_words:
        if word in pool:
            pool.remove(word)
            hits += 1
    return hits / len(said_words) if said_words else 0.0


def run_scenario(
    rig: EchoRig,
    server: ScriptedServer,
    speech: SpeechLibrary,
    *,
    coupling_db: float,
    echo_cancellation: bool,
    interrupt_after_s: float = 12.0,
    timeout_s: float = 120.0,
) -> EchoRun:
    rig.set_coupling_db(coupling_db)
    request = speech.say(REQUEST)
    interruption = speech.say(INTERRUPTION)
    start_s, end_s = active_span(interruption)
    pieces = [w + " " for w in STORY.split(" ")]
    # The story for the request (also for an early request its turn did not take over,
    # app.agent.early_request), the answer for anything else: the interruption, and any
    # turn Harken's own voice might start.
    server.answer("story", sse_reply(openai_stream(pieces, delay_s=0.01)))
    server.answer("", sse_reply(openai_stream([ANSWER], delay_s=0.01)))
    args = [
        sys.executable, "-m", "app.cli", "--headless", "-v",
        "--base-url", server.base_url("openai"), "--model", "m", "--api-key", "sk-local",
    ]  # fmt: skip
    if not echo_cancellation:
        args.append("--no-echo-cancellation")
    env = {**os.environ, **rig.env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
    stderr_lines: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                lines.put(json.loads(line))
        lines.put(None)

    def read_stderr() -> None:
        assert proc.stderr is not None
        stderr_lines.extend(proc.stderr)

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for reader in readers:
        reader.start()
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s

    def until(predicate: Any, limit_s: float | None = None) -> dict[str, Any] | None:
        """Read events until one matches (returned) or the limit passes (None)."""
        end = deadline if limit_s is None else min(deadline, time.monotonic() + limit_s)
        while (left := end - time.monotonic()) > 0:
            try:
                event = lines.get(timeout=left)
            except queue.Empty:
                return None
            if event is None:
                raise HarkenExited("harken exited early: " + json.dumps(events[-3:]))
            events.append(event)
            if predicate(event):
                return event
        return None

    recording = rig.record_speaker()
    listener = MicSinkListener(rig)
    speaker_t0 = time.time()
    interruption_at = interruption_end_at = float("inf")
    played_at: float | None = None
    try:
        if until(lambda e: e["type"] == "ready") is None:
            raise RuntimeError("harken did not get ready:\n" + "".join(stderr_lines)[-3000:])
        rig.mic.play(request)
        if until(lambda e: e["type"] == "tts_started") is None:
            raise RuntimeError(f"the reply never played: {[e['type'] for e in events]}")
        until(lambda e: False, interrupt_after_s - start_s)  # the reply plays on
        played_at = time.time()
        rig.mic.play(interruption)
        interruption_at = played_at + start_s
        interruption_end_at = played_at + end_s
        # The turn the interruption started ends (or fails); then whatever follows.
        later: set[int] = set()

        def answered(e: dict[str, Any]) -> bool:
            if e["type"] == "turn_started" and e["ts"] >= interruption_at:
                later.add(e["turn_id"])
            return e["type"] in ("turn_finished", "turn_failed") and e["turn_id"] in later

        until(answered)
        until(lambda e: False, 1.0)
    except HarkenExited:
        pass  # the events say why (an error event); the caller judges
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for reader in readers:
            reader.join(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        while (event := lines.get_nowait() if not lines.empty() else None) is not None:
            events.append(event)
        speaker = recording.audio()
        heard_at = listener.find(interruption, after=played_at)
        listener.close()
        if heard_at is not None:  # when the clip really reached the microphone
            log.info("interruption reached the microphone %.3f s after paplay started",
                     heard_at - (played_at or heard_at))  # fmt: skip
            interruption_at, interruption_end_at = heard_at + start_s, heard_at + end_s
    offset = time.time() - time.perf_counter()
    return EchoRun(
        coupling_db=coupling_db,
        echo_cancellation=echo_cancellation,
        events=events,
        stderr="".join(stderr_lines),
        speaker=speaker,
        speaker_t0=speaker_t0,
        interruption_at=interruption_at,
        interruption_end_at=interruption_end_at,
        requests=[(r.received_at + offset, last_user_text(r)) for r in server.requests],
    )
