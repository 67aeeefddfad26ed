"""``harken --self-test``: the real command from source, its failure path, and its parts.

The bundle runs the same command in CI (``.ci/run``); here it runs from the
source checkout as a real process, on the real models and a real local
server, in the private folders every test gets.
"""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.desktop.startup_mark import MARKER, install_startup_mark, process_age_s
from app.selftest.checks import SelfTestContext, SelfTestFailure, similarity
from app.selftest.runner import CHECKS, CheckResult, SelfTestReport, run_self_test
from app.selftest.server import SelfTestServer

ROOT = Path(__file__).resolve().parent.parent
CHECK_NAMES = [name for name, _ in CHECKS]
LINE = re.compile(r"^  (ok  |FAIL)  (.+?)\s+(\d+\.\d\d) s  (.*)$")


def run_self_test_process(
    timeout_s: float = 150,
) -> tuple[int, dict[str, tuple[bool, float, str]], str]:
    """Run ``harken --self-test``; returns the exit code, {check: (ok, seconds, detail)}, stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--self-test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    results = {}
    for line in proc.stdout.splitlines():
        match = LINE.match(line)
        if match:
            results[match.group(2)] = (
                match.group(1) == "ok  ",
                float(match.group(3)),
                match.group(4),
            )
    return proc.returncode, results, proc.stdout + proc.stderr


def test_self_test_from_source_passes_and_reports_every_check() -> None:
    code, results, output = run_self_test_process()
    assert code == 0, output
    assert list(results) == CHECK_NAMES, output
    assert all(ok for ok, _, _ in results.values()), output
    assert all(0 <= seconds < 60 for _, seconds, _ in results.values()), output
    assert "kitchen lights" in results["transcribe the sample"][2]
    assert "tiny.en (bundled" in results["speech recognition model"][2]
    assert "heard back as" in results["speech synthesis"][2]
    assert "1 request, no retry" in results["stream and cancel"][2]
    assert re.search(r"^Harken \S+ self-test \(source .+\)$", output, re.M), output
    assert f"Self-test passed: all {len(CHECKS)} checks" in output


def test_unwritable_data_folder_fails_with_an_actionable_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root may write anywhere, so make the folder impossible: its parent is a regular file.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should go")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "data"))
    code, results, output = run_self_test_process()
    assert code == 1, output
    ok, _, detail = results["folders"]
    assert not ok
    assert "The data folder cannot be written" in detail and str(blocker) in detail
    assert "XDG_DATA_HOME" in detail
    # The other checks still ran and passed: one failure does not hide the rest.
    assert all(results[name][0] for name in CHECK_NAMES if name != "folders"), output
    assert "Self-test FAILED: 1 of 7 checks failed (folders)" in output


# -- the runner ----------------------------------------------------------------------------


async def test_runner_reports_failures_timeouts_and_crashes_and_keeps_going() -> None:
    ran: list[str] = []

    def passing(ctx: SelfTestContext) -> str:
        ran.append("passing")
        return "fine"

    def failing(ctx: SelfTestContext) -> str:
        ran.append("failing")
        raise SelfTestFailure("The widget is missing. Reinstall Harken.")

    async def hanging(ctx: SelfTestContext) -> str:
        ran.append("hanging")
        await asyncio.Event().wait()
        return "never"

    def crashing(ctx: SelfTestContext) -> str:
        ran.append("crashing")
        raise KeyError("model.bin")

    async def async_passing(ctx: SelfTestContext) -> str:
        ran.append("async")
        return "also fine"

    checks: list[tuple[str, Any]] = [
        ("passing", passing),
        ("failing", failing),
        ("hanging", hanging),
        ("crashing", crashing),
        ("async", async_passing),
    ]
    report = await run_self_test(checks, timeout_s=0.2)
    assert ran == ["passing", "failing", "hanging", "crashing", "async"]
    assert [r.ok for r in report.results] == [True, False, False, False, True]
    assert not report.ok
    details = [r.detail for r in report.results]
    assert details[1] == "The widget is missing. Reinstall Harken."
    assert "did not finish within 0.2 s" in details[2]
    assert details[3] == "KeyError: 'model.bin'"
    text = report.render()
    assert "FAIL  hanging" in text and "ok    async" in text
    assert "Self-test FAILED: 3 of 5 checks failed (failing, hanging, crashing)" in text


def test_report_passes_only_when_every_check_passed() -> None:
    good = CheckResult("a", True, 0.1, "fine")
    bad = CheckResult("b", False, 0.1, "broken")
    assert SelfTestReport((good,), 0.1, "source x").ok
    assert not SelfTestReport((good, bad), 0.2, "source x").ok
    assert not SelfTestReport((), 0.0, "source x").ok


def test_similarity_ignores_case_and_punctuation_but_not_words() -> None:
    assert similarity("Turn on the lights.", "turn on the lights") == 100
    assert similarity("Turn on the lights.", "Thanks for watching!") < 50


# -- the built-in streaming server ------------------------------------------------------------


def test_selftest_server_streams_and_notices_a_hang_up_only_when_it_happens() -> None:
    with SelfTestServer(chunks=200, delay_s=0.01) as server:
        with httpx.Client(timeout=5) as client:
            with client.stream(
                "POST", f"{server.base_url}/chat/completions", json={"stream": True}
            ) as response:
                assert response.headers["content-type"] == "text/event-stream"
                lines = response.iter_lines()
                data = [line for line in (next(lines) for _ in range(6)) if line]
                assert data[0].startswith("data: ") and "word0" in data[0]
                # Still reading, not closed: the server must not report a hang-up.
                assert server.wait_for_disconnect(0.1) is None
                closed_at = time.perf_counter()
            # Leaving the ``with`` closed the response and dropped the connection.
            seen = server.wait_for_disconnect(2.0)
        assert seen is not None
        assert seen - closed_at < 1.0
        assert server.requests == 1
        assert server.chunks_sent < 200


# -- the start-up marker -----------------------------------------------------------------------


def test_startup_mark_prints_once_at_the_main_windows_first_paint(qtbot: Any) -> None:
    from PySide6.QtWidgets import QLabel, QMainWindow

    out = io.StringIO()
    watcher = install_startup_mark(out)
    try:
        other = QLabel("not the main window")
        qtbot.addWidget(other)
        other.show()
        qtbot.waitExposed(other)
        assert out.getvalue() == ""
        window = QMainWindow()
        qtbot.addWidget(window)
        before = time.time()
        window.show()
        qtbot.waitUntil(lambda: MARKER in out.getvalue(), timeout=5000)
        window.repaint()  # a later paint (synchronous) prints nothing more
    finally:
        from PySide6.QtWidgets import QApplication

        QApplication.instance().removeEventFilter(watcher)  # type: ignore[union-attr]
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    ts = float(re.search(r"ts=([0-9.]+)", lines[0]).group(1))  # type: ignore[union-attr]
    assert before - 1 <= ts <= time.time()
    age = process_age_s()
    assert age is not None and age > 0
