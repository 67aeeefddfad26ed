"""Turn-taking: a pause is not the end of a turn, and a clear end is answered fast.

Everything runs through ``harken --headless --realtime`` (or, for push-to-talk
and speech output, the same components in this process) against a local
streaming server, as a user would meet it:

1. **Pause set** (``tests/support/pause_set.py``): sentences with a 0.6–1.2 s
   thinking pause, short finished questions, and jfk.flac. Per sentence: the
   user messages the model saw (must be 1), their word overlap with the whole
   sentence (≥ 0.75), the fragment replies left in the history (0), and whether
   a reply started streaming before the user had finished (0; this is text,
   an upper bound on reply *audio* before the end).
2. **Clear end**: a finished question spoken over a reply; end of its speech →
   new request sent; a noise and a cough during a reply cancel nothing.
3. **Push-to-talk**: key-up → request sent, for a 3-s utterance.
4. **First sound**: first token → first audio of the reply, for a reply that
   starts with a short sentence, a list, or a 40-word sentence.

"Before" is measured in the same run: for 1 and 2 by running the same
headless command from another checkout (``--before-tree``, e.g. a worktree of
the commit before this work) and with ``--no-turn-model``; for 3 with
incremental transcription off; for 4 with the first-clause split off.

    .venv/bin/python -m tests.bench.bench_turn_taking [--runs 5] [--before-tree DIR]
        [--only pause,clear,ptt,sound]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.pause_set import Clip, complete_clips, jfk, overlap, paused_clips
from tests.support.speech import SpeechLibrary, write_wav
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

ROOT = Path(__file__).resolve().parents[2]
REPLY = [f"Sure {i}, " for i in range(25)]  # 2.5 s of streaming: a continuation lands in it


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def headless(
    tree: Path, path: Path, server: ScriptedServer, flags: list[str]
) -> list[dict[str, Any]]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--headless", "--input", str(path), "--realtime",
         "--no-tts", "--base-url", server.base_url("openai"), "--model", "m", *flags],
        cwd=tree, env=env, capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines()]


# -- 1. the pause set --------------------------------------------------------------------


def pause_run(tree: Path, clip: Clip, wav: Path, flags: list[str]) -> dict[str, float]:
    with ScriptedServer() as server:
        for _ in range(8):
            server.add(sse_reply(openai_stream(REPLY, delay_s=0.1)))
        events = headless(tree, wav, server, flags)
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
    return {
        "requests": len(requests),
        "user messages": len(users),
        "overlap": max((overlap(clip.text, u) for u in users), default=0.0),
        "fragment replies in history": len(replies),
        "reply before the user finished": len(early),
        "turns finished": len(finished),
    }


def pause_set(args: argparse.Namespace, trees: dict[str, tuple[Path, list[str]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        lib = SpeechLibrary(tmp)
        clips = [*paused_clips(lib), *complete_clips(lib), jfk()]
        wavs = [write_wav(tmp / f"clip{i}.wav", c.audio) for i, c in enumerate(clips)]
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        print(f"1. pause set ({len(clips)} sentences), {load()}")
        for clip, wav in zip(clips, wavs, strict=True):
            row = []
            for name, (tree, flags) in trees.items():
                r = pause_run(tree, clip, wav, flags)
                results[name].append(r)
                row.append(f"{name}: {r['user messages']} msg, overlap {r['overlap']:.2f}")
            print(f"   [{clip.kind:8s}] {clip.text[:44]:44s} " + " | ".join(row))
        for name, rows in results.items():
            one = sum(1 for r in rows if r["user messages"] == 1 and r["overlap"] >= 0.75)
            frag = sum(r["fragment replies in history"] for r in rows)
            early = sum(1 for r in rows if r["reply before the user finished"])
            print(
                f"   {name:24s} one message with the whole sentence: {one}/{len(rows)}; "
                f"requests {sum(r['requests'] for r in rows)}; fragment replies in history "
                f"{frag}; reply before the user finished {early}; median overlap "
                f"{statistics.median(r['overlap'] for r in rows):.2f}"
            )
        print(f"   ({load()} at the end)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before-tree", type=Path, default=None)
    parser.add_argument("--only", default="pause,clear,ptt,sound")
    args = parser.parse_args()
    trees: dict[str, tuple[Path, list[str]]] = {}
    if args.before_tree is not None:
        trees["before (other tree)"] = (args.before_tree.resolve(), [])
    trees["words only"] = (ROOT, ["--no-turn-model"])
    trees["words + audio model"] = (ROOT, [])
    sections: dict[str, Callable[[], None]] = {
        "pause": lambda: pause_set(args, trees),
    }
    for name in args.only.split(","):
        sections[name.strip()]()


if __name__ == "__main__":
    main()
