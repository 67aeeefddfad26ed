"""Talking over Harken on laptop speakers: echo cancellation on vs off (issue 16).

Each run is ``tests/support/echo_scenario.py``: ``harken --headless`` on the
live microphone of a private PulseAudio daemon, its real Piper voice playing a
long story on a speaker sink whose sound reaches the microphone through
``module-loopback`` (~40 ms late) at the coupling given; 12 s into the reply
the user says "Stop and tell me the weather in Paris." over it. Modes, run in
alternating order, ``--runs`` times each:

- ``AEC on`` / ``AEC off`` (``--no-echo-cancellation``, the baseline measured
  in the same session) at 0, −20 and −30 dB coupling;
- ``headset``: no coupling at all, echo cancellation off (today's path).

Per mode (medians; counts summed over the runs): self-interruptions (turns
started by Harken's own voice), own-voice onsets (speech onsets while the
reply played, before the user spoke: each one ducks the reply, and a pause
follows only if it lasts 0.5 s), gaps > 0.6 s in what the speaker played,
the interrupting transcript's word overlap with what the user said, end of
the user's interruption → the new request at the server (and the Whisper
pass that gave it: when it started after the end, how long it took), echo
reduction (dB, the reply's seconds before the user spoke) and the
canceller's CPU per 10 ms frame. A second part compares WebRTC backends
offline on an espeak echo; ``--cpu`` measures only the canceller's CPU,
offline (seconds, no rig).

    .venv/bin/python -m tests.bench.bench_echo [--runs 3] [--couplings 0,-20,-30]
    .venv/bin/python -m tests.bench.bench_echo --cpu   # the canceller's CPU only, offline
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.echo_scenario import EchoRun, run_scenario
from tests.support.pulse import echo_rig_on, pulse_session
from tests.support.speech import SpeechLibrary
from tests.support.sse_server import ScriptedServer

GOALS = (
    "goals per run at 0/−20/−30 dB: 0 self-interruptions, ≤ 1 own-voice pause, ≤ 1 gap > "
    "0.6 s, overlap ≥ 0.8, request ≤ 0.8 s after the interruption, AEC < 2 % of a core"
)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def summarise(name: str, runs: list[EchoRun]) -> str:
    latencies = [v for r in runs if (v := r.request_latency_s()) is not None]
    stats = [r.echo_stats() for r in runs]
    reductions = [d for d, _ in stats if d is not None]
    cpus = [c for _, c in stats if c is not None]
    gaps = [len(r.reply_gaps()) for r in runs]
    passes = [p for r in runs if (p := r.final_pass()) is not None]
    pass_from = median([p[0] for p in passes])
    pass_s = median([p[1] for p in passes])
    cpu = median(cpus)
    return (
        f"{name:18s} self-int {sum(r.self_interruptions() for r in runs):2d}  "
        f"onsets {'/'.join(str(r.own_voice_onsets()) for r in runs):9s} "
        f"gaps>0.6s {'/'.join(str(g) for g in gaps):7s} "
        f"overlap {fmt(median([r.interruption_overlap() for r in runs]), '.2f')}  "
        f"request {fmt(median(latencies), '.2f')} s "
        f"(last pass from {fmt(pass_from, '+.2f')} s, {fmt(pass_s, '.2f')} s)  "
        f"echo −{fmt(median(reductions), '.1f')} dB  "
        f"AEC {fmt(cpu, '.3f')} ms/frame ({fmt(None if cpu is None else cpu / 10 * 100, '.1f')} %"
        " of a core)"
    )


def bare_apm_ms(frames: int = 3000) -> float:
    """The baseline: WebRTC's two calls per 10 ms frame alone (livekit's public API on
    one pair of frames, nothing else), CPU ms in this process."""
    from livekit import rtc

    apm = rtc.AudioProcessingModule(echo_cancellation=True)
    apm.set_stream_delay_ms(10)
    reverse, capture = rtc.AudioFrame.create(16000, 1, 160), rtc.AudioFrame.create(16000, 1, 160)
    frame = (np.random.default_rng(0).standard_normal(160) * 3000).astype(np.int16)
    np.frombuffer(reverse.data, dtype=np.int16)[:] = frame
    began = time.thread_time()
    for _ in range(frames):
        apm.process_reverse_stream(reverse)
        apm.process_stream(capture)
    return 1000 * (time.thread_time() - began) / frames


def _spin(stop: Any) -> None:
    """A busy Python thread (holds the GIL whenever it can) until ``stop`` is set."""
    while not stop.is_set():
        pass


def bench_cpu(seconds: float = 60.0, repeats: int = 3) -> None:
    """The canceller's CPU offline, called as Harken calls it: the player pushes 20 ms
    blocks of 22.05 kHz voice with DAC stamps (the tap), the microphone delivers 512-sample
    16 kHz blocks with capture stamps (``process``). Cheap: no rig, no Whisper. Reports
    ``process`` (what the rig's figure counts), ``push`` (the player's tap) and the
    bare AEC3 calls, CPU ms per 10 ms frame, medians over ``repeats``; alone, and with
    one busy Python thread (as in Harken: the event loop, Whisper, Piper)."""
    import threading

    import soxr

    from audio.echo_canceller import EchoCanceller, EchoReference

    with tempfile.TemporaryDirectory() as tmp:
        voice = SpeechLibrary(Path(tmp)).say(
            "Once upon a time there was an old clockmaker who lived at the edge of a great "
            "forest, and every morning he wound the clocks on his walls and listened to them."
        )
    n = round(seconds * 16000)
    far16 = np.resize(voice, n).astype(np.float32)
    far22 = np.asarray(soxr.resample(far16, 16000, 22050), dtype=np.float32)
    mic = np.zeros(n, dtype=np.float32)
    mic[640:] = 0.5 * far16[:-640]  # the echo, 40 ms late
    mic += np.random.default_rng(0).standard_normal(n).astype(np.float32) * 1e-3
    t0 = 1000.0

    def once() -> tuple[float, float]:
        reference = EchoReference()
        canceller = EchoCanceller(reference)
        push_cpu = 0.0
        played = 0
        for start in range(0, n - 512, 512):
            # The player runs ahead of the microphone: push what plays up to 60 ms later.
            while played / 22050 < (start + 512) / 16000 + 0.060 and played < far22.size:
                block = far22[played : played + 441]
                began = time.thread_time()
                reference.push(block, 22050, t0 + played / 22050)
                push_cpu += time.thread_time() - began
                played += 441
            canceller.process(mic[start : start + 512], t0 + start / 16000)
        return canceller.stats.cpu_per_frame_ms, 1000 * push_cpu / canceller.stats.frames

    for busy in (False, True):
        stop = threading.Event()
        spinner = threading.Thread(target=_spin, args=(stop,))
        if busy:
            spinner.start()
        try:
            runs = [once() for _ in range(repeats)]
            bare = [bare_apm_ms() for _ in range(repeats)]
        finally:
            stop.set()
            if busy:
                spinner.join()
        p = statistics.median(r[0] for r in runs)
        q = statistics.median(r[1] for r in runs)
        b = statistics.median(bare)
        print(
            f"CPU offline, {'with a busy Python thread' if busy else 'alone'} ({seconds:.0f} s "
            f"of audio, median of {repeats}): process {p:.3f} ms per 10 ms frame, reference "
            f"push {q:.3f} ms, together {p + q:.3f} ms ({(p + q) / 10 * 100:.1f} % of a core); "
            f"bare AEC3 calls (livekit's public API) {b:.3f} ms; ratio (process) {p / b:.2f}"
        )


def bench_rig(runs: int, couplings: list[float], *, baselines: bool = True) -> None:
    modes: list[tuple[str, float, bool]] = []
    for db in couplings:
        modes.append((f"{db:+.0f} dB AEC on", db, True))
        if baselines:
            modes.append((f"{db:+.0f} dB AEC off", db, False))
    if baselines:
        modes.append(("headset", float("-inf"), False))
    results: dict[str, list[EchoRun]] = {name: [] for name, _, _ in modes}
    bare = [bare_apm_ms()]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "speech").mkdir()
        speech = SpeechLibrary(Path(tmp) / "speech")
        with pulse_session(Path(tmp)) as mic, echo_rig_on(mic) as rig:
            for i in range(runs):
                order = modes if i % 2 == 0 else list(reversed(modes))
                for name, db, aec in order:
                    with ScriptedServer() as server:
                        run = run_scenario(
                            rig, server, speech, coupling_db=db, echo_cancellation=aec
                        )
                    results[name].append(run)
                    print(f"  run {i + 1} {summarise(name, [run])}", flush=True)
    bare.append(bare_apm_ms())
    print(f"\nload average at the end: {os.getloadavg()}")
    print(GOALS)
    for name, _, _ in modes:
        print(summarise(name, results[name]))
    cpus = [c for r in results.get(modes[0][0], []) for c in [r.echo_stats()[1]] if c is not None]
    baseline = statistics.median(bare)
    print(
        f"CPU baseline, bare AEC3 calls in this process: {baseline:.3f} ms per 10 ms frame; "
        f"in Harken (median, {modes[0][0]}): {fmt(median(cpus), '.3f')} ms, ratio "
        f"{fmt(None if not cpus else statistics.median(cpus) / baseline, '.2f')}"
    )


def synthetic_scene(speech: SpeechLibrary) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    far = speech.say(
        "Once upon a time there was an old clockmaker who lived at the edge of a great "
        "forest, and every morning he wound the clocks on his walls and listened to them."
    )
    near = speech.say("Stop and tell me the weather in Paris.")
    delay = 640  # 40 ms, like the rig's loopback
    echo = np.zeros_like(far)
    echo[delay:] = far[:-delay]
    mic = np.convolve(echo, [0.6, 0.25, -0.1, 0.05], mode="same").astype(np.float32)
    at = far.size // 2
    mic[at : at + near.size] += near[: far.size - at]
    return far, mic, near, at


class PerFrame:
    """A backend with per-frame calls as the canceller's block-at-a-time ``Apm``."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def process(self, reverse: np.ndarray, capture: np.ndarray) -> None:
        for i in range(0, capture.size, 160):
            self.backend.process_reverse(reverse[i : i + 160])
            capture[i : i + 160] = self.backend.process_capture(capture[i : i + 160])


