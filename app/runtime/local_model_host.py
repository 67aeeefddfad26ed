"""The app's one in-process model: loaded in the background, its progress a status line.

The window (and headless mode) never waits for a local model to load: the
load runs in a worker thread (``providers.LocalModelSource``), progress is
published as ``Status`` events, and a model that cannot load becomes an
``ErrorEvent`` with the reason while the app keeps running. Changing other
settings keeps the loaded model; choosing another file, format, context
length or thread count loads anew and frees the old one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from app.agent import events as ev
from providers import LocalModelConfig, LocalModelError, LocalModelSource
from providers.local_model import ModelLoadAborted, load_model
from providers.local_source import Loader

log = logging.getLogger(__name__)

PROGRESS_STEP = 0.1  # publish every 10 % of the load


class LocalModelHost:
    def __init__(self, emit: Callable[[ev.Event], None], *, loader: Loader = load_model) -> None:
        self._emit = emit
        self._loader = loader
        self._source: LocalModelSource | None = None
        self._watch: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Future[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # where progress is published
        self.error: str | None = None  # why the current model could not load

    @property
    def source(self) -> LocalModelSource | None:
        return self._source

    def source_for(self, config: LocalModelConfig) -> LocalModelSource:
        """The source for ``config``: the current one when nothing that matters changed."""
        if self._source is not None and self._source.config == config:
            return self._source
        self.release()
        self.error = None
        self._source = LocalModelSource(
            config, on_progress=self._progress_callback(config), loader=self._loader
        )
        if _loop_running():
            self.start()
        return self._source

    def start(self) -> None:
        """Begin loading the current model and publish how it goes (needs a running loop)."""
        if self._source is None or self._watch is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._watch = self._loop.create_task(self._report(self._source))

    async def wait(self) -> str | None:
        """Wait for the current load; returns the error message, or None when it loaded."""
        self.start()
        if self._watch is not None:
            await asyncio.shield(self._watch)
        return self.error

    def release(self) -> None:
        """Stop using the current model (another provider or model was chosen)."""
        source, self._source = self._source, None
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if source is not None:
            # close() waits for a running generation to leave the model: not on the loop
            if _loop_running():
                closing = asyncio.ensure_future(asyncio.to_thread(source.close))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
            else:
                source.close()

    async def aclose(self) -> None:
        self.release()
        if self._closing:
            await asyncio.wait(self._closing, timeout=5)

    async def _report(self, source: LocalModelSource) -> None:
        name = source.config.display_name
        self._emit(ev.Status(text=f"Loading the local model {name}…"))
        started = time.monotonic()
        try:
            await source.get()
        except ModelLoadAborted:
            return
        except LocalModelError as exc:
            self.error = exc.message
            self._emit(ev.ErrorEvent(kind="model", message=exc.message))
            return
        except Exception as exc:  # anything else from llama.cpp: report it, keep running
            log.exception("loading the local model failed")
            self.error = f"The local model {name} could not be loaded: {exc}"
            self._emit(ev.ErrorEvent(kind="model", message=self.error))
            return
        elapsed = time.monotonic() - started
        self._emit(ev.Status(text=f"Local model {name} ready (loaded in {elapsed:.1f} s)."))

    def _progress_callback(self, config: LocalModelConfig) -> Callable[[float], None]:
        """Called in the loading thread; hands every 10 % to the loop as a status."""
        name = config.display_name
        last = [-1.0]

        def on_progress(fraction: float) -> None:
            if fraction < 1.0 and fraction - last[0] < PROGRESS_STEP:
                return
            last[0] = fraction
            status = ev.Status(text=f"Loading the local model {name}… {fraction:.0%}")
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._publish_progress, config, status)

        return on_progress

    def _publish_progress(self, config: LocalModelConfig, status: ev.Status) -> None:
        if self._source is not None and self._source.config == config:  # not a stale load
            self._emit(status)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _loop_running() -> bool:
    return _running_loop() is not None
