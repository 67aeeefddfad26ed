"""Markdown helpers for the conversation view: fenced-code splitting, styling, latency text.

Qt renders Markdown itself (``QTextDocument.setMarkdown``); these helpers cut
a reply into prose and fenced code (so code gets its own shaded box, even
while the closing fence has not streamed in yet), shade inline code, dim the
unheard tail of an interrupted reply, and word the latency line.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QTextCharFormat, QTextCursor, QTextDocument

from app.desktop.window.theme import Colors

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)")


def split_fences(text: str) -> list[tuple[str, str, str, int]]:
    """Markdown into ("md", "", text, offset) and ("code", lang, code, offset) pieces, where
    offset is where the piece's body starts in ``text``; an unclosed fence (a reply still
    streaming) runs to the end."""
    out: list[tuple[str, str, str, int]] = []
    buf: list[str] = []
    start = 0
    pos = 0
    fence: str | None = None
    lang = ""
    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            if buf:
                out.append(("md", "", "".join(buf), start))
            buf, fence, lang, start = [], m.group(1), m.group(2), pos + len(line)
        elif fence is not None and m and m.group(1).startswith(fence) and not m.group(2):
            out.append(("code", lang, "".join(buf), start))
            buf, fence, lang, start = [], None, "", pos + len(line)
        else:
            buf.append(line)
        pos += len(line)
    if fence is not None:
        out.append(("code", lang, "".join(buf), start))
    elif buf:
        out.append(("md", "", "".join(buf), start))
    return out


def latency_text(latency: dict[str, float]) -> str:
    parts = []
    if "transcript_s" in latency:
        parts.append(f"speech end → transcript {latency['transcript_s']:.2f} s")
    if "first_token_s" in latency:
        parts.append(f"→ first token {latency['first_token_s']:.2f} s")
    if "first_audio_s" in latency:
        parts.append(f"→ first audio {latency['first_audio_s']:.2f} s")
    return " · ".join(parts)


def style_document(doc: QTextDocument, c: Colors, *, dim_from: int | None) -> None:
    """Shade `inline code`; dim every character from ``dim_from`` (a document position)."""
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            change = QTextCharFormat()
            if frag.charFormat().fontFixedPitch():
                change.setBackground(c.code_bg)
            if change.properties():
                _merge(doc, frag.position(), frag.position() + frag.length(), change)
            it += 1
        block = block.next()
    if dim_from is not None:
        dim = QTextCharFormat()
        dim.setForeground(c.dim)
        _merge(doc, dim_from, doc.characterCount() - 1, dim)


def _merge(doc: QTextDocument, start: int, end: int, fmt: QTextCharFormat) -> None:
    if end <= start:
        return
    cur = QTextCursor(doc)
    cur.setPosition(start)
    cur.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    cur.mergeCharFormat(fmt)
