"""Speech latency benchmark: end of speech → text, reply text → first audio, memory.

Run: ``.venv/bin/python -m tests.bench.bench_audio [--runs N]``. Every figure is a
median over N runs, printed next to a baseline measured in the same run:

* STT: ``WhisperTranscriber.transcribe`` (worker thread, guards) vs a bare
  ``WhisperModel.transcribe`` with the same settings, generator consumed
  (goal: ratio ≤ 1.1).
* TTS: time to first audio of a reply's first sentence through ``PiperTts`` vs
  bare ``PiperVoice.synthesize`` (goal < 150 ms), the real-time factor, and
  ``SpeechOutput.feed`` → first sample handed to the (fake) sound card.
* Peak RSS with both models loaded and used (goal < 600 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from faster_whisper import decode_audio

from audio.model_resolution import load_whisper_model
from audio.playback import SpeechPlayer
from audio.sentence_chunker import SentenceChunker
from audio.speech_output import SpeechOutput
from audio.transcriber import WhisperTranscriber, whisper_options
from audio.tts import PiperTts
from tests.support.fake_sounddevice import FakeSoundDevice

ROOT = Path(__file__).resolve().parents[2]
JFK = ROOT.parent / "shared" / "data" / "jfk.flac"
RATE = 16_000

SHORT_UTTERANCE = "Set a timer for ten minutes, please."
LONG_UTTERANCE = (
    "Can you look up the train times from London to Cambridge tomorrow morning, "
    "and tell me which one gets in before nine so that I am not late for the meeting."
)
FIRST_REPLY = (
    "The fastest train tomorrow is the seven forty from King's Cross, which gets you "
    "to Cambridge at eight thirty-one. The next one is at eight ten."
)
FIRST_SENTENCE = FIRST_REPLY.split(". ")[0] + "."
PARAGRAPH = (
    "The fastest option is the seven forty from King's Cross, which arrives at eight "
    "thirty-one. If you miss it, the next one leaves at eight ten and gets in at nine "
    "oh two, which is cutting it close. I would take the earlier train."
)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def espeak(text: str, directory: Path) -> np.ndarray:
    path = directory / "utterance.wav"
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    return decode_audio(str(path), sampling_rate=RATE)


def timed(function: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def first_chunk(synthesize: Callable[[str], Iterable[object]], text: str) -> None:
    next(iter(synthesize(text)))


async def bench_stt(
    runs: int, transcriber: WhisperTranscriber, clips: dict[str, np.ndarray]
) -> None:
    bare = load_whisper_model(None).model  # same bundled model, a second instance

    def bare_run(audio: np.ndarray) -> None:
        segments, _ = bare.transcribe(audio, **whisper_options(audio.size / RATE, "en"))
        list(segments)

    print(f"STT: end of speech → text (median of {runs})")
    for name, audio in clips.items():
        ours: list[float] = []
        base: list[float] = []
        await transcriber.transcribe(audio)  # warm-up
        bare_run(audio)
        for run in range(runs):  # interleaved, alternating who goes first
            if run % 2:
                base.append(timed(bare_run, audio))
            started = time.perf_counter()
            await transcriber.transcribe(audio)
            ours.append(time.perf_counter() - started)
            if not run % 2:
                base.append(timed(bare_run, audio))
        ratio = statistics.median(ours) / statistics.median(base)
        print(
            f"  {name:<22} {audio.size / RATE:5.1f} s audio: WhisperTranscriber "
            f"{median_ms(ours):6.0f} ms | bare WhisperModel {median_ms(base):6.0f} ms | "
            f"ratio {ratio:.2f} (goal ≤ 1.10)"
        )


def bench_tts(runs: int, piper: PiperTts) -> None:
    voice = piper._voice  # the bare PiperVoice underneath, for the baseline
    chunker = SentenceChunker()
    first_piece = chunker.feed(FIRST_REPLY)[0]
    print(f"TTS: time to first audio (median of {runs})")
    for label, text in (
        ("chunker's first piece", first_piece),
        ("whole first sentence", FIRST_SENTENCE),
    ):
        ours: list[float] = []
        base: list[float] = []
        for _ in range(runs):  # interleaved
            ours.append(timed(first_chunk, piper.synthesize, text))
            base.append(timed(first_chunk, voice.synthesize, text))
        goal = "goal < 150 ms" if text == first_piece else "for reference: no cut"
        print(
            f"  {label:<24} ({len(text):3d} chars): PiperTts {median_ms(ours):5.0f} ms | "
            f"bare PiperVoice {median_ms(base):5.0f} ms | ratio "
            f"{statistics.median(ours) / statistics.median(base):.2f} ({goal})"
        )
    durations = []
    factors = []
    for _ in range(runs):
        started = time.perf_counter()
        samples = sum(chunk.size for chunk in piper.synthesize(PARAGRAPH))
        elapsed = time.perf_counter() - started
        durations.append(samples / piper.sample_rate_hz)
        factors.append(elapsed / durations[-1])
    print(
        f"  real-time factor on a {statistics.median(durations):.1f} s paragraph: "
        f"{statistics.median(factors):.3f} (synthesis time / audio time; < 1 keeps up)"
    )


async def bench_speech_output(runs: int, piper: PiperTts) -> None:
    """feed() of a reply's first sentence → its first sample handed to the sound card."""
    sd = FakeSoundDevice(speed=1.0)
    started_at: list[float] = []
    first_audio = asyncio.Event()

    def on_event(name: str, turn_id: int, detail: str | None) -> None:
        if name == "tts_started":
            started_at.append(time.perf_counter())
            first_audio.set()

    first_piece = SentenceChunker().feed(FIRST_REPLY)[0]
    player = SpeechPlayer(piper.sample_rate_hz, sounddevice_module=sd)
    speech = SpeechOutput(piper, player, on_event=on_event)
    await speech.wait_loaded()
    latencies = []
    bare = []
    for turn in range(runs + 1):
        # The previous turn's later sentences are still being synthesised (then
        # discarded); let the worker finish so it does not compete with this turn.
        await asyncio.sleep(0.6)
        bare_s = timed(first_chunk, piper.synthesize, first_piece)
        speech.begin(turn)
        await asyncio.sleep(0.1)  # the device opens while the model is still thinking
        first_audio.clear()
        fed = time.perf_counter()
        speech.feed(FIRST_REPLY)
        await asyncio.wait_for(first_audio.wait(), timeout=10)
        if turn:  # the first turn is a warm-up
            latencies.append(started_at[-1] - fed)
            bare.append(bare_s)
        speech.stop()
    speech.close()
    print(
        f"  SpeechOutput.feed → first sample at the device {median_ms(latencies):5.0f} ms | "
        f"bare first chunk {median_ms(bare):5.0f} ms | ratio "
        f"{statistics.median(latencies) / statistics.median(bare):.2f} "
        "(worker hop + up to one 20 ms block)"
    )


