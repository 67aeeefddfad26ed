"""A real ``faster-whisper-server`` (the dev extra) serving the bundled tiny.en, for tests.

Started as its own process on a free port (``python -m faster_whisper_server
--config FILE --host 127.0.0.1 --port N``; the config serves the bundled model
as ``whisper-1`` with int8 weights and greedy decoding, as Harken runs it
locally, so the two are compared fairly), offline, with uvicorn's access log
read by a thread: readiness is the "Uvicorn running" line, and each served
``POST /v1/audio/transcriptions`` is counted, so a test can prove which
utterances the server transcribed. The model loads on the first request, so
``start`` sends the bundled sample once before handing the server over.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "selftest" / "sample.wav"
POST = '"POST /v1/audio/transcriptions'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


CONFIG = """\
models:
  - name: whisper-1
    path: {path}
    model_options: {{compute_type: int8}}
    transcribe_options:
      {{beam_size: 1, without_timestamps: true, condition_on_previous_text: false}}
"""


class WhisperServer:
    def __init__(self, port: int, workdir: Path) -> None:
        from audio.model_resolution import bundled_model_path

        config = workdir / f"whisper-server-{port}.yaml"
        config.write_text(CONFIG.format(path=bundled_model_path()))
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._changed = threading.Condition()
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faster_whisper_server",
                str(bundled_model_path()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "info",
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip())
                self._changed.notify_all()
            if "Uvicorn running on" in line:
                self._ready.set()
        self._ready.set()  # the process ended: wake whoever waits

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        if not self._ready.wait(timeout_s) or self.proc.poll() is not None:
            raise RuntimeError("faster-whisper-server did not start:\n" + "\n".join(self.lines))

    @property
    def transcriptions(self) -> int:
        """``POST /v1/audio/transcriptions`` requests the server answered (any status)."""
        with self._changed:
            return sum(POST in line for line in self.lines)

    def wait_transcriptions(self, count: int, timeout_s: float = 10.0) -> int:
        """Wait until at least ``count`` requests are in the log (it is written just after
        the answer); returns the number logged then. A hang bound, not a figure."""
        with self._changed:
            self._changed.wait_for(
                lambda: sum(POST in line for line in self.lines) >= count, timeout_s
            )
            return sum(POST in line for line in self.lines)

    def warm_up(self) -> str:
        """Transcribe the bundled sample once (the server loads its model on first use)."""
        with SAMPLE.open("rb") as fh:
            response = httpx.post(
                f"{self.url}/audio/transcriptions",
                files={"file": ("sample.wav", fh, "audio/wav")},
                data={"model": "whisper-1", "language": "en"},
                timeout=120,
            )
        response.raise_for_status()
        return str(response.json()["text"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def running_whisper_server(workdir: Path) -> Iterator[WhisperServer]:
    """A started, warmed-up server (its config file goes in ``workdir``); stopped on exit."""
    server = WhisperServer(free_port(), workdir)
    try:
        server.wait_ready()
        server.warm_up()
        server.wait_transcriptions(1)
        yield server
    finally:
        server.stop()
