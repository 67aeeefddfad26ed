"""Where the memory of a voice session goes: Whisper, Silero and Piper loaded, then used.

Run: ``.venv/bin/python -m tests.bench.bench_memory [--runs N]``.

Each run is a fresh process (peak RSS only grows) doing what a hands-free
session with spoken replies does, with the app's own classes, one stage at a
time: Qt's widgets imported; ``WhisperTranscriber`` (bundled tiny.en) loaded;
``PiperTts`` (joe-medium) loaded; ``SileroVad`` run over jfk.flac frame by
frame; the four utterances of jfk.flac transcribed; a three-sentence reply
synthesised after each. After every stage it reports RSS and peak RSS
(``VmRSS``/``VmHWM``); the medians over N runs are printed per stage. The
baseline, measured in the same runs, is the peak with both models loaded
but not used yet; the ratio says what using them adds. (Issue 18's goal is a
peak under 600 MiB for the whole window app, which adds Qt's GUI to this.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JFK = ROOT.parent / "shared" / "data" / "jfk.flac"
REPLY = (
    "Those words were spoken by John F. Kennedy at his inauguration in January 1961. "
    "He asked Americans to serve their country rather than to expect from it. "
    "The speech is one of the best known of the century."
)
# Where Silero finds the four utterances of jfk.flac (seconds).
UTTERANCES_S = ((0.3, 2.4), (3.2, 4.6), (5.1, 7.9), (8.2, 10.8))
LOADED = "Piper loaded"


def memory_mib() -> tuple[float, float]:
    """(RSS, peak RSS) of this process."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def session() -> list[tuple[str, float, float]]:
    stages: list[tuple[str, float, float]] = []

    def mark(stage: str) -> None:
        stages.append((stage, *memory_mib()))

    mark("Python")
    import numpy as np
    import PySide6.QtWidgets  # noqa: F401 - the app has Qt loaded
    from faster_whisper import decode_audio

    from audio.transcriber import WhisperTranscriber
    from audio.tts import PiperTts
    from audio.vad import FRAME_SAMPLES, SileroVad

    mark("imports (Qt, numpy, faster-whisper)")
    loop = asyncio.get_running_loop()
    audio = np.ascontiguousarray(decode_audio(str(JFK), sampling_rate=16000), np.float32)
    transcriber = WhisperTranscriber()
    transcriber.start_loading()
    await transcriber.wait_loaded()
    mark("Whisper loaded")
    piper = PiperTts()
    await loop.run_in_executor(None, piper.load)
    mark(LOADED)
    vad = SileroVad()
    for start in range(0, len(audio) - FRAME_SAMPLES, FRAME_SAMPLES):
        vad.speech_prob(audio[start : start + FRAME_SAMPLES])
    mark("Silero over jfk.flac")

    def speak() -> None:
        for _chunk in piper.synthesize(REPLY):
            pass

    for i, (begin_s, end_s) in enumerate(UTTERANCES_S, 1):
        await transcriber.transcribe(audio[int(begin_s * 16000) : int(end_s * 16000)])
        await loop.run_in_executor(None, speak)
        if i in (1, len(UTTERANCES_S)):
            mark(f"{i} utterance{'s' if i > 1 else ''} transcribed and answered aloud")
    transcriber.close()
    return stages


def run_once() -> list[tuple[str, float, float]]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_memory", "--child"],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(stage) for stage in json.loads(out.stdout.strip().splitlines()[-1])]


def main(runs: int) -> None:
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"Python {sys.version.split()[0]}, {runs} runs, load average {load}")
    results = [run_once() for _ in range(runs)]
    print(f"{'stage':<48} {'RSS':>8} {'peak':>8}   (medians, MiB)")
    for i, (stage, _rss, _peak) in enumerate(results[0]):
        rss = statistics.median(r[i][1] for r in results)
        peak = statistics.median(r[i][2] for r in results)
        print(f"{stage:<48} {rss:8.0f} {peak:8.0f}")
    loaded = statistics.median(next(s[2] for s in r if s[0] == LOADED) for r in results)
    final = statistics.median(r[-1][2] for r in results)
    print(f"Peak RSS, models loaded and used: {final:.0f} MiB")
    print(f"Baseline, models loaded, not used yet: {loaded:.0f} MiB")
    print(f"Ratio: {final / loaded:.2f} (using them adds {final - loaded:.0f} MiB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(session())))
    else:
        main(args.runs)
