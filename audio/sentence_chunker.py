"""Cut a streamed Markdown reply into speakable sentences as soon as each is complete.

Replies arrive in deltas split anywhere: mid-word, mid-number ("3." + "14"),
mid-abbreviation ("e." + "g."), mid-URL, mid-code-fence. Speaking can start
only at a sentence boundary, and what is spoken must not be Markdown syntax,
code or URLs read out letter by letter. The chunker finds boundaries in the raw
text (waiting for the one character that disambiguates them), then turns each
complete unit into plain speech with ``speakable`` (``audio.speakable``). Every sentence carries the
offset in the raw reply where it ends, so the caller can tell which part of the
shown text the user has heard, and whether it was cut inside a clause (so the
speech runs on into the next unit without a pause).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from .speakable import CODE_NOTE, speakable

_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’)]*_"
_CLAUSE_MARKS = ",;:—"
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "cf", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "approx", "fig"}
)
# Speech can only start once its first unit is complete and synthesised, and Piper's audio
# comes in one piece per sentence (one ONNX run; it cannot start sooner), so the reply's
# first sentence is spoken in pieces. Measured on one core at 50 tokens/s of 4 characters:
# a piece costs ~5 ms a character to stream in and ~3.5 ms a character to synthesise, so
# 8 words took 0.37 s to be heard and 5 words ~0.22 s.
# - The first piece ends at its first clause mark (, ; : — or " - "), or before its first
#   word that opens a phrase (PHRASE_OPENERS: "The quick answer is | that the capital..."),
#   once it has FIRST_CLAUSE_MIN_WORDS words; with neither, after FIRST_MAX_WORDS words.
# - The rest of that sentence is whole unless it runs past NEXT_PIECE_FACTOR times the
#   words of the piece before it (at least NEXT_MIN_MAX_WORDS); then it is cut at its last
#   clause mark or phrase opener, or at the bound. A piece of twice the words streams in and
#   is synthesised well within the ~0.3 s a word that the piece before takes to play, so
#   the pieces follow each other without a wait.
# Later sentences are whole: the reply is already playing while they stream.
FIRST_CLAUSE_MIN_WORDS = 3
FIRST_MAX_WORDS = 5
NEXT_PIECE_FACTOR = 2
NEXT_MIN_MAX_WORDS = 10
PHRASE_OPENERS = frozenset(
    """and but or so because although though while whereas since unless until if when
    where whether which who whom whose that after before for with from in on at into
    during about through without by""".split()
)
# A unit with no boundary at all is cut at a space once it is this long.
MAX_UNIT_CHARS = 300

_FENCE_OPEN = re.compile(r"[ ]{0,3}(`{3,}|~{3,})[^\n]*\n")
_FENCE_PREFIX = re.compile(r"[ ]{0,3}(`{1,2}|~{1,2})")
_RULE_LINE = re.compile(r"[ \t]*(?:[-*_=][ \t]*){3,}\n|[ \t]*\|?[ \t]*:?-{3,}[-:| \t]*\n")
_LINE_MARKER = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+•][ \t]+|(\d{1,3}[.)])[ \t]+)")
_URL_START = ("http://", "https://", "www.")


@dataclass(frozen=True)
class Sentence:
    """Speakable text, the offset in the raw reply just past what it was made from, and
    whether the unit was cut with no punctuation at its end."""

    text: str
    source_end: int
    run_on: bool = False  # cut inside a clause, at no punctuation: speak on without a pause


class _Cut(NamedTuple):
    end: int  # exclusive, in the pending text
    words: int
    kind: Literal["end", "clause", "run_on"]  # a sentence/line end, a clause mark, a bare cut


class SentenceChunker:
    """Incremental sentence splitter and Markdown-to-speech cleaner for one reply at a time."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything: ready for a new reply."""
        self._pending = ""
        self._base = 0  # raw offset of self._pending[0]
        self._line_start = True
        self._fence: str | None = None
        self._prefix = ""  # a numbered-list marker waiting for its item's text
        self._emitted_any = False
        self._code_noted = False
        # Words in the last piece of the reply's first sentence (0: none yet); None once
        # that sentence is complete, and later units are whole sentences.
        self._piece_words: int | None = 0

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; return the sentences completed by it (maybe none)."""
        return [sentence.text for sentence in self.feed_sentences(delta)]

    def flush(self) -> list[str]:
        """The reply ended: return what is left, then reset."""
        return [sentence.text for sentence in self.flush_sentences()]

    def feed_sentences(self, delta: str) -> list[Sentence]:
        self._pending += delta
        return self._drain(final=False)

    def flush_sentences(self) -> list[Sentence]:
        sentences = self._drain(final=True)
        self.reset()
        return sentences

    # -- scanning --------------------------------------------------------------------------

    def _consume(self, count: int) -> None:
        self._pending = self._pending[count:]
        self._base += count

    def _drain(self, *, final: bool) -> list[Sentence]:
        out: list[Sentence] = []
        while True:
            if self._fence is not None:
                if not self._skip_fenced_code(final):
                    return out
                continue
            self._skip_whitespace()
            if not self._pending:
                return out
            if self._line_start:
                handled = self._line_start_markup(out, final)
                if handled is None:
                    return out  # wait: the line's start is still ambiguous
                if handled:
                    continue
            cut = self._find_end(final)
            if cut is None:
                return out
            raw = self._prefix + self._pending[: cut.end]
            self._prefix = ""
            self._consume(cut.end)
            text = speakable(raw)
            if text:
                out.append(Sentence(text, self._base, run_on=cut.kind == "run_on"))
                self._emitted_any = True
                if self._piece_words is not None:
                    self._piece_words = None if cut.kind == "end" else cut.words

    def _skip_whitespace(self) -> None:
        index = 0
        for char in self._pending:
            if not char.isspace():
                break
            if char == "\n":
                self._line_start = True
                self._prefix = ""
                if self._emitted_any:
                    self._piece_words = None  # a line ends the first sentence
            index += 1
        self._consume(index)

    def _line_start_markup(self, out: list[Sentence], final: bool) -> bool | None:
        """Handle fences, rules and list/heading markers. True: something consumed;
        False: ordinary text follows; None: need more text to tell."""
        pending = self._pending
        fence = _FENCE_OPEN.match(pending)
        if fence:
            self._fence = fence.group(1)[0] * 3
            self._consume(fence.end())
            if not self._code_noted:
                self._code_noted = True
                out.append(Sentence(CODE_NOTE, self._base))
                self._emitted_any = True
                self._piece_words = None
            return True
        if "\n" not in pending and not final:
            stripped = pending.lstrip(" ")
            if _FENCE_PREFIX.fullmatch(stripped) or stripped.startswith(("```", "~~~")):
                return None
            if not any(char.isspace() for char in stripped):
                return None  # "#", "-", "12." … may still become a marker
        rule = _RULE_LINE.match(pending)
        if rule:
            self._consume(rule.end())
            return True
        self._line_start = False
        marker = _LINE_MARKER.match(pending)
        if marker:
            self._prefix = f"{marker.group(1)} " if marker.group(1) else ""
            self._consume(marker.end())
            return True
        return False

    def _skip_fenced_code(self, final: bool) -> bool:
        """Drop code up to and including the closing fence line; False if not there yet."""
        assert self._fence is not None
        index = 0
        while True:
            newline = self._pending.find("\n", index)
            if newline == -1:
                self._consume(index)  # whole lines of code are gone for good
                if final:
                    self._consume(len(self._pending))
                    self._fence = None
                return final
            line = self._pending[index:newline].strip()
            index = newline + 1
            if line.startswith(self._fence) and not line.strip(self._fence[0]):
                self._consume(index)
                self._fence = None
                self._line_start = True
                return True

    def _find_end(self, final: bool) -> _Cut | None:
        """End of the next speakable unit in ``self._pending``, or None to wait."""
        text = self._pending
        size = len(text)
        clause_end: int | None = None
        eager_from, max_words = self._piece_bounds()
        last_break: _Cut | None = None  # where to cut a piece of the first sentence at its bound
        words = 0
        word_start = 0
        index = 0
        while index < size:
            char = text[index]
            if char == "\n":
                return _Cut(index, words, "end")
            if char.isspace():
                if index > word_start and text[word_start:index].lower() in PHRASE_OPENERS:
                    cut = _Cut(len(text[:word_start].rstrip()), words - 1, "run_on")
                    if cut.words >= eager_from:
                        return cut  # "... is | that the ...": the piece ends before the word
                    if cut.words >= FIRST_CLAUSE_MIN_WORDS:
                        last_break = cut
            elif index == 0 or text[index - 1].isspace():
                words += 1
                word_start = index
                if words > max_words:
                    return last_break or _Cut(len(text[:index].rstrip()), words - 1, "run_on")
            if char == "`":
                skip = _skip_code_span(text, index, final)
                if skip is None:
                    return None
                index = skip
                continue
            if char == "]" and text.startswith("(", index + 1):
                close = text.find(")", index + 2)
                if close == -1 and "\n" not in text[index:] and not final:
                    return None
                index = index + 2 if close == -1 else close + 1
                continue
            if text.startswith(_URL_START, index) and (index == 0 or text[index - 1] in " (<\t"):
                stop = _url_end(text, index)
                if stop == size and not final:
                    return None
                index = stop
                continue
            if char in _TERMINATORS:
                verdict = self._sentence_end(text, index, final)
                if verdict is None:
                    return None
                if verdict > 0:
                    return _Cut(verdict, words, "end")
                index += 1
                continue
            if (
                (char in _CLAUSE_MARKS or (char == "-" and index > 0 and text[index - 1] == " "))
                and index + 1 < size
                and text[index + 1] == " "
            ):
                if words >= eager_from:
                    return _Cut(index + 1, words, "clause")  # out while the sentence streams
                if words >= FIRST_CLAUSE_MIN_WORDS:
                    last_break = _Cut(index + 1, words, "clause")
                if clause_end is None:
                    clause_end = index + 1
            index += 1
        if final:
            return _Cut(size, words, "end")
        if size >= MAX_UNIT_CHARS:
            if clause_end:
                return _Cut(clause_end, words, "clause")
            space = text.rfind(" ", 0, MAX_UNIT_CHARS)
            return _Cut(space if space > 0 else size, words, "run_on")
        return None

    def _piece_bounds(self) -> tuple[float, float]:
        """(words from which the first clause mark or phrase opener ends the unit, most
        words in the unit) for the pieces of the reply's first sentence; no bounds after."""
        piece = self._piece_words
        if piece is None:
            return math.inf, math.inf
        if piece == 0:
            return FIRST_CLAUSE_MIN_WORDS, FIRST_MAX_WORDS
        return math.inf, max(NEXT_PIECE_FACTOR * piece, NEXT_MIN_MAX_WORDS)

    @staticmethod
    def _sentence_end(text: str, index: int, final: bool) -> int | None:
        """At a terminator: the unit's end if it ends a sentence, 0 if not, None to wait."""
        size = len(text)
        run_end = index + 1
        while run_end < size and text[run_end] in _TERMINATORS:
            run_end += 1
        end = run_end
        while end < size and text[end] in _CLOSERS:
            end += 1
        if end == size:
            return end if final else None
        if not text[end].isspace():
            return 0  # 3.14, e.g., file.txt, "Hi!" she said
        if text[index] != "." or run_end - index > 1 or text[end] == "\n":
            return end
        if _word_before(text, index).lower() in _ABBREVIATIONS:
            return 0
        following = end
        while following < size and text[following] in " \t":
            following += 1
        if following == size:
            return end if final else None
        if text[following].islower():
            return 0  # "etc. and", "a.m. tomorrow": the sentence goes on
        return end


def _word_before(text: str, index: int) -> str:
    start = index
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "(\"'“":
        start -= 1
    return text[start:index]


def _skip_code_span(text: str, index: int, final: bool) -> int | None:
    """Index after an inline code span starting at ``index``; None if it may still close."""
    run = 1
    while index + run < len(text) and text[index + run] == "`":
        run += 1
    close = text.find("`" * run, index + run)
    newline = text.find("\n", index)
    if close != -1 and (newline == -1 or close < newline):
        return close + run
    if newline == -1 and not final:
        return None
    return index + run  # never closed on this line: a literal backtick


def _url_end(text: str, index: int) -> int:
    """End of a bare URL, leaving a trailing sentence terminator outside it."""
    stop = index
    while stop < len(text) and not text[stop].isspace() and text[stop] not in "<>":
        stop += 1
    while stop > index and text[stop - 1] in _TERMINATORS + ",;:)":
        if stop == len(text):
            break  # the URL may go on in the next delta
        stop -= 1
    return stop


# -- Markdown to speech --------------------------------------------------------------------
