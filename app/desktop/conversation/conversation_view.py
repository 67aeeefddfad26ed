"""The scrolling conversation: one QTextBrowser, Markdown replies streaming in.

Entries come from ``ConversationModel``. Everything before the turn in
flight is rendered once and left alone; only the "live" tail (the turns
still running, plus the latest one) is re-rendered, and text deltas are
coalesced to at most one render per frame (~30 fps), never one per delta.
Code blocks get a shaded monospace box, an interrupted reply shows what the
user got normally and the rest dimmed with "interrupted", tool calls are
one line each, and errors sit inline with a link to Settings when that is
where the fix is. Text is selectable and the view scrolls with the keyboard.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QResizeEvent,
    QTextCursor,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.agent import events as ev
from app.desktop.conversation.conversation_model import (
    SETTINGS_LINK,
    Change,
    ConversationModel,
    NoticeEntry,
    ReplyEntry,
)
from app.desktop.conversation.entry_writer import ICON_ALT, EntryWriter
from app.desktop.conversation.soft_wrap import SOFT_BREAK, strip_soft_wraps
from app.desktop.window.theme import colors
from app.desktop.window.welcome import Welcome

FRAME_MS = 33  # at most ~30 renders a second while text streams
READING_SCALE = 1.12
MAX_COLUMN_PX = 860  # long lines are hard to read: wider windows get side margins
DOCUMENT_MARGIN_PX = 14  # the least padding on every side, however narrow the window


class ConversationView(QTextBrowser):
    settings_requested = Signal()
    link_activated = Signal(str)  # any other "harken:…" link, e.g. "harken:offer:0"

    def __init__(self, parent: QWidget | None = None, *, frame_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self.model = ConversationModel()
        self.render_count = 0
        self._show_latency = True
        self._live_index = 0
        self._live_pos = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(frame_ms)
        self._timer.timeout.connect(self.flush)
        self.setObjectName("conversation")
        self.setAccessibleName("Conversation")
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_link)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.welcome = Welcome(self.viewport())
        self.document().setDocumentMargin(DOCUMENT_MARGIN_PX)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * READING_SCALE)  # replies are read, not skimmed
        self.setFont(font)

    # -- public -----------------------------------------------------------------------------

    @property
    def show_latency(self) -> bool:
        return self._show_latency

    def set_show_latency(self, on: bool) -> None:
        if on != self._show_latency:
            self._show_latency = on
            self.rebuild()

    def handle_event(self, event: object) -> None:
        partial_at = self._partial_index(event)  # before the model replaces or drops it
        change = self.model.apply(event)
        if change is None:
            return
        if change is Change.LATENCY and not self._show_latency:
            return
        if change is Change.REBUILD:
            self.rebuild()
            return
        if change is Change.DELTA:
            if not self._timer.isActive():
                self._timer.start()
            return
        index = self._entry_index(event) if partial_at is None else partial_at
        if index is not None and index < self._live_index:
            self.rebuild()  # a late change to a turn already frozen (rare)
        else:
            self.flush()

    def flush(self) -> None:
        """Render pending changes now."""
        self._timer.stop()
        self._render_live()

    @property
    def render_pending(self) -> bool:
        return self._timer.isActive()

    def toPlainText(self) -> str:
        """The text, with each inline icon written as the emoji it stands for (🎙, ⏱…)."""
        text = super().toPlainText()
        if "\ufffc" not in text:
            return text
        alts: list[str] = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                fmt = fragment.charFormat()
                if fmt.isImageFormat():
                    alts.extend([str(fmt.property(ICON_ALT) or "\ufffc")] * fragment.length())
                it += 1
            block = block.next()
        pieces = text.split("\ufffc")
        out = [pieces[0]]
        for i, piece in enumerate(pieces[1:]):
            out.append(alts[i] if i < len(alts) else "\ufffc")
            out.append(piece)
        return "".join(out)

    def clear_conversation(self) -> None:
        self.model.clear()
        self.rebuild()

    def load(self, stored: Iterable[Any]) -> None:
        """Show a conversation from history (``HistoryStore.messages``)."""
        self.model.load(stored)
        self.rebuild()
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def rebuild(self) -> None:
        self._timer.stop()
        self.document().clear()
        self._live_index, self._live_pos = 0, 0
        self._render_live()

    # -- rendering ----------------------------------------------------------------------------

    def _partial_index(self, event: object) -> int | None:
        """Where the partial line an event updates, replaces or withdraws is, if any."""
        if not isinstance(event, ev.PartialTranscript | ev.Transcript):
            return None
        entry = self.model.partial(event.utterance_id)
        for i, candidate in enumerate(self.model.entries):
            if candidate is entry:
                return i
        return None

    def _entry_index(self, event: object) -> int | None:
        turn_id = getattr(event, "turn_id", None)
        reply = self.model.reply(turn_id) if isinstance(turn_id, int) else None
        if reply is None:
            return None
        for i, entry in enumerate(self.model.entries):
            if entry is reply:
                return i
        return None

    def _render_live(self) -> None:
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 8
        doc = self.document()
        writer = EntryWriter(self.font(), colors(self.palette()), show_latency=self._show_latency)
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        cursor.setPosition(self._live_pos)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        entries = self.model.entries
        starts: list[int] = []
        for entry in entries[self._live_index :]:
            starts.append(cursor.position())
            writer.entry(cursor, entry)
        cursor.endEditBlock()
        self.render_count += 1
        self._place_welcome()
        # Freeze everything before the first running turn (the last entry stays live).
        if starts:
            first_live = len(entries) - 1
            for i in range(self._live_index, len(entries)):
                entry = entries[i]
                if isinstance(entry, ReplyEntry) and entry.active:
                    first_live = i
                    break
            self._live_pos = starts[first_live - self._live_index]
            self._live_index = first_live
        if at_bottom:
            bar.setValue(bar.maximum())

    def add_notice(
        self, text: str, *, info: bool = True, link: tuple[str, str] | None = None
    ) -> None:
        """Show a notice that is not a controller event (first-run offers, start-up messages)."""
        self.model.entries.append(NoticeEntry(text, "info" if info else "error", link))
        self.flush()

    def createMimeDataFromSelection(self) -> QMimeData:
        """Copy without the soft breaks that keep very long runs fast to lay out."""
        data = super().createMimeDataFromSelection()
        if data.hasText() and SOFT_BREAK in data.text():
            plain = QMimeData()
            plain.setText(strip_soft_wraps(data.text()))
            if data.hasHtml():
                plain.setHtml(strip_soft_wraps(data.html()))
            return plain
        return data

    def _on_link(self, url: QUrl) -> None:
        href = url.toString()
        if href == SETTINGS_LINK:
            self.settings_requested.emit()
        elif href.startswith("harken:"):
            self.link_activated.emit(href)

    def _place_welcome(self) -> None:
        """Show how to start until the first turn, below any notices (first-run offers)."""
        started = any(not isinstance(e, NoticeEntry) for e in self.model.entries)
        top = int(self.document().size().height()) if self.model.entries else 0
        area = self.viewport().rect().adjusted(0, top, 0, 0)
        self.welcome.setGeometry(area)
        self.welcome.setVisible(
            not started and area.height() >= self.welcome.minimumSizeHint().height()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_welcome()
        # The side margins replace the document margin on the left and right: keep at least it.
        side = max(DOCUMENT_MARGIN_PX, (self.viewport().width() - MAX_COLUMN_PX) // 2)
        root = self.document().rootFrame()
        fmt = root.frameFormat()
        if int(fmt.leftMargin()) != side:
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            root.setFrameFormat(fmt)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self.welcome.restyle()
            self.rebuild()
