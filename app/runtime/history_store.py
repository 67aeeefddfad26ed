"""Conversation history in SQLite (WAL) in the platform data dir.

Every message is saved as it happens, in its own short transaction, so a
crash loses at most the turn in flight. ``load_messages`` gives back the
``providers.events`` messages that restore the model's context;
``messages`` gives the rows with their display flags (voice, interrupted)
for the window. The window reads through one store on the GUI thread; writes
during a conversation go through ``app.runtime.history_writer`` (its own
store on a worker thread), so a locked or full database never blocks a turn.

A file that is not a database (or is damaged) is moved aside to
``history.sqlite3.corrupt-YYYYmmdd-HHMMSS`` and a fresh history started;
``notice`` says so. A history that cannot be written (read-only file or
folder, a file where the data folder should be) is a ``HistoryError`` that
says what to fix.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import paths
from providers.events import AssistantMessage, Message, ToolCall, ToolResultMessage, UserMessage

log = logging.getLogger(__name__)

FILE_NAME = "history.sqlite3"
# sqlite result codes (``sqlite3.Error.sqlite_errorcode``, primary code in the low byte)
_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_NOT_WRITABLE = {3, 8, 14}  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN
TITLE_CHARS = 60
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    text TEXT NOT NULL DEFAULT '',
    tool_calls TEXT,
    tool_call_id TEXT,
    tool_name TEXT,
    is_error INTEGER NOT NULL DEFAULT 0,
    interrupted INTEGER NOT NULL DEFAULT 0,
    voice INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX IF NOT EXISTS conversations_by_updated ON conversations(updated DESC);
"""


class HistoryError(Exception):
    """The history database cannot be used; ``str()`` says what to do."""


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    created: float
    updated: float
    message_count: int = 0


@dataclass(frozen=True)
class StoredMessage:
    """One row, for display: ``message`` plus the flags the window renders."""

    id: int
    message: Message
    created: float
    voice: bool = False
    interrupted: bool = False
    failed: bool = False


def default_path() -> Path:
    return paths.data_dir(strict=False) / FILE_NAME


def auto_title(text: str) -> str:
    """A title from the first user message: its first line, cut at a word near 60 chars."""
    line = " ".join(text.split())
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut.rstrip(",.;:") + "…"


