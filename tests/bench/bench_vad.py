"""Voice activity detection cost per 32 ms frame, next to the bare ONNX call.

The stream: jfk.flac, espeak-ng sentences and silence (a few thousand
512-sample frames). For each frame the figure is one ``SileroVad.speech_prob``
call (copy into the input, run, carry state and context) and one
``SpeechSegmenter.feed`` (what the event loop pays per block in hands-free
mode); the baseline, measured in the same run and interleaved frame by frame,
is a bare ``InferenceSession.run`` of the same model with the same options on
a prepared input. Medians and p95 over every frame of every repetition.
Goal: < 1 ms per frame.

    .venv/bin/python -m tests.bench.bench_vad [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from faster_whisper import decode_audio
from faster_whisper.vad import SileroVADModel

from audio.segmenter import SpeechSegmenter
from audio.vad import FRAME_SAMPLES, SileroVad, default_model_path
from tests.support.speech import SpeechLibrary, compose

ROOT = Path(__file__).resolve().parents[2]
JFK = ROOT.parent / "shared" / "data" / "jfk.flac"
GOAL_MS = 1.0


def speech_stream(tmp: Path) -> np.ndarray:
    lib = SpeechLibrary(tmp)
    sentences = [
        lib.say("Set a timer for ten minutes and tell me when it is done."),
        lib.say("What is the weather like tomorrow in Paris?"),
        lib.say("Stop. Read me the last message again, more slowly please."),
    ]
    jfk = decode_audio(str(JFK), sampling_rate=16000)
    parts: list[np.ndarray | float] = [1.0]
    for _ in range(3):
        parts += [jfk, 2.0, sentences[0], 1.5, sentences[1], 3.0, sentences[2], 1.0]
    audio = compose(*parts).audio
    return audio[: len(audio) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        frames = speech_stream(Path(tmp))
    vad = SileroVad()
    bare = SileroVADModel(default_model_path()).session  # faster-whisper's own session setup
    inp = np.zeros((1, 576), dtype=np.float32)
    state = np.zeros((1, 1, 128), dtype=np.float32)

    vad_ms: list[float] = []
    bare_ms: list[float] = []
    feed_ms: list[float] = []
    utterances = 0
    for _ in range(args.repeats):
        vad.reset()
        seg_vad = SileroVad()
        segmenter = SpeechSegmenter(seg_vad)
        h, c = state, state
        for frame in frames:
            inp[0, 64:] = frame
            t0 = time.perf_counter()
            _, h, c = bare.run(None, {"input": inp, "h": h, "c": c})
            t1 = time.perf_counter()
            vad.speech_prob(frame)
            t2 = time.perf_counter()
            events = segmenter.feed(frame)
            t3 = time.perf_counter()
            bare_ms.append((t1 - t0) * 1e3)
            vad_ms.append((t2 - t1) * 1e3)
            feed_ms.append((t3 - t2) * 1e3)
            utterances += sum(type(e).__name__ == "SpeechEnded" for e in events)

    seconds = len(frames) * FRAME_SAMPLES / 16000
    print(f"stream: {len(frames)} frames ({seconds:.0f} s of speech and silence) × {args.repeats}")
    print(f"utterances found per pass: {utterances // args.repeats}")
    rows = [
        ("bare InferenceSession.run (baseline)", bare_ms),
        ("SileroVad.speech_prob", vad_ms),
        ("SpeechSegmenter.feed (VAD + segmenting)", feed_ms),
    ]
    base_median = statistics.median(bare_ms)
    base_p95 = percentile(bare_ms, 95)
    print(f"{'per 32 ms frame':42} {'median ms':>10} {'p95 ms':>8} {'ratio (median)':>15}")
    for name, values in rows:
        median = statistics.median(values)
        print(
            f"{name:42} {median:10.4f} {percentile(values, 95):8.4f} {median / base_median:14.2f}x"
        )
    median = statistics.median(vad_ms)
    print(
        f"SileroVad.speech_prob: median {median:.4f} ms, p95 {percentile(vad_ms, 95):.4f} ms; "
        f"baseline median {base_median:.4f} ms, p95 {base_p95:.4f} ms; "
        f"ratio {median / base_median:.2f}; goal < {GOAL_MS} ms: "
        f"{'met' if percentile(vad_ms, 95) < GOAL_MS else 'NOT met'} "
        f"({median / 32 * 100:.2f}% of real time)"
    )


if __name__ == "__main__":
    main()
