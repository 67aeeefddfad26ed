"""``harken --headless``: the same controller with no window, one JSON event per line.

Used for scripting, tests and benchmarks. Input is an audio file read as the
microphone (``--input``, hands-free with VAD), typed turns (``--say``) or,
with neither, the live microphone until interrupted. Logs go to stderr.
Exit codes: ``app.runtime.exit_codes``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from typing import Any, TextIO

from app.agent import events as ev
from app.runtime.composition import Components, build_components
from app.runtime.exit_codes import EXIT_FATAL, EXIT_OK, EXIT_SIGNAL_BASE
from app.runtime.loop_lag import LoopLagProbe
from audio.errors import AudioError

log = logging.getLogger(__name__)

# Events the window needs but a script does not.
_SILENT = (ev.InputLevel, ev.StateChanged)


class JsonLinePrinter:
    """Writes each event as one JSON object with ``ts`` (Unix time) and ``t`` (since start)."""

    def __init__(self, out: TextIO, start_ts: float) -> None:
        self._out = out
        self._start_ts = start_ts
        self._start_mono = time.monotonic() - (time.time() - start_ts)

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, _SILENT):
            return
        now = time.time()
        record: dict[str, Any] = {
            "type": event.type,
            "ts": now,
            "t": round(now - self._start_ts, 4),
        }
        record.update({k: v for k, v in event.to_json().items() if k != "type"})
        self._out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._out.flush()


class StopSignals:
    """SIGINT/SIGTERM end the run cleanly: the waits below return, the pump and the turn
    are cancelled through the normal path, the streams close, and the exit code says
    which signal it was (128 + its number: 130 for Ctrl+C, 143 for SIGTERM)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signum: int | None = None
        self._handled: list[int] = []

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self._received, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, not main thread
                continue
            self._handled.append(signum)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in self._handled:
            loop.remove_signal_handler(signum)
        self._handled.clear()

    def _received(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
            log.info("%s received: ending the run", signal.Signals(signum).name)
        self.event.set()

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else EXIT_SIGNAL_BASE + self.signum


async def run_headless(options: Any, *, args: Any, out: TextIO = sys.stdout) -> int:
    """``options``: RuntimeOptions; ``args``: the parsed flags (input, realtime, say).
    Returns the exit code (``app.runtime.exit_codes``)."""
    start_ts = time.time()
    printer = JsonLinePrinter(out, start_ts)
    loop = asyncio.get_running_loop()
    stop = StopSignals()
    stop.install(loop)  # before the models load: a signal then ends the run as cleanly
    try:
        components = build_components(options, emit=printer)
        try:
            code = await _run(components, args, printer, stop.event)
        finally:
            await components.aclose()
    finally:
        stop.uninstall(loop)
    return stop.exit_code if stop.exit_code is not None else code


async def _run(
    components: Components, args: Any, printer: JsonLinePrinter, stop: asyncio.Event
) -> int:
    controller = components.controller
    # The live microphone (and so the echo canceller) only without --input or --say.
    loading = asyncio.ensure_future(_load(components, microphone=not (args.input or args.say)))
    await _until(loading, stop)
    if not loading.done() or loading.cancelled():
        return EXIT_OK  # stopped by a signal while loading; the caller picks the code
    try:
        warnings = loading.result()
    except AudioError as exc:
        printer(ev.ErrorEvent(kind=exc.kind.value, message=exc.message))
        return EXIT_FATAL
    probe = LoopLagProbe() if getattr(args, "loop_lag", False) else None
    server = components.options.stt
    printer(
        ev.Ready(
            stt_model=components.stt_description,
            stt_engine=components.stt_engine,
            stt_url=server.url if server is not None else "",
            load_warnings=tuple(warnings),
        )
    )
    if probe is not None:
        probe.start()
    work: list[asyncio.Task[Any]] = []
    if args.say:
        work.append(asyncio.create_task(_say_in_turn(controller, args.say), name="say"))
    pump: asyncio.Task[None] | None = None
    if args.input:
        source = components.file_source(args.input, realtime=args.realtime)
        pump = asyncio.create_task(components.pump.run(source), name="input")
    elif not args.say:
        pump = asyncio.create_task(components.pump.run(components.microphone_source()))
    if pump is not None:
        work.append(pump)
    try:
        await _until(asyncio.ensure_future(asyncio.wait(work)), stop)
        if stop.is_set():
            return EXIT_OK
        if pump is not None and not pump.cancelled() and pump.exception() is not None:
            exc = pump.exception()
            kind = getattr(getattr(exc, "kind", None), "value", "input")
            printer(ev.ErrorEvent(kind=kind, message=str(exc)))
            return EXIT_FATAL
        await _until(asyncio.ensure_future(controller.wait_idle()), stop)
        if probe is not None and not stop.is_set():
            await probe.stop()
            printer(
                ev.LoopLag(
                    worst_s=round(probe.worst_s, 4),
                    p99_s=round(probe.p99_s, 4),
                    samples=len(probe.lateness_s),
                )
            )
    finally:
        if probe is not None:
            await probe.stop()
        for task in work:
            if not task.done():
                task.cancel()
        if work:
            await asyncio.wait(work, timeout=2)
        await controller.close()
    return EXIT_OK


async def _load(components: Components, *, microphone: bool) -> list[str]:
    warnings = await components.wait_loaded(microphone=microphone)
    warnings += await components.wait_local_model()  # a script's first turn needs the LLM
    return warnings


async def _say_in_turn(controller: Any, texts: list[str]) -> None:
    """Typed turns run one after another, each once the previous one is over: a script
    of ``--say`` turns is a conversation, not a user interrupting themself."""
    for text in texts:
        controller.submit_text(text)
        await controller.wait_idle()


async def _until(task: asyncio.Future[Any], stop: asyncio.Event) -> None:
    """Wait for ``task`` or ``stop``; on stop, cancel ``task`` and give it 2 s to end."""
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=2)
