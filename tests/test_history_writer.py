"""The history writer on its own: queued rows reach the database in order, a lock held by another
process is said once and outlasted, and quitting under a lock loses only what it says it lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.runtime.history_store import HistoryStore
from app.runtime.history_writer import ConversationRef, HistoryWriter
from providers.events import AssistantMessage, UserMessage

LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


class Events:
    """What the writer reports, waited on with events (no sleeping)."""

    def __init__(self) -> None:
        self.said: list[tuple[str, bool]] = []
        self.written = threading.Event()
        self.changed = threading.Condition()

    def notify(self, text: str, ok: bool) -> None:
        with self.changed:
            self.said.append((text, ok))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout_s: float = 15.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.said) >= count, timeout_s), self.said


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite3"
    HistoryStore(path).close()
    return path


@pytest.fixture
def locked(path: Path) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stdout.readline() == "locked\n"
        yield process
        if process.poll() is None:
            process.kill()


def release(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()
    process.wait(10)


def rows(path: Path) -> list[str]:
    store = HistoryStore(path)
    try:
        return [
            m.text  # type: ignore[union-attr]
            for c in reversed(store.list_conversations())
            for m in store.load_messages(c.id)
        ]
    finally:
        store.close()


def test_rows_are_written_in_order_and_the_conversation_gets_its_id(path: Path) -> None:
    events = Events()
    writer = HistoryWriter(path, notify=events.notify, written=events.written.set)
    first, second = ConversationRef(), ConversationRef()
    writer.add_message(first, UserMessage("one"), None)
    writer.add_message(first, AssistantMessage("two"), None)
    writer.add_message(second, UserMessage("three"), None)
    assert writer.close() == 0
    assert events.said == []  # nothing went wrong, nothing said
    assert first.id is not None and second.id is not None and first.id != second.id
    assert rows(path) == ["one", "two", "three"]


def test_a_lock_is_said_once_and_the_rows_land_once_when_it_goes(
    path: Path, locked: subprocess.Popen[str]
) -> None:
    events = Events()
    writer = HistoryWriter(path, notify=events.notify, retry_s=0.2)
    conversation = ConversationRef()
    for text in ("a", "b", "c"):
        writer.add_message(conversation, UserMessage(text), None)  # returns at once
    events.wait_for(1)
    assert writer.pending == 3 and writer.failing
    ((text, ok),) = events.said
    assert not ok and "locked" in text and "goes on" in text
    release(locked)
    events.wait_for(2)
    assert events.said[1] == ("History is being saved again.", True)
    assert writer.close() == 0
    assert rows(path) == ["a", "b", "c"]


def test_quitting_under_a_lock_reports_what_was_lost(
    path: Path, locked: subprocess.Popen[str], caplog: pytest.LogCaptureFixture
) -> None:
    events = Events()
    writer = HistoryWriter(path, notify=events.notify, retry_s=30.0)
    writer.add_message(ConversationRef(), UserMessage("unsaved"), None)
    events.wait_for(1)
    assert writer.close(timeout_s=5.0) == 1  # the retry wait is cut short by close()
    assert "1 history message(s) could not be saved" in caplog.text


def test_a_row_for_a_conversation_deleted_meanwhile_does_not_block_the_queue(path: Path) -> None:
    store = HistoryStore(path)
    gone = store.create_conversation()
    store.delete(gone)  # deleted in the sidebar while its rows were still queued
    store.close()
    events = Events()
    writer = HistoryWriter(path, notify=events.notify)
    writer.add_message(ConversationRef(gone), UserMessage("orphan"), None)
    writer.add_message(ConversationRef(), UserMessage("next"), None)
    assert writer.close() == 0
    assert events.said == []
    assert rows(path) == ["next"]
