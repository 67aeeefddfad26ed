"""The one form in which Harken compares transcribed words.

Several guards compare what Whisper heard with something else: the phantom
phrases it invents from noise (``hallucination``), what the assistant just
said (the self-echo check in ``app.agent.echo``), how the words so far end
(``end_of_turn``), the sentence the self-test expected. They must agree on
what a word is, or "don't" matches in one place and not in another.

A word is a run of letters or digits, with apostrophes kept inside it
("don't", "I'll"); everything else (punctuation, hyphens, quotes) separates
words. Case is folded to lower case and typographic apostrophes (’) count as
plain ones, since Whisper writes either.
"""

from __future__ import annotations

import re

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})
_WORD = re.compile(r"\w+(?:'\w+)*")


def words(text: str) -> list[str]:
    """The words of ``text``, lower case: ``words("Don't stop—now!")`` is
    ``["don't", "stop", "now"]``."""
    return _WORD.findall(text.translate(_APOSTROPHES).lower())


def normalise(text: str) -> str:
    """The words of ``text`` joined by single spaces: ``normalise("Amara.org") == "amara org"``."""
    return " ".join(words(text))
