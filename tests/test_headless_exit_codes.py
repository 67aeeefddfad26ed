"""``harken --headless`` as a real process: signals, the exit-code table, start-up checks.

Each run is a real subprocess; signals are real ``kill``s sent once the run
says (on stdout) that it reached the moment under test. The table lives in
``app.runtime.exit_codes``: 0 done, 1 fatal, 2 usage/configuration, 128 + n
for a signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.speech import silence, write_wav
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply

ROOT = Path(__file__).resolve().parent.parent


class Headless:
    """A running ``harken --headless``; ``until`` reads its JSON lines as they come."""

    def __init__(self, *args: str, **popen: Any) -> None:
        self.events: list[dict[str, Any]] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "--headless", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **popen,
        )

    def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                event = json.loads(line)
                self.events.append(event)
                if predicate(event):
                    return event
        raise AssertionError(f"the run ended first: {[e['type'] for e in self.events]}")

    def finish(self, timeout_s: float = 30) -> tuple[int, str]:
        out, err = self.proc.communicate(timeout=timeout_s)
        self.events += [json.loads(line) for line in out.splitlines() if line.strip()]
        return self.proc.returncode, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)


@pytest.fixture
def runs() -> Iterator[list[Headless]]:
    started: list[Headless] = []
    yield started
    for run in started:
        run.kill()


def clean(stderr: str) -> None:
    for trouble in ("Traceback", "Exception ignored", "CancelledError"):
        assert trouble not in stderr, stderr[-3000:]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_reading_input_ends_the_run_cleanly(
    signum: int, code: int, runs: list[Headless], server: ScriptedServer, tmp_path: Path
) -> None:
    """Ctrl+C / SIGTERM in ``--input`` mode: no traceback, the signal's exit code."""
    quiet = write_wav(tmp_path / "quiet.wav", silence(60.0))
    run = Headless("--input", str(quiet), "--realtime", "--no-tts",
                   "--base-url", server.base_url("openai"), "--model", "m")  # fmt: skip
    runs.append(run)
    run.until(lambda e: e["type"] == "ready")
    run.proc.send_signal(signum)
    returncode, stderr = run.finish()
    assert returncode == code, stderr
    clean(stderr)


def test_sigterm_mid_turn_closes_the_stream_and_says_so_in_the_exit_code(
    runs: list[Headless], server: ScriptedServer
) -> None:
    server.add(sse_reply([*openai_stream(["Once upon a time"])[:2], Stall()]))
    run = Headless("--say", "Tell me a story", "--no-tts",
                   "--base-url", server.base_url("openai"), "--model", "m")  # fmt: skip
    runs.append(run)
    run.until(lambda e: e["type"] == "reply_delta")
    run.proc.send_signal(signal.SIGTERM)
    returncode, stderr = run.finish()
    assert returncode == 143, stderr  # it used to be 0, as if the turn had finished
    clean(stderr)
    server.wait_for_disconnect(timeout_s=5.0, index=0)  # the stream was closed, not left open
    assert [e["type"] for e in run.events if e["type"] == "turn_finished"] == []


def test_a_base_url_that_is_not_a_url_is_a_configuration_error(runs: list[Headless]) -> None:
    run = Headless("--say", "hi", "--no-tts", "--base-url", "not a url", "--model", "m")
    runs.append(run)
    returncode, stderr = run.finish()
    assert returncode == 2
    assert stderr.strip().splitlines() == [
        "harken: the base URL 'not a url' is not a URL: give one like "
        "http://localhost:11434/v1 or https://api.openai.com/v1"
    ]
    assert run.events == []  # before the models load: no ready, no turn


def test_an_unreadable_input_is_a_usage_error_before_the_models_load(
    runs: list[Headless], server: ScriptedServer, tmp_path: Path
) -> None:
    """A file that exists but cannot be read exits 2, like a missing one (it was 1, after
    the models had loaded)."""
    if os.geteuid() == 0:  # root may open anything: this one opens, and its read fails
        path, reason = Path("/proc/self/mem"), "Input/output error"
    else:
        path, reason = write_wav(tmp_path / "secret.wav", silence(1.0)), "Permission denied"
        path.chmod(0o000)
    run = Headless("--input", str(path), "--no-tts",
                   "--base-url", server.base_url("openai"), "--model", "m")  # fmt: skip
    runs.append(run)
    returncode, stderr = run.finish()
    assert returncode == 2, stderr
    assert stderr == f"harken: --input: cannot be read ({reason}): {path}\n"
    assert run.events == []


def test_help_lists_the_exit_codes() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 0
    for entry in ("0 the input ended", "1 fatal", "2 usage or configuration", "130 Ctrl+C",
                  "143 SIGTERM"):  # fmt: skip
        assert entry in text, text
