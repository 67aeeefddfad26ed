"""Markdown reply text → plain words a voice can say.

A reply is written to be read: links, code spans, emphasis marks, tables,
currency and emoji. ``speakable`` keeps what a listener needs (a link's text,
a URL's host, "20 dollars") and drops what would be read out letter by letter.
The sentence chunker calls it on every unit it cuts.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

CODE_NOTE = "See the code on screen."

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]*)>")
_BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]*[^\s<>()\[\].,;:!?]")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_TABLE_EDGES = re.compile(r"^\s*\||\|\s*$")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS_STAR = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_STRIKE = re.compile(r"~~(.+?)~~")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CURRENCY = re.compile(r"([$€£])\s?(\d+(?:\.\d+)?)(\s?(?:[kKmMbB]n?|thousand|million|billion)\b)?")
_PERCENT = re.compile(r"(\d)\s?%")
_CURRENCY_NAMES = {"$": "dollars", "€": "euros", "£": "pounds"}
_SCALE_WORDS = {"k": "thousand", "m": "million", "b": "billion", "bn": "billion"}
_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0xFE00, 0xFE0F))


def speakable(raw: str) -> str:
    """Plain text to speak for one complete unit of Markdown ("" if nothing to say)."""
    text = _IMAGE.sub(r"\1", raw)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(lambda match: _host(match.group(1)), text)
    text = _BARE_URL.sub(lambda match: _host(match.group(0)), text)
    text = _CODE_SPAN.sub(r"\2", text)
    text = _HTML_TAG.sub(" ", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS_STAR.sub(r"\1", text)
    text = _EMPHASIS_UNDERSCORE.sub(r"\1", text)
    text = _STRIKE.sub(r"\1", text)
    text = _TABLE_EDGES.sub("", text)
    text = text.replace("*", "").replace("|", ", ").replace("&", " and ")
    text = _THOUSANDS.sub("", text)
    text = _CURRENCY.sub(_say_money, text)
    text = _PERCENT.sub(r"\1 percent", text)
    text = text.replace("°", " degrees ")
    text = "".join(char for char in text if not _is_emoji(char))
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r"^[,;:\s]+|(?<=[,;:])[,;:]+", "", text)
    return text if re.search(r"[^\W_]", text) else ""


def _host(url: str) -> str:
    """Say a URL as its site name: "https://www.example.com/a?b" → "example.com"."""
    if url.startswith("mailto:"):
        return url[len("mailto:") :]
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    return host.removeprefix("www.")


def _say_money(match: re.Match[str]) -> str:
    amount = match.group(2)
    scale = (match.group(3) or "").strip()
    scale = _SCALE_WORDS.get(scale.lower(), scale.lower())
    name = _CURRENCY_NAMES[match.group(1)]
    if amount == "1" and not scale:
        name = name[:-1]
    return " ".join(part for part in (amount, scale, name) if part)


def _is_emoji(char: str) -> bool:
    code = ord(char)
    if code in (0x200D, 0x20E3) or any(low <= code <= high for low, high in _EMOJI_RANGES):
        return True
    return unicodedata.category(char) == "So"