class HistoryStore:
    def __init__(
        self,
        path: Path | None = None,
        *,
        busy_timeout_s: float = 0.25,
        check_thread: bool = True,
    ) -> None:
        """``busy_timeout_s``: how long a statement waits for another connection's lock
        (sqlite's default is 5 s; the window never waits that long)."""
        self.path = path or default_path()
        self.notice: str | None = None  # for the user: the old file was moved aside
        blocked = paths.not_a_folder(self.path.parent)
        if blocked:
            raise HistoryError(blocked)
        try:
            self._db = self._open(busy_timeout_s, check_thread)
        except sqlite3.DatabaseError as exc:
            if _code(exc) not in _DAMAGED:
                raise HistoryError(_not_writable(self.path, exc)) from exc
            try:
                aside = _move_aside(self.path)
            except OSError as move_error:
                raise HistoryError(
                    f"The conversation history at {self.path} is damaged ({exc}) and could "
                    f"not be moved aside ({move_error}). Move it away to start a fresh history."
                ) from exc
            log.warning("history %s is not a database (%s); moved to %s", self.path, exc, aside)
            self.notice = (
                f"Your conversation history could not be read ({exc}), so Harken started a "
                f"fresh one. The old file was kept as {aside}."
            )
            try:
                self._db = self._open(busy_timeout_s, check_thread)
            except sqlite3.DatabaseError as again:
                raise HistoryError(_not_writable(self.path, again)) from again

    def _open(self, busy_timeout_s: float, check_thread: bool) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            isolation_level=None,
            timeout=busy_timeout_s,
            check_same_thread=check_thread,
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    # -- writing ---------------------------------------------------------------------------

    def create_conversation(self, title: str = "") -> int:
        now = time.time()
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO conversations (title, created, updated) VALUES (?, ?, ?)",
                (title, now, now),
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def add_message(
        self,
        conversation_id: int,
        message: Message,
        meta: Any = None,
        *,
        voice: bool = False,
        interrupted: bool = False,
        failed: bool = False,
    ) -> int:
        """Save one message now. ``meta`` may be any object with ``voice`` /
        ``interrupted`` / ``failed`` attributes (the controller's ``MessageMeta``)."""
        voice = bool(getattr(meta, "voice", voice))
        interrupted = bool(getattr(meta, "interrupted", interrupted))
        failed = bool(getattr(meta, "failed", failed))
        row: dict[str, Any] = {"tool_calls": None, "tool_call_id": None, "tool_name": None}
        row["is_error"] = 0
        if isinstance(message, UserMessage):
            role, text = "user", message.text
        elif isinstance(message, AssistantMessage):
            role, text = "assistant", message.text
            if message.tool_calls:
                row["tool_calls"] = json.dumps(
                    [
                        {"id": c.id, "name": c.name, "arguments": c.arguments_json}
                        for c in message.tool_calls
                    ]
                )
        elif isinstance(message, ToolResultMessage):
            role, text = "tool", message.content
            row.update(
                tool_call_id=message.tool_call_id,
                tool_name=message.name,
                is_error=int(message.is_error),
            )
        else:
            raise TypeError(f"not a provider message: {message!r}")
        now = time.time()
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO messages (conversation_id, role, text, tool_calls, tool_call_id,"
                " tool_name, is_error, interrupted, voice, failed, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    role,
                    text,
                    row["tool_calls"],
                    row["tool_call_id"],
                    row["tool_name"],
                    row["is_error"],
                    int(interrupted),
                    int(voice),
                    int(failed),
                    now,
                ),
            )
            self._db.execute(
                "UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id)
            )
            if role == "user":
                self._db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ? AND title = ''",
                    (auto_title(text), conversation_id),
                )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def rename(self, conversation_id: int, title: str) -> None:
        with self._tx():
            self._db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation_id)
            )

    def delete(self, conversation_id: int) -> None:
        with self._tx():
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- reading ---------------------------------------------------------------------------

    def list_conversations(self, limit: int = 500) -> list[ConversationSummary]:
        """Newest (most recently updated) first."""
        return self._summaries("", (), limit)

    def search(self, query: str, limit: int = 200) -> list[ConversationSummary]:
        """Conversations whose title or any message contains ``query`` (case-insensitive)."""
        query = query.strip()
        if not query:
            return self.list_conversations(limit)
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = (
            "WHERE c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m2"
            " WHERE m2.conversation_id = c.id AND m2.text LIKE ? ESCAPE '\\')"
        )
        return self._summaries(where, (pattern, pattern), limit)

    def get(self, conversation_id: int) -> ConversationSummary | None:
        found = self._summaries("WHERE c.id = ?", (conversation_id,), 1)
        return found[0] if found else None

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT id, role, text, tool_calls, tool_call_id, tool_name, is_error, interrupted,"
            " voice, failed, created FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [
            StoredMessage(
                id=r[0],
                message=_message(r[1], r[2], r[3], r[4], r[5], r[6]),
                created=r[10],
                voice=bool(r[8]),
                interrupted=bool(r[7]),
                failed=bool(r[9]),
            )
            for r in rows
        ]

    def load_messages(self, conversation_id: int) -> list[Message]:
        """The provider messages that restore this conversation's model context."""
        return [m.message for m in self.messages(conversation_id)]

    # -- internals -------------------------------------------------------------------------

    def _summaries(
        self, where: str, args: tuple[Any, ...], limit: int
    ) -> list[ConversationSummary]:
        rows = self._db.execute(
            "SELECT c.id, c.title, c.created, c.updated,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)"
            f" FROM conversations c {where} ORDER BY c.updated DESC, c.id DESC LIMIT ?",
            (*args, limit),
        ).fetchall()
        return [ConversationSummary(*r) for r in rows]

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error): one short write transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:  # sqlite may have rolled back already (disk full)
            self._db.execute("ROLLBACK")


def _code(exc: sqlite3.Error) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def _not_writable(path: Path, exc: BaseException) -> str:
    return (
        f"The conversation history at {path} cannot be used ({exc}). Make sure the file and "
        f"its folder {path.parent} are yours and writable (e.g. chmod u+w), and that the disk "
        "has room; then restart Harken."
    )


def _move_aside(path: Path) -> Path:
    """Move a damaged database (and its -wal/-shm files) aside, like a corrupt settings file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            os.replace(extra, aside.with_name(aside.name + suffix))
    return aside


def _message(
    role: str,
    text: str,
    tool_calls: str | None,
    tool_call_id: str | None,
    tool_name: str | None,
    is_error: int,
) -> Message:
    if role == "user":
        return UserMessage(text)
    if role == "assistant":
        calls = tuple(
            ToolCall(c["id"], c["name"], c.get("arguments") or "{}")
            for c in json.loads(tool_calls or "[]")
        )
        return AssistantMessage(text, calls)
    return ToolResultMessage(tool_call_id or "", tool_name or "", text, bool(is_error))
