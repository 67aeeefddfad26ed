"""Quitting always finishes: a part that raises or hangs while closing does not stop the
rest, is logged, and the run ends — headless and in the window.

The failures are injected into the real shutdown of real runs (a real local
server, the real components): closing speech output raises, closing the HTTP
client raises, closing the local-model host never returns.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from pytestqt.qtbot import QtBot

from app.cli import build_parser, headless_options
from app.runtime.headless import run_headless
from app.runtime.local_model_host import LocalModelHost
from app.runtime.shutdown import SHUTDOWN_DEADLINE_S
from audio.speech_output import SpeechOutput
from tests.support.audio_models import SharedWhisper
from tests.support.live_app import CueMicrophone, QtAsync, start_app, write_settings
from tests.support.sse_server import ScriptedServer, openai_stream, sse_reply

pytest_plugins = ["tests.support.live_app"]


class Injected(RuntimeError):
    pass


@pytest.fixture
def closed_clients(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Records every ``httpx.AsyncClient`` that really got closed."""
    closed: list[httpx.AsyncClient] = []
    real = httpx.AsyncClient.aclose

    async def aclose(self: httpx.AsyncClient) -> None:
        await real(self)
        closed.append(self)

    monkeypatch.setattr(httpx.AsyncClient, "aclose", aclose)
    return closed


def fail(*_: object) -> None:
    raise Injected("injected failure")


async def headless(server: ScriptedServer, tmp_path: Path) -> int:
    server.add(sse_reply(openai_stream(["Hi."])))
    argv = ["--headless", "--say", "hello", "--no-tts", "--base-url",
            server.base_url("openai"), "--model", "m"]  # fmt: skip
    args = build_parser().parse_args(argv)
    with (tmp_path / "out.jsonl").open("w") as out:
        return await run_headless(headless_options(args), args=args, out=out)


async def test_headless_a_part_that_raises_on_close_is_logged_and_the_rest_still_closes(
    server: ScriptedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    closed_clients: list[httpx.AsyncClient],
) -> None:
    monkeypatch.setattr(SpeechOutput, "close", fail)
    with caplog.at_level(logging.ERROR):
        code = await asyncio.wait_for(headless(server, tmp_path), 60)
    assert code == 0
    assert len(closed_clients) == 1  # the HTTP client, closed after the speech output failed
    (record,) = [r for r in caplog.records if "closing the speech output failed" in r.message]
    assert record.exc_info is not None and record.exc_info[0] is Injected


async def test_headless_a_part_that_hangs_on_close_is_abandoned_at_the_deadline(
    server: ScriptedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    closed_clients: list[httpx.AsyncClient],
) -> None:
    async def hang(self: LocalModelHost) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(LocalModelHost, "aclose", hang)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.ERROR):
        code = await asyncio.wait_for(headless(server, tmp_path), 60)
    assert code == 0
    assert loop.time() - started < SHUTDOWN_DEADLINE_S + 30  # a hang bound, not a figure
    assert any("closing the local model took too long" in r.message for r in caplog.records)
    assert len(closed_clients) == 1  # what comes after the hung part still closed


def test_window_quit_finishes_when_closing_the_http_client_raises(
    qtbot: QtBot,
    qt_async: QtAsync,
    server: ScriptedServer,
    shared_whisper: SharedWhisper,
    desktop_env: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's case: Quit with a failing HTTP-client close left an invisible process."""
    real = httpx.AsyncClient.aclose

    async def aclose_then_raise(self: httpx.AsyncClient) -> None:
        await real(self)  # the sockets are closed; the failure is in what comes after
        raise Injected("injected failure")

    monkeypatch.setattr(httpx.AsyncClient, "aclose", aclose_then_raise)
    write_settings(server)
    mic = CueMicrophone()
    argv = ["--no-tts", "--base-url", server.base_url("openai"), "--model", "m"]

    async def scenario() -> int:
        app = await start_app(qtbot, argv, transcriber=shared_whisper, microphone=mic)
        await app.until(lambda: app.window.models_ready, what="models loaded")
        return await app.quit(timeout_s=SHUTDOWN_DEADLINE_S + 20)

    with caplog.at_level(logging.ERROR):
        assert qt_async.run(scenario()) == 0
    assert any("closing the HTTP client failed" in r.message for r in caplog.records)