async def main(runs: int) -> None:
    print(f"Python {sys.version.split()[0]}, {runs} runs per figure")
    transcriber = WhisperTranscriber()
    transcriber.start_loading()
    piper = PiperTts()
    started = time.perf_counter()
    piper.load()
    piper_load_s = time.perf_counter() - started
    print(f"Models: {await transcriber.wait_loaded()}; {piper.description} ({piper_load_s:.2f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        clips = {
            "espeak short": espeak(SHORT_UTTERANCE, Path(tmp)),
            "espeak long": espeak(LONG_UTTERANCE, Path(tmp)),
        }
    if JFK.exists():
        clips["jfk.flac"] = decode_audio(str(JFK), sampling_rate=RATE)
    # Peak memory with both models loaded and used, before the baseline model is loaded.
    for audio in clips.values():
        await transcriber.transcribe(audio)
    for _ in piper.synthesize(PARAGRAPH):
        pass
    rss_mb = peak_rss_mb()
    await bench_stt(runs, transcriber, clips)
    bench_tts(runs, piper)
    await bench_speech_output(runs, piper)
    print(f"Peak RSS, Whisper tiny.en + Piper joe-medium loaded and used: {rss_mb:.0f} MB")
    print("  (goal < 600 MB; measured before the baseline's second Whisper model was loaded)")
    transcriber.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    asyncio.run(main(parser.parse_args().runs))
