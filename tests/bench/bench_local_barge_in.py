"""Barge-in on the in-process local model: does holding its generation while the user talks
make the interruption's words come sooner?

Each run plays generated speech (a question, then an interruption during the
reply) as a real-time microphone into ``harken --headless`` replying with the
small Gemma 3 270M GGUF in-process, twice: as shipped (the model computes no
token while the user speaks over it) and, as the baseline, with the hold
turned off in the benchmark's own driver (the model goes on generating while
Whisper transcribes the interruption). Figures: end of interrupting speech →
transcript echoed and → new turn started, medians per thread count.

    .venv/bin/python -m tests.bench.bench_local_barge_in [--runs 3] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support.barge_in_script import INTERRUPTIONS, QUESTION, load
from tests.support.local_llm import gemma_gguf
from tests.support.speech import Composition, SpeechLibrary, compose, write_wav

ROOT = Path(__file__).resolve().parents[2]
# The baseline: LocalProvider.hold does nothing, so generation runs on while the user talks.
DRIVER = """
import os, sys
if os.environ.get("HARKEN_BENCH_NO_HOLD"):
    import providers.local
    providers.local.LocalProvider.hold = lambda self: (lambda: None)
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""
MODES = ("held while the user talks", "not held (baseline)")


def headless(path: Path, threads: int, hold: bool) -> list[dict[str, Any]]:
    env = dict(os.environ)
    if not hold:
        env["HARKEN_BENCH_NO_HOLD"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, "--headless", "--input", str(path), "--realtime",
         "--no-tts", "--local-model", str(gemma_gguf()), "--chat-format", "gemma",
         "--context-length", "512", "--threads", str(threads)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True, env=env,
    )  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def barge_run(path: Path, song: Composition, threads: int, hold: bool) -> tuple[float, float]:
    events = headless(path, threads, hold)
    ready = next(e for e in events if e["type"] == "ready")["ts"]
    transcripts = [e for e in events if e["type"] == "transcript"]
    if len(transcripts) != 2:
        raise RuntimeError(f"expected 2 transcripts, got {[e['type'] for e in events]}")
    second = transcripts[1]
    started = next(
        e["ts"] for e in events if e["type"] == "turn_started" and e["turn_id"] == second["turn_id"]
    )
    speech_end = ready + song.segments[1][1]
    return second["ts"] - speech_end, started - speech_end


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    results: dict[tuple[int, str], list[tuple[float, float]]] = {}
    loads = [load()]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        lib = SpeechLibrary(tmp)
        question = lib.say(QUESTION)
        for run in range(args.runs):
            song = compose(
                0.5, question, 3.0, lib.say(INTERRUPTIONS[run % len(INTERRUPTIONS)]), 1.5
            )
            path = write_wav(tmp / f"barge{run}.wav", song.audio)
            for threads in args.threads:
                modes = MODES if run % 2 == 0 else MODES[::-1]
                for mode in modes:
                    figures = barge_run(path, song, threads, mode == MODES[0])
                    results.setdefault((threads, mode), []).append(figures)
            loads.append(load())
    print(f"barge-in on the in-process model (Gemma 3 270M), median of {args.runs} runs (s)")
    print(f"  machine: {loads[0]} at start, {loads[-1]} at end")
    for threads in args.threads:
        print(f"  --threads {threads}:")
        medians = {}
        for mode in MODES:
            runs = results[(threads, mode)]
            echoed = statistics.median(r[0] for r in runs)
            started = statistics.median(r[1] for r in runs)
            medians[mode] = started
            spread = ", ".join(f"{r[1]:.3f}" for r in runs)
            print(
                f"    {mode:28s} speech end -> echoed {echoed:.3f}, -> new turn started "
                f"{started:.3f}   runs [{spread}]"
            )
        ratio = medians[MODES[0]] / medians[MODES[1]]
        print(f"    ratio held / not held (new turn started): {ratio:.2f}")


if __name__ == "__main__":
    main()
