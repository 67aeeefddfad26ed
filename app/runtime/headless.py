"""``harken --headless``: the same controller with no window, one JSON event per line.

Used for scripting, tests and benchmarks. Input is an audio file read as the
microphone (``--input``, hands-free with VAD), typed turns (``--say``) or,
with neither, the live microphone until interrupted. Logs go to stderr.
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
from app.runtime.loop_lag import LoopLagProbe

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


async def run_headless(options: Any, *, args: Any, out: TextIO = sys.stdout) -> int:
    """``options``: RuntimeOptions; ``args``: the parsed flags (input, realtime, say)."""
    start_ts = time.time()
    printer = JsonLinePrinter(out, start_ts)
    components = build_components(options, emit=printer)
    try:
        return await _run(components, args, printer)
    finally:
        await components.aclose()


async def _run(components: Components, args: Any, printer: JsonLinePrinter) -> int:
    controller = components.controller
    warnings = await components.wait_loaded()
    warnings += await components.wait_local_model()  # a script's first turn needs the LLM
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
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
    if args.say:
        for text in args.say:
            controller.submit_text(text)
    if args.input:
        source = components.file_source(args.input, realtime=args.realtime)
        pump = asyncio.create_task(components.pump.run(source))
    elif not args.say:
        pump = asyncio.create_task(components.pump.run(components.microphone_source()))
    else:
        pump = None
    try:
        if pump is not None:
            await _until(pump, stop)
            if pump.done() and pump.exception() is not None:
                exc = pump.exception()
                kind = getattr(getattr(exc, "kind", None), "value", "input")
                printer(ev.ErrorEvent(kind=kind, message=str(exc)))
                return 1
        await _until(asyncio.ensure_future(controller.wait_idle()), stop)
        if probe is not None:
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
        if pump is not None and not pump.done():
            pump.cancel()
            await asyncio.wait({pump}, timeout=2)
        await controller.close()
    return 0


async def _until(task: asyncio.Future[Any], stop: asyncio.Event) -> None:
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=2)
