"""End of speech → transcript: speech recognition on a server vs on this computer.

Each run plays five spoken commands (espeak, 2.5 s apart) as a real-time
microphone into ``harken --headless``, once with local Whisper (the default:
the pause's speculative pass is often reused as the final transcript) and
once with ``--stt-url`` pointing at a real faster-whisper-server on this
machine serving the same bundled tiny.en (int8, greedy; see
``tests.support.whisper_server``), in alternating order. The figure is the
``latency`` event's ``transcript_s`` (the end of the utterance → its
transcript). The baseline, measured in the same run, is a bare POST of the
same utterances to the server (no Harken around it).

The server here shares this machine's CPU with Harken's own local previews,
so this is a floor for what a separate GPU machine costs only in round trip,
not a prediction of it.

    .venv/bin/python -m tests.bench.bench_stt_server [--runs 2]

Measured on the two-core test machine (load average 6.7, other engineers' tests
running): local 0.787 s, server 6.024 s, bare POST 2.133 s (medians, n=10);
the server path pays for the local previews competing with the server for the
same two cores (1.4–2.3 s with ``--no-speculation``; see the README).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.support.speech import SpeechLibrary, silence, write_wav
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply
from tests.support.whisper_server import running_whisper_server

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [
    "What is the capital of France?",
    "Set a timer for five minutes.",
    "How tall is Mount Everest?",
    "Tell me about cats.",
    "What time is it in Tokyo right now?",
]


def headless(path: Path, server: ScriptedServer, *extra: str) -> list[float]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "--headless",
            "--input",
            str(path),
            "--realtime",
            "--no-tts",
            "--base-url",
            server.base_url("openai"),
            "--model",
            "m",
            "--api-key",
            "sk-local",
            *extra,
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    events: list[dict[str, Any]] = [json.loads(line) for line in proc.stdout.splitlines() if line]
    fell_back = [e["text"] for e in events if e["type"] == "status" and "instead" in e["text"]]
    if fell_back:
        raise SystemExit(f"local Whisper stood in for the server, so no figure: {fell_back}")
    return [e["transcript_s"] for e in events if e["type"] == "latency" and e["transcript_s"]]


def bare_post(url: str, path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as fh:
        response = httpx.post(
            f"{url}/audio/transcriptions",
            files={"file": ("u.wav", fh, "audio/wav")},
            data={"model": "whisper-1", "language": "en"},
            timeout=120,
        )
    response.raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ["XDG_CONFIG_HOME"] = str(work / "config")  # a patient [stt] deadline
        (work / "config" / "harken").mkdir(parents=True)
        (work / "config" / "harken" / "settings.toml").write_text("[stt]\ntimeout_ms = 60000\n")
        (work / "speech").mkdir()
        speech = SpeechLibrary(work / "speech")
        clips = [speech.say(text) for text in COMMANDS]
        parts = [silence(0.5)]
        for clip in clips:
            parts += [clip, silence(2.5)]
        path = write_wav(work / "commands.wav", np.concatenate(parts))
        singles = [write_wav(work / f"c{i}.wav", c) for i, c in enumerate(clips)]
        figures: dict[str, list[float]] = {"local": [], "server": [], "bare POST": []}
        with running_whisper_server(work) as whisper, ScriptedServer() as llm:
            for run in range(args.runs):
                order = ["local", "server"] if run % 2 == 0 else ["server", "local"]
                for mode in order:
                    llm.add(*(sse_reply(openai_stream(["OK."])) for _ in COMMANDS))
                    extra = ("--stt-url", whisper.url) if mode == "server" else ()
                    figures[mode] += headless(path, llm, *extra)
                figures["bare POST"] += [bare_post(whisper.url, single) for single in singles]
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"end of speech → transcript, median over {args.runs} runs × {len(COMMANDS)} commands")
    for name, values in figures.items():
        print(f"  {name:<10} {statistics.median(values):.3f} s  (n={len(values)})")
    local, server = statistics.median(figures["local"]), statistics.median(figures["server"])
    bare = statistics.median(figures["bare POST"])
    print(f"  server / local: {server / local:.2f}×; server / bare POST: {server / bare:.2f}×")
    print(f"  load average: {' '.join(load)} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
