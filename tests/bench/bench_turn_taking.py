"""Turn-taking: a pause is not the end of a turn, and a clear end is answered fast.

Everything runs through ``harken --headless --realtime`` (or, for push-to-talk
and speech output, the same components in this process) against a local
streaming server, as a user would meet it:

1. **Pause set** (``tests/support/pause_set.py``): sentences with a 0.6–1.2 s
   thinking pause, short finished questions, and jfk.flac. Per sentence: the
   user messages the model saw (must be 1), their word overlap with the whole
   sentence (≥ 0.75), the fragment replies left in the history (0), and whether
   a reply started streaming before the user had finished (text, which may
   stream early: the reply's speech waits, ``app.agent.reply_pause``). Then,
   with replies spoken to a PulseAudio sink: reply *audio* before the user had
   finished (must be 0), and what waiting for the user to be quiet costs, the
   first sound after a finished question, for each ``--speak-after-ms``
   (``--only spoken`` runs this part alone).
2. **Clear end**: a finished question spoken over a reply; end of its speech →
   the request its turn used reached the server (an early request at the pause,
   ``app.agent.early_request``, or the turn's own), with and without early
   requests, and how many early requests went unused; a noise and a cough
   during a reply cancel nothing.
3. **Push-to-talk**: key-up → request sent, for a 3-s utterance.
4. **First sound**: first token → first audio of the reply, for a reply that
   starts with a short sentence, a list, or a 40-word sentence.
5. **Readings** (offline, what speed could cost in words): a pause's quick and
   full Whisper passes over short commands, alone and spoken over a story at
   -15 dB; word overlap with what was said for the full pass alone (early
   requests off), the quick pass alone, and the surer of the two
   (``audio.surer_reading``, what the app keeps with early requests on).

"Before" is measured in the same run: for 1 and 2 by running the same
headless command from another checkout (``--before-tree``, e.g. a worktree of
the commit before this work) and with ``--turn-model``; for 3 with
incremental transcription off; for 4 with the first-clause split off.

    .venv/bin/python -m tests.bench.bench_turn_taking [--runs 5] [--before-tree DIR]
        [--only pause,clear,ptt,sound,readings,spoken] [--speak-after-ms 0,1000,default]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.pause_set import (
    COMPLETE,
    PAUSED,
    Clip,
    complete_clips,
    jfk,
    overlap,
    paused_clips,
)
from tests.support.speech import SpeechLibrary, compose, cough, white_noise, write_wav
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply

ROOT = Path(__file__).resolve().parents[2]
REPLY = [f"Sure {i}, " for i in range(25)]  # 2.5 s of streaming: a continuation lands in it


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def headless(
    tree: Path, path: Path, server: ScriptedServer, flags: list[str], *, speech: bool = False
) -> list[dict[str, Any]]:
    """``speech``: replies are spoken (to the default output: a PulseAudio sink here)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    speech_flags = [] if speech else ["--no-tts"]
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--headless", "--input", str(path), "--realtime",
         *speech_flags, "--base-url", server.base_url("openai"), "--model", "m", *flags],
        cwd=tree, env=env, capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines()]


# -- 1. the pause set --------------------------------------------------------------------


def pause_run(
    tree: Path, clip: Clip, wav: Path, flags: list[str], *, speech: bool = False
) -> dict[str, float]:
    with ScriptedServer() as server:
        server.answer("", sse_reply(openai_stream(REPLY, delay_s=0.1)))
        events = headless(tree, wav, server, flags, speech=speech)
        requests = server.requests
    ready = next(e for e in events if e["type"] == "ready")["ts"]
    true_end = ready + clip.end_s
    last = requests[-1].json()["messages"] if requests else []
    users = [m["content"] for m in last if m["role"] == "user"]
    replies = [m for m in last if m["role"] == "assistant"]
    finished = {e["turn_id"] for e in events if e["type"] == "turn_finished"}
    early = [
        e for e in events if e["type"] == "first_token" and e["ts"] < true_end - 0.05
    ]  # a reply was streaming while the user still spoke
    spoken = [e for e in events if e["type"] == "tts_started" and e["ts"] < true_end - 0.05]
    after = [e["ts"] - true_end for e in events if e["type"] == "tts_started"]
    return {
        "reply audio before the user finished": len(spoken),
        "first sound after the end": min((a for a in after if a >= -0.05), default=math.nan),
        "requests": len(requests),
        "user messages": len(users),
        "overlap": max((overlap(clip.text, u) for u in users), default=0.0),
        "fragment replies in history": len(replies),
        "reply before the user finished": len(early),
        "turns finished": len(finished),
        "merged (continuation)": sum(
            1 for e in events if e["type"] == "turn_interrupted" and e["by"] == "continuation"
        ),
    }


