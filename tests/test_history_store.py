"""History store: saved as it happens, survives re-opening, search/rename/delete, model context."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.runtime.history_store import HistoryError, HistoryStore, auto_title, default_path
from providers.events import AssistantMessage, ToolCall, ToolResultMessage, UserMessage
from tests.support.small_fs import remount_read_only, tmpfs


@dataclass(frozen=True)
class Meta:  # the shape of the controller's MessageMeta
    voice: bool = False
    interrupted: bool = False
    failed: bool = False


def test_database_lives_in_the_data_dir_in_wal_mode(private_dirs: Path) -> None:
    store = HistoryStore()
    assert store.path == default_path() == private_dirs / "data" / "harken" / "history.sqlite3"
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()


def test_messages_survive_reopening_and_restore_the_model_context() -> None:
    store = HistoryStore()
    cid = store.create_conversation()
    call = ToolCall("call_1", "get_time", '{"zone": "UTC"}')
    store.add_message(cid, UserMessage("What time is it in UTC?"), Meta(voice=True))
    store.add_message(cid, AssistantMessage("", (call,)))
    store.add_message(cid, ToolResultMessage("call_1", "get_time", "12:00"))
    store.add_message(
        cid, AssistantMessage("It is noon … [interrupted by the user]"), Meta(interrupted=True)
    )
    store.add_message(cid, UserMessage("thanks"), interrupted=False)
    # No close(): a crash right now must not lose anything already saved.
    reopened = HistoryStore(store.path)
    assert reopened.load_messages(cid) == [
        UserMessage("What time is it in UTC?"),
        AssistantMessage("", (call,)),
        ToolResultMessage("call_1", "get_time", "12:00"),
        AssistantMessage("It is noon … [interrupted by the user]"),
        UserMessage("thanks"),
    ]
    rows = reopened.messages(cid)
    assert [r.voice for r in rows] == [True, False, False, False, False]
    assert [r.interrupted for r in rows] == [False, False, False, True, False]
    assert rows[1].message.tool_calls[0].arguments() == {"zone": "UTC"}  # type: ignore[union-attr]
    summary = reopened.get(cid)
    assert summary is not None and summary.message_count == 5
    assert summary.title == "What time is it in UTC?"  # auto-title from the first user message
    store.close()
    reopened.close()


def test_tool_error_flag_round_trips() -> None:
    store = HistoryStore()
    cid = store.create_conversation("t")
    store.add_message(cid, ToolResultMessage("c", "calc", "division by zero", is_error=True))
    assert store.load_messages(cid) == [ToolResultMessage("c", "calc", "division by zero", True)]


def test_list_is_newest_first_and_search_rename_delete() -> None:
    store = HistoryStore()
    a = store.create_conversation()
    store.add_message(a, UserMessage("Plan a trip to Lisbon"))
    b = store.create_conversation()
    store.add_message(b, UserMessage("Write a haiku about rain"))
    store.add_message(b, AssistantMessage("Soft rain on the roof, 100% calm"))
    assert [c.id for c in store.list_conversations()] == [b, a]
    store.add_message(a, AssistantMessage("Day one: Alfama."))  # a is now the most recent
    assert [c.id for c in store.list_conversations()] == [a, b]

    assert [c.id for c in store.search("lisbon")] == [a]  # title, case-insensitive
    assert [c.id for c in store.search("ALFAMA")] == [a]  # message text
    assert [c.id for c in store.search("100%")] == [b]  # LIKE wildcards are literal
    assert store.search("50%") == []
    assert {c.id for c in store.search("  ")} == {a, b}

    store.rename(b, "  Rain poems ")
    assert store.get(b).title == "Rain poems"  # type: ignore[union-attr]
    store.add_message(b, UserMessage("another one"))
    assert store.get(b).title == "Rain poems"  # type: ignore[union-attr] # not re-titled
    assert [c.id for c in store.search("poems")] == [b]

    store.delete(a)
    assert [c.id for c in store.list_conversations()] == [b]
    assert store.load_messages(a) == []
    assert store.get(a) is None


def test_auto_title_is_short_and_single_line() -> None:
    assert auto_title("  hello\n  world ") == "hello world"
    long = "Please explain in detail how the transformer attention mechanism works, step by step"
    title = auto_title(long)
    assert title.endswith("…") and len(title) <= 61
    assert title.startswith("Please explain in detail how the transformer attention")


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_fresh_one_started(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "history.sqlite3"
    junk = b"this is not a database" * 100
    bad.write_bytes(junk)
    store = HistoryStore(bad)
    (aside,) = tmp_path.glob("history.sqlite3.corrupt-*")
    assert aside.read_bytes() == junk  # kept, untouched
    assert store.notice is not None and str(aside) in store.notice
    assert "started a fresh one" in store.notice
    conversation = store.create_conversation()
    store.add_message(conversation, UserMessage("hello again"))
    store.close()
    assert HistoryStore(bad).load_messages(conversation) == [UserMessage("hello again")]


def test_a_read_only_history_says_to_make_it_writable(tmp_path: Path) -> None:
    """A history on a read-only file system is not "damaged": nothing is moved, and the
    message says to make it writable (before, it said to move the file away)."""
    with tmpfs(tmp_path / "ro") as folder:
        path = folder / "history.sqlite3"
        store = HistoryStore(path)
        store.add_message(store.create_conversation(), UserMessage("kept"))
        store.close()
        remount_read_only(folder)
        with pytest.raises(HistoryError, match="writable") as raised:
            HistoryStore(path)
        assert "Move" not in str(raised.value)
        assert path.exists() and not list(folder.glob("*.corrupt-*"))  # nothing moved


def test_a_data_folder_that_is_a_file_is_a_clear_error(private_dirs: Path) -> None:
    (private_dirs / "data" / "harken").write_text("not a folder")
    with pytest.raises(HistoryError, match="not a folder"):
        HistoryStore()