def backends() -> list[tuple[str, Any]]:
    from audio.livekit_apm import LivekitApm

    found: list[tuple[str, Any]] = [("livekit (AEC3)", LivekitApm)]
    try:
        import pywebrtc_audio

        class PyWebrtc:
            def __init__(self) -> None:
                self.ec = pywebrtc_audio.EchoCanceller(16000, 1, 10)
                self.far: Any = None

            def process_reverse(self, frame: Any) -> None:
                self.far = frame

            def process_capture(self, frame: Any) -> Any:
                return self.ec.process(frame, self.far)

        found.append(("pywebrtc-audio (AEC3)", lambda: PerFrame(PyWebrtc())))
    except ImportError:
        print("pywebrtc-audio not installed: pip install pywebrtc-audio to compare it")
    try:
        from aec_audio_processing import AudioProcessor

        class AecAudioProcessing:
            def __init__(self) -> None:
                self.ap = AudioProcessor(
                    enable_aec=True, enable_ns=False, enable_agc=False, enable_vad=False
                )
                self.ap.set_stream_format(16000, 1)
                self.ap.set_reverse_stream_format(16000, 1)
                self.ap.set_stream_delay(10)

            def process_reverse(self, frame: Any) -> None:
                self.ap.process_reverse_stream(frame.tobytes())

            def process_capture(self, frame: Any) -> Any:
                return np.frombuffer(self.ap.process_stream(frame.tobytes()), np.int16)

        found.append(("aec-audio-processing", lambda: PerFrame(AecAudioProcessing())))
    except ImportError:
        print("aec-audio-processing not installed: pip install it to compare it")
    return found


