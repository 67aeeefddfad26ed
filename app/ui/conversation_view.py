"""The scrolling conversation: one QTextBrowser, Markdown replies streaming in.

Entries come from ``ConversationModel``. Everything before the turn in
flight is rendered once and left alone; only the "live" tail (the turns
still running, plus the latest one) is re-rendered, and text deltas are
coalesced to at most one render per frame (~30 fps), never one per delta.
Code blocks get a shaded monospace box, an interrupted reply shows what the
user got normally and the rest dimmed with "⏹ interrupted", tool calls are
one line each, and errors sit inline with a link to Settings when that is
where the fix is. Text is selectable and the view scrolls with the keyboard.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFrameFormat,
    QTextLength,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from .conversation_model import (
    Change,
    ConversationModel,
    NoticeEntry,
    ReplyEntry,
    ToolPart,
    UserEntry,
    tool_line,
)
from .markdown_render import latency_text, split_fences, style_document
from .theme import Colors, colors
from .welcome import Welcome

FRAME_MS = 33  # at most ~30 renders a second while text streams
READING_SCALE = 1.12
MAX_COLUMN_PX = 860  # long lines are hard to read: wider windows get side margins
SETTINGS_LINK = "harken:settings"
SETTINGS_KINDS = {
    "auth",
    "config",
    "bad_request",
    "not_found",
    "model",
    "microphone",
    "device",
    "settings",
}
_SPECIFIED_ONLY = QTextCharFormat.FontPropertiesInheritanceBehavior.FontPropertiesSpecifiedOnly


class ConversationView(QTextBrowser):
    settings_requested = Signal()

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
        self.document().setDocumentMargin(14)
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
        change = self.model.apply(event)
        if change is None:
            return
        if change is Change.LATENCY and not self._show_latency:
            return
        if change is Change.DELTA:
            if not self._timer.isActive():
                self._timer.start()
            return
        index = self._entry_index(event)
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
        c = colors(self.palette())
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        cursor.setPosition(self._live_pos)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        entries = self.model.entries
        starts: list[int] = []
        for entry in entries[self._live_index :]:
            starts.append(cursor.position())
            self._insert_entry(cursor, entry, c)
        cursor.endEditBlock()
        self.render_count += 1
        self.welcome.setVisible(not entries)
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

    def _insert_entry(self, cursor: QTextCursor, entry: Any, c: Colors) -> None:
        if isinstance(entry, UserEntry):
            self._insert_user(cursor, entry, c)
        elif isinstance(entry, ReplyEntry):
            self._insert_reply(cursor, entry, c)
        elif isinstance(entry, NoticeEntry):
            self._insert_box(cursor, f"⚠ {entry.text}", c, link=True)

    def _leave(self, cursor: QTextCursor, frame: Any) -> None:
        """Step out of ``frame``; the empty paragraph Qt keeps after it is made (almost)
        zero-height, so frames stack with only their own margins between them."""
        cursor.setPosition(frame.lastPosition() + 1)
        if cursor.block().length() <= 1:
            gap = QTextBlockFormat()
            gap.setLineHeight(1, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
            cursor.setBlockFormat(gap)
            tiny = QTextCharFormat()
            tiny.setFontPointSize(1)
            cursor.setBlockCharFormat(tiny)

    def _insert_user(self, cursor: QTextCursor, entry: UserEntry, c: Colors) -> None:
        fmt = QTextFrameFormat()
        fmt.setBackground(c.user_bg)
        fmt.setPadding(10)
        fmt.setLeftMargin(56)
        fmt.setTopMargin(14)
        fmt.setBottomMargin(4)
        fmt.setBorder(0)
        frame = cursor.insertFrame(fmt)
        self._label(cursor, "You · voice" if entry.voice else "You", c.dim)
        cursor.insertBlock(QTextBlockFormat(), self._text_format(c.text))
        text = f"🎙 “{entry.text}”" if entry.voice else entry.text
        cursor.insertText(text, self._text_format(c.text))
        self._leave(cursor, frame)

    def _insert_reply(self, cursor: QTextCursor, entry: ReplyEntry, c: Colors) -> None:
        fmt = QTextFrameFormat()
        fmt.setPadding(0)
        fmt.setTopMargin(14)
        fmt.setBottomMargin(6)
        fmt.setBorder(0)
        frame = cursor.insertFrame(fmt)
        self._label(cursor, "Harken", c.accent)
        if not entry.parts and entry.status == "streaming":
            self._line(cursor, "Thinking…", c.dim, italic=True)
        remaining = entry.kept_chars if entry.status == "interrupted" else None
        for part in entry.parts:
            if isinstance(part, ToolPart):
                color = c.error_fg if part.is_error else c.tool_fg
                self._line(cursor, tool_line(part), color, mono=True)
                continue
            self._markdown(cursor, part, c, dim_from=remaining)
            if remaining is not None:
                remaining = max(0, remaining - len(part))
        if entry.status == "interrupted":
            self._line(cursor, "⏹ interrupted", c.warn, bold=True)
        if entry.status == "failed" and entry.error:
            link = entry.error_kind in SETTINGS_KINDS
            self._insert_box(cursor, f"⚠ {entry.error}", c, link=link)
        if self._show_latency and entry.latency:
            self._line(cursor, latency_text(entry.latency), c.dim, small=True)
        self._leave(cursor, frame)

    def _insert_box(self, cursor: QTextCursor, text: str, c: Colors, *, link: bool) -> None:
        fmt = QTextFrameFormat()
        fmt.setBackground(c.error_bg)
        fmt.setPadding(8)
        fmt.setTopMargin(6)
        fmt.setBorder(0)
        frame = cursor.insertFrame(fmt)
        cursor.setCharFormat(self._text_format(c.error_fg))
        cursor.insertText(text, self._text_format(c.error_fg))
        if link:
            cursor.insertText("  ", self._text_format(c.error_fg))
            anchor = self._text_format(c.accent)
            anchor.setAnchor(True)
            anchor.setAnchorHref(SETTINGS_LINK)
            anchor.setFontUnderline(True)
            cursor.insertText("Open Settings", anchor)
        self._leave(cursor, frame)

    def _label(self, cursor: QTextCursor, text: str, color: QColor) -> None:
        fmt = self._text_format(color)
        fmt.setFontWeight(QFont.Weight.DemiBold)
        fmt.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.85))
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.insertText(text, fmt)

    def _line(
        self,
        cursor: QTextCursor,
        text: str,
        color: QColor,
        *,
        mono: bool = False,
        bold: bool = False,
        italic: bool = False,
        small: bool = False,
    ) -> None:
        block = QTextBlockFormat()
        block.setTopMargin(4)
        fmt = self._text_format(color)
        if mono:
            fmt.setFont(
                self._mono_font(),
                QTextCharFormat.FontPropertiesInheritanceBehavior.FontPropertiesSpecifiedOnly,
            )
        if bold:
            fmt.setFontWeight(QFont.Weight.DemiBold)
        fmt.setFontItalic(italic)
        if small or mono:
            fmt.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.9))
        cursor.insertBlock(block, fmt)
        cursor.insertText(text, fmt)

    def _markdown(
        self, cursor: QTextCursor, text: str, c: Colors, *, dim_from: int | None = None
    ) -> None:
        """Insert Markdown; with ``dim_from``, the text from that source offset on is dimmed
        (the part of an interrupted reply the user never got)."""
        for kind, lang, body, start in split_fences(text):
            cut = None if dim_from is None else min(max(dim_from - start, 0), len(body))
            if kind == "code":
                self._code(cursor, lang, body, c, dim_from=cut)
            elif body.strip():
                scratch = self._render_markdown(body)
                if cut is not None and cut < len(body):
                    kept = self._render_markdown(body[:cut]).toPlainText().rstrip()
                    kept_len = len(kept) if scratch.toPlainText().startswith(kept) else 0
                    style_document(scratch, c, dim_from=kept_len)
                else:
                    style_document(scratch, c, dim_from=None)
                cursor.insertBlock(QTextBlockFormat(), self._text_format(c.text))
                cursor.insertFragment(QTextDocumentFragment(scratch))

    def _render_markdown(self, text: str) -> QTextDocument:
        scratch = QTextDocument()
        scratch.setDefaultFont(self.font())
        scratch.setMarkdown(text, QTextDocument.MarkdownFeature.MarkdownDialectGitHub)
        return scratch

    def _code(
        self, cursor: QTextCursor, lang: str, code: str, c: Colors, *, dim_from: int | None
    ) -> None:
        fmt = QTextFrameFormat()
        fmt.setBackground(c.code_bg)
        fmt.setPadding(8)
        fmt.setTopMargin(6)
        fmt.setBottomMargin(6)
        fmt.setBorder(0)
        fmt.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
        frame = cursor.insertFrame(fmt)
        if lang:
            label = self._text_format(c.dim)
            label.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.8))
            cursor.insertText(lang, label)
            cursor.insertBlock(QTextBlockFormat())
        block = QTextBlockFormat()
        block.setNonBreakableLines(True)
        cursor.setBlockFormat(block)
        code = code.rstrip("\n")
        cut = len(code) if dim_from is None else min(dim_from, len(code))
        for piece, color in ((code[:cut], c.text), (code[cut:], c.dim)):
            if piece:
                mono = self._text_format(color)
                mono.setFont(self._mono_font(), _SPECIFIED_ONLY)
                cursor.insertText(piece, mono)
        self._leave(cursor, frame)

    def _text_format(self, color: QColor) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(color)
        return fmt

    def _mono_font(self) -> QFont:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFixedPitch(True)
        font.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.95))
        return font

    def _on_link(self, url: QUrl) -> None:
        if url.toString() == SETTINGS_LINK:
            self.settings_requested.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.welcome.setGeometry(self.viewport().rect())
        side = max(0, (self.viewport().width() - MAX_COLUMN_PX) // 2)
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
