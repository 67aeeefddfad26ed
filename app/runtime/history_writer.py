"""Saves history off the event loop, so a locked database or a full disk never stalls a turn.

The conversation calls ``add_message`` on the loop; that only queues the row.
A worker thread with its own SQLite connection (busy timeout 0.25 s, not
sqlite's 5 s) writes the queue in order. When a write fails (another program
holds the database locked, the disk is full, the file became read-only), the
row stays at the head of the queue, ``notify`` is called *once* with a
sentence saying that history is not being saved and why, and the queue is
retried every ``retry_s`` seconds; when the writes go through again, ``notify``
says so and everything kept is written, once and in order. Nothing here
blocks the caller; the conversation goes on either way.

A conversation's row is created with its first message; ``ConversationRef``
carries its id, known once that write went through. ``close`` tries what is
left until a deadline and logs what could not be written.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.events import Message

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 0.25


@dataclass
class ConversationRef:
    """One conversation as the writer knows it: ``id`` is None until its row exists."""

    id: int | None = None


@dataclass(frozen=True)
class _Row:
    conversation: ConversationRef
    message: Message
    meta: Any


def problem_sentence(exc: BaseException, path: Path) -> str:
    """Why history is not being saved, in words the user can act on."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        why = f"another program has the history database locked ({path.name})"
    elif "full" in text:
        why = "the disk is full"
    elif "readonly" in text or "read-only" in text:
        why = f"{path} is read-only; make it and its folder writable"
    else:
        why = str(exc)
    return (
        f"History is not being saved: {why}. The conversation goes on, and what is missing "
        "is saved as soon as it can be."
    )


class HistoryWriter:
    def __init__(
        self,
        path: Path,
        *,
        notify: Callable[[str, bool], None] = lambda text, ok: None,
        written: Callable[[], None] = lambda: None,
        retry_s: float = 2.0,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        """``notify(text, ok)``: history stopped (ok False) or resumed (ok True) being saved.
        ``written()``: some rows reached the database. Both are called on the worker thread."""
        self.path = path
        self._notify = notify
        self._written = written
        self._retry_s = retry_s
        self._busy_timeout_s = busy_timeout_s
        self._queue: deque[_Row] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Rows queued or kept after a failure, not yet in the database."""
        with self._wake:
            return len(self._queue)

    @property
    def failing(self) -> bool:
        return self._failing

    def add_message(self, conversation: ConversationRef, message: Message, meta: Any) -> None:
        """Queue one message (never blocks, never raises)."""
        with self._wake:
            self._queue.append(_Row(conversation, message, meta))
            self._wake.notify()

    def close(self, timeout_s: float = 2.0) -> int:
        """Write what is left (one more try now), stop the thread; returns rows lost."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join(timeout_s)
        lost = self.pending
        if lost:
            log.warning("%d history message(s) could not be saved before quitting", lost)
        return lost

    # -- the worker thread -----------------------------------------------------------------

    def _run(self) -> None:
        from app.runtime.history_store import HistoryStore

        store: HistoryStore | None = None
        try:
            while True:
                with self._wake:
                    while not self._queue and not self._closing:
                        self._wake.wait()
                    if not self._queue:
                        return  # closing, nothing left
                try:
                    if store is None:
                        store = HistoryStore(
                            self.path, busy_timeout_s=self._busy_timeout_s, check_thread=False
                        )
                    count = self._write_all(store)
                except Exception as exc:  # sqlite3.Error, HistoryError, OSError: keep and retry
                    self._failed(exc)
                    with self._wake:
                        if self._closing:
                            return
                        self._wake.wait(self._retry_s)
                    continue
                if self._failing:
                    self._failing = False
                    log.info("history is saved again")
                    self._notify("History is being saved again.", True)
                if count:
                    self._written()
        finally:
            if store is not None:
                store.close()

    def _write_all(self, store: Any) -> int:
        count = 0
        while True:
            with self._wake:
                if not self._queue:
                    return count
                row = self._queue[0]
            if row.conversation.id is None:
                row.conversation.id = store.create_conversation()
            try:
                store.add_message(row.conversation.id, row.message, row.meta)
            except sqlite3.IntegrityError as exc:  # its conversation was deleted meanwhile
                log.info("history row for a deleted conversation dropped (%s)", exc)
            with self._wake:
                self._queue.popleft()  # only once it is in the database
            count += 1

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, sqlite3.Error | OSError):
            log.exception("history write failed; keeping %d row(s)", self.pending)
        else:  # once per episode in the log too; each retry at debug level
            level = logging.DEBUG if self._failing else logging.WARNING
            log.log(level, "history write failed (%s); keeping %d row(s)", exc, self.pending)
        if not self._failing:
            self._failing = True
            self._notify(problem_sentence(exc, self.path), False)