def pause_set(args: argparse.Namespace, trees: dict[str, tuple[Path, list[str]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        lib = SpeechLibrary(tmp)
        clips = [*paused_clips(lib), *complete_clips(lib), jfk()]
        wavs = [write_wav(tmp / f"clip{i}.wav", c.audio) for i, c in enumerate(clips)]
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        reference = one_pass_overlaps(lib, clips)
        print(f"1. pause set ({len(clips)} sentences), {load()}")
        for clip, wav, alone in zip(clips, wavs, reference, strict=True):
            row = [f"without the pause, one pass: overlap {alone:.2f}"]
            for name, (tree, flags) in trees.items():
                r = pause_run(tree, clip, wav, flags)
                results[name].append(r)
                row.append(f"{name}: {r['user messages']} msg, overlap {r['overlap']:.2f}")
            print(f"   [{clip.kind:8s}] {clip.text[:44]:44s} " + " | ".join(row))
        for name, rows in results.items():
            one = sum(1 for r in rows if r["user messages"] == 1 and r["overlap"] >= 0.75)
            frag = sum(r["fragment replies in history"] for r in rows)
            early = sum(1 for r in rows if r["reply before the user finished"])
            merged = sum(r["merged (continuation)"] for r in rows)
            print(
                f"   {name:24s} one message with the whole sentence: {one}/{len(rows)}; "
                f"requests {sum(r['requests'] for r in rows)}; fragment replies in history "
                f"{frag}; replies cancelled by a continuation {merged}; reply text streaming "
                f"before the user finished {early}; median overlap "
                f"{statistics.median(r['overlap'] for r in rows):.2f}"
            )
        spoken_before_the_end(clips, wavs, tmp, args.speak_after)
        clear = sum(1 for r in reference if r >= 0.75)
        print(
            f"   the recognizer alone (each sentence said without its pause, one Whisper pass): "
            f"overlap >= 0.75 for {clear}/{len(clips)}"
        )
        print(f"   ({load()} at the end)")


def spoken_before_the_end(
    clips: list[Clip], wavs: list[Path], tmp: Path, waits: list[int | None]
) -> None:
    """The default configuration again with replies spoken to a PulseAudio sink: reply
    *audio* that started before the user had finished (the text figure is its upper bound),
    and what waiting for the user to be quiet costs: the first sound after a finished
    question, for each of ``waits`` (``--speak-after-ms``; None: the default)."""
    import pytest

    from app.agent.live_transcription import SPEAK_AFTER_S
    from tests.support.pulse import pulse_session

    runtime = tmp / "pulse"
    runtime.mkdir()
    try:
        with pulse_session(runtime):
            for wait_ms in waits:
                flags = [] if wait_ms is None else ["--speak-after-ms", str(wait_ms)]
                pairs = zip(clips, wavs, strict=True)
                rows = [pause_run(ROOT, clip, wav, flags, speech=True) for clip, wav in pairs]
                name = (
                    f"{SPEAK_AFTER_S * 1000:.0f} ms (default)"
                    if wait_ms is None
                    else f"{wait_ms} ms"
                )
                report_spoken(name, clips, rows)
    except pytest.skip.Exception as why:
        print(f"   speech on: not measured ({why})")


def report_spoken(name: str, clips: list[Clip], rows: list[dict[str, float]]) -> None:
    spoken = zip(clips, rows, strict=True)
    early = [c.text for c, r in spoken if r["reply audio before the user finished"]]
    one = sum(1 for r in rows if r["user messages"] == 1 and r["overlap"] >= 0.75)
    finished = [r["first sound after the end"] for r in rows]
    complete = [v for c, v in zip(clips, finished, strict=True) if c.kind == "complete"]
    print(
        f"   replies spoken, quiet before speaking {name}: reply audio before the user "
        f"finished {len(early)}/{len(rows)} {early}; one message with the whole sentence "
        f"{one}/{len(rows)}; first sound after a finished question (median of "
        f"{len(complete)}) {statistics.median(complete):.2f} s, after any sentence "
        f"{statistics.median(v for v in finished if not math.isnan(v)):.2f} s"
    )


def spoken_only(args: argparse.Namespace) -> None:
    """The pause set with replies spoken only (``--only spoken``; ``pause`` includes it)."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        lib = SpeechLibrary(tmp)
        clips = [*paused_clips(lib), *complete_clips(lib), jfk()]
        wavs = [write_wav(tmp / f"clip{i}.wav", c.audio) for i, c in enumerate(clips)]
        print(f"1b. pause set ({len(clips)} sentences), replies spoken, {load()}")
        spoken_before_the_end(clips, wavs, tmp, args.speak_after)


def one_pass_overlaps(lib: SpeechLibrary, clips: list[Clip]) -> list[float]:
    """Each sentence's word overlap when Whisper reads it whole, without the thinking pause:
    the most turn-taking could keep (tiny.en mishears some espeak words either way)."""
    from audio.transcriber import WhisperTranscriber

    unpaused = {f"{first} {rest}": lib.say(f"{first} {rest}") for first, _pause, rest in PAUSED}
    whisper = WhisperTranscriber()
    out = []
    for clip in clips:
        audio = unpaused.get(clip.text, clip.audio)
        out.append(overlap(clip.text, read(whisper, audio).text))
    whisper.close()
    return out


def read(whisper: Any, audio: Any, frames: int | None = None) -> Any:
    """One Whisper pass over an utterance as a pause hands it over (lead-in, padded tail);
    ``frames``: the encoder window of a quick pass (``audio.short_context``)."""
    from audio.speculative import TAIL_PAD_S
    from audio.transcriber import as_mono_float32
    from providers.cancel import CancelToken

    padded = as_mono_float32(compose(0.3, audio, TAIL_PAD_S).audio)
    return whisper.submit(padded, CancelToken(), short_context=frames).result()


# -- 2. a clear end over a reply ----------------------------------------------------------

QUESTION = "Tell me a long story about a dragon."
INTERRUPTIONS = [
    "Stop. What is the capital of France?",
    "Actually, what time is it in Tokyo right now?",
    "Hold on. How tall is Mount Everest?",
    "No, stop. Set a timer for five minutes.",
    "Wait. Tell me about cats instead.",
]


def clear_run(
    tree: Path, wav: Path, end_s: float, said: str, flags: list[str]
) -> tuple[float, int, float]:
    """(end of the interruption -> the request its turn used, early requests not used, word
    overlap of its transcript with what was said)."""
    story = openai_stream([f"Once upon a time {i}. " for i in range(3)], delay_s=0.05, done=False)
    with ScriptedServer() as server:
        # Answered by what was said: an early request that was not used (app.agent.early_request)
        # must not take the next reply.
        server.answer("dragon", sse_reply([*story[:4], Stall()]))
        server.answer("", sse_reply(openai_stream(["Paris."])))
        wall_minus_perf = time.time() - time.perf_counter()
        events = headless(tree, wav, server, flags)
        requests = server.requests
    transcripts = [e["text"] for e in events if e["type"] == "transcript"]
    if len(transcripts) < 2:
        return math.nan, 0, 0.0
    heard = overlap(said, transcripts[-1])
    used = [r for r in requests if r.json()["messages"][-1]["content"] == transcripts[-1]]
    if not used:
        return math.nan, 0, heard
    ready = next(e for e in events if e["type"] == "ready")["ts"]
    sent = used[-1].received_at + wall_minus_perf
    return sent - (ready + end_s), len(requests) - 2, heard


def noise_run(tree: Path, wav: Path, flags: list[str]) -> int:
    with ScriptedServer() as server:
        server.answer(
            "", sse_reply(openai_stream([f"Piece {i}. " for i in range(16)], delay_s=0.3))
        )
        events = headless(tree, wav, server, flags)
    return sum(1 for e in events if e["type"] == "turn_interrupted")


def clear_end(args: argparse.Namespace, trees: dict[str, tuple[Path, list[str]]]) -> None:
    results: dict[str, list[float]] = {name: [] for name in trees}
    cancels: dict[str, int] = dict.fromkeys(trees, 0)
    unused: dict[str, int] = dict.fromkeys(trees, 0)
    heard: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        lib = SpeechLibrary(tmp)
        first = lib.say(QUESTION)
        noises = compose(0.5, first, 1.2, white_noise(0.8, -25.0), 1.0, cough(0.25), 1.5)
        noisy = write_wav(tmp / "noise.wav", noises.audio)
        print(f"2. clear end: end of the interrupting speech -> new request sent, {load()}")
        names = list(trees)
        for run in range(args.runs):
            text = INTERRUPTIONS[run % len(INTERRUPTIONS)]
            song = compose(0.5, first, 3.0, lib.say(text), 1.5)  # past the continuation window
            wav = write_wav(tmp / f"barge{run}.wav", song.audio)
            for name in names if run % 2 == 0 else names[::-1]:
                tree, flags = trees[name]
                latency, dropped, words = clear_run(tree, wav, song.segments[1][1], text, flags)
                results[name].append(latency)
                heard[name].append(words)
                unused[name] += dropped
                cancels[name] += noise_run(tree, noisy, flags)
    base = statistics.median(results[names[0]])
    for name in names:
        values = results[name]
        median = statistics.median(values)
        spread = ", ".join(f"{v:.3f}" for v in values)
        print(
            f"   {name:24s} {median:.3f} s (runs {spread}); ratio to {names[0]} "
            f"{median / base:.2f}; word overlap {statistics.mean(heard[name]):.2f} (mean); "
            f"replies cancelled by noise/cough {cancels[name]}; early requests not used "
            f"{unused[name]} of {2 * args.runs} turns"
        )
    print(f"   ({load()} at the end; goal <= 0.30 s)")


# -- 3. push-to-talk ------------------------------------------------------------------------

PTT_SAID = "What is the capital of France, and how many people live there?"
KEY_UP_AFTER_S = 0.3  # people let go of the key a moment after their last word


async def ptt_run(whisper: Any, said: Any, incremental: bool) -> float:
    from app.agent.input_pump import InputPump
    from audio.held_speech import HeldSpeech
    from audio.playback import SpeechPlayer
    from audio.segmenter import SpeechSegmenter
    from audio.speech_output import SpeechOutput
    from audio.tts import EspeakTts
    from audio.vad import SileroVad
    from tests.support.controller_harness import make_controller

    quiet = SpeechOutput(EspeakTts(), SpeechPlayer(22050), enabled=False)
    with ScriptedServer() as server:
        server.add(sse_reply(openai_stream(["Paris."])))
        controller, _log, client = make_controller(server, transcriber=whisper, speech=quiet)
        held = HeldSpeech(whisper, SileroVad()) if incremental else None
        pump = InputPump(controller, SpeechSegmenter(SileroVad()), emit=_log, held=held)
        pump.set_hands_free(False)
        audio = compose(0.1, said, KEY_UP_AFTER_S).audio
        pump.push_to_talk_press()
        block = 512
        started = time.perf_counter()
        for i in range(0, len(audio) // block * block, block):
            pump.feed(audio[i : i + block])
            # real time: the next block is due at its own moment, however long this one took
            await asyncio.sleep(max(0.0, started + (i + block) / 16000 - time.perf_counter()))
        released = time.perf_counter()
        pump.push_to_talk_release()
        await asyncio.to_thread(server.wait_for_requests, 1, 30.0)
        sent = server.requests[0].received_at
        await controller.wait_idle()
        await controller.close()
        if held is not None:
            held.close()
        await client.aclose()
    return sent - released


def push_to_talk(args: argparse.Namespace) -> None:
    from audio.transcriber import WhisperTranscriber

    with tempfile.TemporaryDirectory() as tmp_dir:
        said = SpeechLibrary(Path(tmp_dir)).say(PTT_SAID)
    whisper = WhisperTranscriber()
    whisper.start_loading()
    asyncio.run(whisper.wait_loaded())
    print(
        f"3. push-to-talk: key-up -> request sent, {len(said) / 16000:.1f} s utterance, "
        f"key up {KEY_UP_AFTER_S} s after the last word, {load()}"
    )
    results: dict[str, list[float]] = {"at key-up (before)": [], "while held (after)": []}
    for run in range(args.runs):
        modes = [False, True] if run % 2 == 0 else [True, False]
        for incremental in modes:
            name = "while held (after)" if incremental else "at key-up (before)"
            results[name].append(asyncio.run(ptt_run(whisper, said, incremental)))
    whisper.close()
    base = statistics.median(results["at key-up (before)"])
    for name, values in results.items():
        median = statistics.median(values)
        spread = ", ".join(f"{v:.3f}" for v in values)
        print(f"   {name:24s} {median:.3f} s (runs {spread}); ratio {median / base:.2f}")
    print(f"   ({load()} at the end; goal <= 0.25 s)")


# -- 4. first sound ---------------------------------------------------------------------------

FIRST_SOUND_REPLIES = {
    "short sentence": "Sure. The capital of France is Paris, a city of about two million people.",
    "list": "Here are three ideas:\n\n1. Visit the Eiffel Tower early in the morning.\n"
    "2. Walk along the Seine.\n3. Eat a croissant.",
    "40-word sentence": (
        "The quick answer is that the capital of France has been Paris for many centuries "
        "and it remains the political and cultural centre of the country today with about "
        "two million people living inside the city limits and many more around it."
    ),
}
TOKEN_CHARS = 4
TOKEN_INTERVAL_S = 0.02  # 50 tokens/s, a hosted model's usual pace


def tokens(text: str) -> list[str]:
    return [text[i : i + TOKEN_CHARS] for i in range(0, len(text), TOKEN_CHARS)]


async def sound_run(tts: Any, text: str, chunker_class: Any) -> float:
    from audio.playback import SpeechPlayer
    from audio.speech_output import SpeechOutput
    from tests.support.fake_sounddevice import FakeSoundDevice

    started = asyncio.Event()
    player = SpeechPlayer(tts.sample_rate_hz, sounddevice_module=FakeSoundDevice(speed=1.0))

    def on_event(name: str, _turn: int, _detail: str | None) -> None:
        if name == "tts_started":
            started.set()

    speech = SpeechOutput(tts, player, on_event=on_event)
    await speech.wait_loaded()
    speech.begin(1)
    if chunker_class is not None:
        speech._reply.chunker = chunker_class()  # type: ignore[union-attr]  # the baseline
    first = time.perf_counter()
    for token in tokens(text):
        speech.feed(token)
        if started.is_set():
            break
        try:
            await asyncio.wait_for(started.wait(), TOKEN_INTERVAL_S)
        except TimeoutError:
            pass
    else:
        speech.finish()
    await asyncio.wait_for(started.wait(), 30)
    elapsed = time.perf_counter() - first
    speech.close()
    return elapsed


def first_sound(args: argparse.Namespace) -> None:
    from audio.tts import PiperTts

    baseline = None
    if args.before_tree is not None:
        spec = importlib.util.spec_from_file_location(
            "before_chunker", args.before_tree / "audio" / "sentence_chunker.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["before_chunker"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        from audio.sentence_chunker import Sentence

        class Baseline(module.SentenceChunker):  # type: ignore[misc,name-defined]
            """The old rules, handing out today's Sentence type."""

            def feed_sentences(self, delta: str) -> list[Sentence]:
                return [Sentence(x.text, x.source_end) for x in super().feed_sentences(delta)]

            def flush_sentences(self) -> list[Sentence]:
                return [Sentence(x.text, x.source_end) for x in super().flush_sentences()]

        baseline = Baseline
    tts = PiperTts()
    tts.load()
    print(
        f"4. first token -> first sound (Piper, tokens of {TOKEN_CHARS} chars every "
        f"{TOKEN_INTERVAL_S * 1000:.0f} ms), {load()}"
    )
    for label, text in FIRST_SOUND_REPLIES.items():
        after: list[float] = []
        before: list[float] = []
        for run in range(args.runs):
            if baseline is not None and run % 2:
                before.append(asyncio.run(sound_run(tts, text, baseline)))
            after.append(asyncio.run(sound_run(tts, text, None)))
            if baseline is not None and not run % 2:
                before.append(asyncio.run(sound_run(tts, text, baseline)))
        line = f"   {label:18s} after {statistics.median(after):.3f} s"
        line += " (runs " + ", ".join(f"{v:.3f}" for v in after) + ")"
        if before:
            b = statistics.median(before)
            line += f"; before {b:.3f} s; ratio {statistics.median(after) / b:.2f}"
        print(line)
    print(f"   ({load()} at the end; goal <= 0.25 s)")


# -- 5. the two readings of a pause -------------------------------------------------------------

COMMANDS = [
    *INTERRUPTIONS,
    QUESTION,
    *COMPLETE,
    "Please play some relaxing music.",
    "What's on my calendar tomorrow?",
    "Turn off the lights in the kitchen.",
    "How do I make pancakes?",
    "Send a message to Anna saying I am late.",
    "Stop and tell me the weather in Paris.",
    "Can you read me the news headlines?",
    "Add milk and eggs to my shopping list.",
    "Call my sister on her mobile.",
]
STORY = (
    "Once upon a time, in a small village by the sea, there lived an old fisherman who told "
    "stories to anyone who would listen. Every evening the children gathered around him."
)


def readings(args: argparse.Namespace) -> None:
    import numpy as np

    from audio.speculative import QUICK_MIN_FRAMES
    from audio.surer_reading import surer_reading
    from audio.text_norm import words
    from audio.transcriber import WhisperTranscriber

    whisper = WhisperTranscriber()
    whisper.start_loading()
    print(f"5. the two readings of a pause, {len(COMMANDS)} commands, {load()}")
    with tempfile.TemporaryDirectory() as tmp_dir:
        lib = SpeechLibrary(Path(tmp_dir))
        story = lib.say(STORY).astype(np.float32)
        for label, level_db in (("clean", None), ("over a story at -15 dB", -15.0)):
            scores: dict[str, list[float]] = {"full": [], "quick": [], "surer": []}
            same = kept_quick = 0
            for text in COMMANDS:
                said = np.trim_zeros(lib.say(text).astype(np.float32))
                if level_db is not None:
                    under = story[: said.size]
                    gain = np.sqrt(np.mean(said**2) / np.mean(under**2)) * 10 ** (level_db / 20)
                    said = said + gain * under
                full, quick = read(whisper, said), read(whisper, said, QUICK_MIN_FRAMES)
                surer = surer_reading(full, quick)
                same += words(full.text) == words(quick.text)
                kept_quick += surer is quick
                for name, reading in (("full", full), ("quick", quick), ("surer", surer)):
                    scores[name].append(overlap(text, reading.text))
            means = ", ".join(f"{k} {statistics.mean(v):.3f}" for k, v in scores.items())
            print(
                f"   {label:24s} mean word overlap: {means}; the same words {same} of "
                f"{len(COMMANDS)}, the quick reading kept {kept_quick}"
            )
    whisper.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before-tree", type=Path, default=None)
    parser.add_argument("--only", default="pause,clear,ptt,sound")
    parser.add_argument(
        "--speak-after-ms",
        dest="speak_after",
        type=lambda v: [None if w == "default" else int(w) for w in v.split(",")],
        default=[0, None],
        help="replies spoken: the quiet-before-speaking values to compare (e.g. 0,1000,default)",
    )
    args = parser.parse_args()
    trees: dict[str, tuple[Path, list[str]]] = {}
    if args.before_tree is not None:
        trees["before (other tree)"] = (args.before_tree.resolve(), [])
    trees["words, early request"] = (ROOT, [])
    trees["words only"] = (ROOT, ["--no-early-request"])
    trees["words + audio model"] = (ROOT, ["--turn-model"])
    sections: dict[str, Callable[[], None]] = {
        "pause": lambda: pause_set(args, trees),
        "clear": lambda: clear_end(args, trees),
        "ptt": lambda: push_to_talk(args),
        "sound": lambda: first_sound(args),
        "readings": lambda: readings(args),
        "spoken": lambda: spoken_only(args),
    }
    for name in args.only.split(","):
        sections[name.strip()]()


if __name__ == "__main__":
    main()
