"""Writes conversation entries into a QTextDocument: user bubbles, replies, notices.

Each entry becomes a frame: a tinted bubble for the user (a microphone for
voice), a labelled reply whose Markdown prose is rendered by Qt and whose
fenced code gets a shaded monospace box, one line per tool call, "interrupted"
with the unheard tail dimmed, inline error boxes with a link to the fix,
and the latency line. Colours come from the palette (``theme.colors``).

The markers are the app's own SVG icons drawn inline (``icon``), not emoji:
a desktop without a colour emoji font (Debian's defaults) shows 🎙, ⏱, ⏹, 🔧
and 💡 as empty boxes. Each image carries its emoji as ``ICON_ALT``, which the
view's plain text (copy, debug dump, tests) shows in its place.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
    QTextFrameFormat,
    QTextImageFormat,
    QTextLength,
)

from app.desktop.conversation.conversation_model import (
    SETTINGS_KINDS,
    SETTINGS_LINK,
    NoticeEntry,
    ReplyEntry,
    ToolPart,
    UserEntry,
    tool_line,
)
from app.desktop.conversation.markdown_render import latency_text, split_fences, style_document
from app.desktop.conversation.soft_wrap import soft_wrap
from app.desktop.window.icons import icon_image
from app.desktop.window.theme import Colors

ICON_ALT = QTextFormat.Property.UserProperty.value + 1  # the emoji an inline icon stands for
_SPECIFIED_ONLY = QTextCharFormat.FontPropertiesInheritanceBehavior.FontPropertiesSpecifiedOnly


class EntryWriter:
    def __init__(self, font: QFont, colors: Colors, *, show_latency: bool = True) -> None:
        self.font = font
        self.c = colors
        self.show_latency = show_latency

    def entry(self, cursor: QTextCursor, entry: Any) -> None:
        c = self.c
        if isinstance(entry, UserEntry):
            self._user(cursor, entry, c)
        elif isinstance(entry, ReplyEntry):
            self._reply(cursor, entry, c)
        elif isinstance(entry, NoticeEntry):
            info = entry.kind == "info"
            text = entry.text if info else f"⚠ {entry.text}"
            self._box(cursor, text, c, link=entry.link, info=info, icon="hint" if info else None)

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

    def _user(self, cursor: QTextCursor, entry: UserEntry, c: Colors) -> None:
        fmt = QTextFrameFormat()
        fmt.setBackground(c.user_bg)
        fmt.setPadding(10)
        fmt.setLeftMargin(56)
        fmt.setTopMargin(14)
        fmt.setBottomMargin(4)
        fmt.setBorder(0)
        frame = cursor.insertFrame(fmt)
        if entry.partial:  # still speaking: greyed, italic, no quotes yet
            self._label(cursor, "You · listening…", c.dim)
            fmt_text = self._text_format(c.dim)
            fmt_text.setFontItalic(True)
            cursor.insertBlock(QTextBlockFormat(), fmt_text)
            self.icon(cursor, "mic", c.dim, "🎙")
            cursor.insertText(f" {entry.text} …", fmt_text)
            self._leave(cursor, frame)
            return
        self._label(cursor, "You · voice" if entry.voice else "You", c.dim)
        cursor.insertBlock(QTextBlockFormat(), self._text_format(c.text))
        if entry.voice:
            self.icon(cursor, "mic", c.accent, "🎙")
        text = f" “{entry.text}”" if entry.voice else entry.text
        cursor.insertText(soft_wrap(text), self._text_format(c.text))
        self._leave(cursor, frame)

    def _reply(self, cursor: QTextCursor, entry: ReplyEntry, c: Colors) -> None:
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
                self._line(cursor, " " + tool_line(part), color, mono=True, icon=("tool", "🔧"))
                continue
            self._markdown(cursor, part, c, dim_from=remaining)
            if remaining is not None:
                remaining = max(0, remaining - len(part))
        if entry.status == "interrupted":
            self._line(cursor, " interrupted", c.warn, bold=True, icon=("stop", "⏹"))
        if entry.status == "failed" and entry.error:
            link = ("Open Settings", SETTINGS_LINK) if entry.error_kind in SETTINGS_KINDS else None
            self._box(cursor, f"⚠ {entry.error}", c, link=link)
        if self.show_latency and entry.latency:
            text = " " + latency_text(entry.latency)
            self._line(cursor, text, c.dim, small=True, icon=("timer", "⏱"))
        self._leave(cursor, frame)

    def _box(
        self,
        cursor: QTextCursor,
        text: str,
        c: Colors,
        *,
        link: tuple[str, str] | None,
        info: bool = False,
        icon: str | None = None,
    ) -> None:
        """An inline notice: an error (red) or a suggestion (accent), with an optional link."""
        fmt = QTextFrameFormat()
        fmt.setBackground(c.user_bg if info else c.error_bg)
        fmt.setPadding(8)
        fmt.setTopMargin(6)
        fmt.setBorder(0)
        frame = cursor.insertFrame(fmt)
        fg = c.text if info else c.error_fg
        cursor.setCharFormat(self._text_format(fg))
        if icon is not None:
            self.icon(cursor, icon, c.accent, "💡")
            text = f" {text}"
        cursor.insertText(text, self._text_format(fg))
        if link is not None:
            label, href = link
            cursor.insertText("  ", self._text_format(fg))
            anchor = self._text_format(c.accent)
            anchor.setAnchor(True)
            anchor.setAnchorHref(href)
            anchor.setFontUnderline(True)
            cursor.insertText(label, anchor)
        self._leave(cursor, frame)

    def _label(self, cursor: QTextCursor, text: str, color: QColor) -> None:
        fmt = self._text_format(color)
        fmt.setFontWeight(QFont.Weight.DemiBold)
        fmt.setFontPointSize(max(7.0, self.font.pointSizeF() * 0.85))
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
        icon: tuple[str, str] | None = None,
    ) -> None:
        """One line of text; ``icon`` is (icon name, the emoji it stands for), drawn first."""
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
            fmt.setFontPointSize(max(7.0, self.font.pointSizeF() * 0.9))
        cursor.insertBlock(block, fmt)
        if icon is not None:
            self.icon(cursor, icon[0], color, icon[1], scale=0.9 if small else 1.0)
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
                if cut is not None:  # soft breaks shift offsets: wrap each side of the cut
                    head, body = soft_wrap(body[:cut]), soft_wrap(body[cut:])
                    body, cut = head + body, len(head)
                else:
                    body = soft_wrap(body)
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
        scratch.setDefaultFont(self.font)
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
            label.setFontPointSize(max(7.0, self.font.pointSizeF() * 0.8))
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

    def icon(
        self, cursor: QTextCursor, name: str, color: QColor, alt: str, *, scale: float = 1.0
    ) -> None:
        """Insert the SVG icon ``name`` in ``color``, as tall as the text, standing for ``alt``."""
        size = max(8, round(QFontMetricsF(self.font).height() * 0.9 * scale))
        app = QGuiApplication.instance()
        ratio = max(2.0, app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0)
        url = f"harken-icon:{name}/{color.name()}/{size}"
        doc = cursor.document()
        if doc.resource(QTextDocument.ResourceType.ImageResource.value, QUrl(url)) is None:
            image = icon_image(name, color, size, ratio)
            doc.addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(url), image)
        fmt = QTextImageFormat()
        fmt.setName(url)
        fmt.setWidth(size)
        fmt.setHeight(size)
        fmt.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignMiddle)
        fmt.setProperty(ICON_ALT, alt)
        cursor.insertImage(fmt)

    def _text_format(self, color: QColor) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(color)
        return fmt

    def _mono_font(self) -> QFont:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFixedPitch(True)
        font.setPointSizeF(max(7.0, self.font.pointSizeF() * 0.95))
        return font
