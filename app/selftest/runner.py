"""``harken --self-test``: prove that this installation works, from source or from the bundle.

People install Harken as an app; when something is missing from it (a model,
a native library, a Qt plugin, a writable folder) they should learn it from
one command with a readable answer, not from a silent microphone. This runs
the checks in ``selftest_checks`` in order, each with a time limit, prints a
short report with timings, and returns the exit code: 0 only when every
check passed. A failing check does not stop the others.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from app.config import paths
from app.selftest.checks import (
    SelfTestContext,
    SelfTestFailure,
    check_desktop,
    check_directories,
    check_stream,
    check_transcribe,
    check_tts,
    check_vad,
    check_whisper,
)
from app.version import app_version

Check = Callable[[SelfTestContext], "str | Awaitable[str]"]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("folders", check_directories),
    ("desktop (Qt)", check_desktop),
    ("speech recognition model", check_whisper),
    ("voice activity detection", check_vad),
    ("transcribe the sample", check_transcribe),
    ("speech synthesis", check_tts),
    ("stream and cancel", check_stream),
)
CHECK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``detail`` says what was found, or what is wrong and what to do."""

    name: str
    ok: bool
    elapsed_s: float
    detail: str


@dataclass(frozen=True)
class SelfTestReport:
    results: tuple[CheckResult, ...]
    total_s: float
    where: str

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(result.ok for result in self.results)

    def render(self) -> str:
        width = max(len(result.name) for result in self.results)
        lines = [f"Harken {app_version()} self-test ({self.where})"]
        for result in self.results:
            status = "ok  " if result.ok else "FAIL"
            lines.append(
                f"  {status}  {result.name:<{width}}  {result.elapsed_s:6.2f} s  {result.detail}"
            )
        failed = [result.name for result in self.results if not result.ok]
        count = len(self.results)
        if failed:
            lines.append(
                f"Self-test FAILED: {len(failed)} of {count} checks failed "
                f"({', '.join(failed)}) in {self.total_s:.1f} s."
            )
        else:
            lines.append(f"Self-test passed: all {count} checks in {self.total_s:.1f} s.")
        return "\n".join(lines)


def where_running() -> str:
    """Where this Harken runs from: ``bundle DIR`` (PyInstaller) or ``source DIR``."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return f"bundle {Path(sys.executable).parent}"
    return f"source {paths.assets_root().parent}"


async def _run_one(name: str, check: Check, ctx: SelfTestContext, timeout_s: float) -> CheckResult:
    started = time.perf_counter()
    try:
        outcome = check(ctx)
        if inspect.isawaitable(outcome):
            outcome = await asyncio.wait_for(outcome, timeout_s)
        ok, detail = True, str(outcome)
    except SelfTestFailure as exc:
        ok, detail = False, str(exc)
    except TimeoutError:
        ok, detail = False, f"It did not finish within {timeout_s:g} s. Please report this bug."
    except Exception as exc:  # an unexpected failure is still a readable line in the report
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return CheckResult(name, ok, time.perf_counter() - started, detail)


async def run_self_test(
    checks: Sequence[tuple[str, Check]] = CHECKS,
    *,
    timeout_s: float = CHECK_TIMEOUT_S,
    progress: TextIO | None = None,
) -> SelfTestReport:
    """Run ``checks`` in order (each within ``timeout_s``); ``progress`` gets each name as it
    starts, so a slow check is visible while it runs."""
    started = time.perf_counter()
    ctx = SelfTestContext()
    results: list[CheckResult] = []
    try:
        for name, check in checks:
            if progress is not None:
                print(f"self-test: {name}…", file=progress, flush=True)
            results.append(await _run_one(name, check, ctx, timeout_s))
    finally:
        await asyncio.to_thread(ctx.close)
    return SelfTestReport(tuple(results), time.perf_counter() - started, where_running())


def main(out: TextIO | None = None, *, stt: Any = None) -> int:
    """The ``--self-test`` command: print the report; 0 when all checks passed, else 1.
    ``stt``: the configured transcription server (``SttConfig``), checked too when set."""
    out = out or sys.stdout
    checks = CHECKS
    if stt is not None:
        from app.selftest.stt_server import stt_server_check

        checks = (*CHECKS, ("transcription server", stt_server_check(stt)))
    report = asyncio.run(run_self_test(checks, progress=sys.stderr))
    print(report.render(), file=out, flush=True)
    return 0 if report.ok else 1
