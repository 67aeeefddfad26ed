"""One local model configuration, loaded once in a worker thread and shared by every turn.

Loading a GGUF takes seconds; nothing may wait for it on the event loop. The
load starts on first use (or ``start``), its progress goes to a callback, and
every turn awaits the same load — a turn whose token is cancelled meanwhile
stops waiting, the load goes on for the next one. ``close`` aborts a load in
progress (llama.cpp's progress callback says stop) and frees a loaded model.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from .cancel import CancelToken
from .errors import StreamCancelled
from .local_model import LoadedModel, LocalModelConfig, ModelLoadAborted, load_model

Loader = Callable[[LocalModelConfig, Callable[[float], bool]], LoadedModel]


class LocalModelSource:
    """One model configuration, loaded once in a worker thread and shared by every turn.

    ``on_progress`` gets the fraction loaded (0..1) in the loading thread. ``close`` aborts
    a load in progress and frees a loaded model (after the generation using it ends)."""

    def __init__(
        self,
        config: LocalModelConfig,
        *,
        on_progress: Callable[[float], None] | None = None,
        loader: Loader = load_model,
    ) -> None:
        self.config = config
        self._on_progress = on_progress
        self._loader = loader
        self._future: concurrent.futures.Future[LoadedModel] | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<LocalModelSource {self.config.model_path}>"

    def start(self) -> concurrent.futures.Future[LoadedModel]:
        """Begin loading (once); the future holds the model or the ``LocalModelError``."""
        with self._lock:
            if self._future is None:
                self._future = concurrent.futures.Future()
                self._future.set_running_or_notify_cancel()
                threading.Thread(
                    target=self._load, name="harken-local-model-load", daemon=True
                ).start()
            return self._future

    def _load(self) -> None:
        assert self._future is not None
        try:
            model = self._loader(self.config, self._progress)
        except BaseException as exc:  # handed to whoever awaits the model
            self._future.set_exception(exc)
            return
        if self._closed.is_set():
            model.close()
            self._future.set_exception(
                ModelLoadAborted("The local model was replaced.", provider="Local model")
            )
            return
        self._future.set_result(model)

    def _progress(self, fraction: float) -> bool:
        if self._on_progress is not None:
            self._on_progress(fraction)
        return not self._closed.is_set()

    @property
    def loaded(self) -> LoadedModel | None:
        future = self._future
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    async def get(self, cancel: CancelToken | None = None) -> LoadedModel:
        """The loaded model, waiting for the load; raises its ``LocalModelError``, or
        ``StreamCancelled`` if ``cancel`` is set first (the load goes on)."""
        future = asyncio.wrap_future(self.start())
        if future.done() or cancel is None:
            return await future
        waiter: asyncio.Future[Any] = asyncio.ensure_future(cancel.wait())
        pending: set[asyncio.Future[Any]] = {future, waiter}
        try:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not future.done():
            future.add_done_callback(_retrieve)
            raise StreamCancelled(cancel.reason or "cancelled")
        return future.result()

    def close(self) -> None:
        """Abort a load in progress; free the model once no generation uses it (blocks
        for at most one token)."""
        self._closed.set()
        model = self.loaded
        if model is not None:
            model.close()


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