def bench_backends() -> None:
    from faster_whisper import WhisperModel

    from audio.echo_canceller import EchoCanceller, EchoReference
    from audio.model_resolution import bundled_model_path
    from tests.support.echo_scenario import words

    model = WhisperModel(str(bundled_model_path()), device="cpu", compute_type="int8")
    with tempfile.TemporaryDirectory() as tmp:
        far, mic, near, at = synthetic_scene(SpeechLibrary(Path(tmp)))
    said = words("Stop and tell me the weather in Paris.")
    print("\nbackends, offline: espeak echo 40 ms late, double talk half-way (same alignment)")
    for name, make in backends():
        reference = EchoReference()
        canceller = EchoCanceller(reference, apm=make())
        out = []
        began = time.thread_time()
        for i in range(0, far.size - 512, 512):
            reference.push(far[i : i + 512], 16000, 100.0 + i / 16000)
            out.append(canceller.process(mic[i : i + 512], 100.0 + i / 16000))
        cpu_ms = 1000 * (time.thread_time() - began) / (sum(o.size for o in out) / 160)
        cleaned = np.concatenate(out)
        far_only = slice(at - 3 * 16000, at)
        erle = 10 * np.log10(np.sum(mic[far_only] ** 2) / np.sum(cleaned[far_only] ** 2))
        segments, _ = model.transcribe(cleaned[at - 3200 : at + near.size + 3200], beam_size=1)
        heard = words(" ".join(s.text for s in segments))
        overlap = sum(1 for w in said if w in heard) / len(said)
        print(
            f"  {name:22s} echo −{erle:.1f} dB, double-talk words {overlap:.2f} "
            f"({' '.join(heard)!r}), {cpu_ms:.3f} ms CPU per 10 ms frame"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--couplings", default="0,-20,-30", help="dB, comma-separated")
    parser.add_argument("--no-rig", action="store_true", help="only the offline comparison")
    parser.add_argument("--cpu", action="store_true", help="only the offline CPU figure")
    parser.add_argument(
        "--aec-only", action="store_true", help="rig: echo cancellation on only (no baselines)"
    )
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()}")
    if args.cpu:
        bench_cpu()
        return
    if not args.aec_only:
        bench_backends()
    if not args.no_rig:
        couplings = [float(c) for c in args.couplings.split(",")]
        bench_rig(args.runs, couplings, baselines=not args.aec_only)


if __name__ == "__main__":
    main()
