"""SentenceChunker: streamed Markdown replies → speakable sentences, as soon as each is complete."""

from __future__ import annotations

import random

import pytest

from audio.sentence_chunker import (
    FIRST_CLAUSE_MIN_WORDS,
    FIRST_MAX_WORDS,
    MAX_UNIT_CHARS,
    NEXT_MIN_MAX_WORDS,
    Sentence,
    SentenceChunker,
)
from audio.speakable import CODE_NOTE, speakable


def stream(text: str, sizes: list[int] | None = None, seed: int = 0) -> list[Sentence]:
    """Feed ``text`` in pieces (random 1–7 chars unless ``sizes``), then flush."""
    chunker = SentenceChunker()
    rng = random.Random(seed)
    out: list[Sentence] = []
    index = 0
    step = 0
    while index < len(text):
        size = sizes[step % len(sizes)] if sizes else rng.randint(1, 7)
        out += chunker.feed_sentences(text[index : index + size])
        index += size
        step += 1
    return out + chunker.flush_sentences()


def texts(sentences: list[Sentence]) -> list[str]:
    return [sentence.text for sentence in sentences]


REPLIES = [
    "Sure! Pi is about 3.14159, e.g. when you round it. Dr. Smith agrees. It costs $1,000.",
    "Here's how:\n\n```python\nprint('hi. there')\nx = 1.5\n```\n\nThat prints a greeting. Done.",
    "## Steps\n1. Preheat the oven.\n2. Mix **flour** and _sugar_.\n- See [the docs](https://ex.com/a.b).",
    "Great question 🎉! It's `x.y()` in Python... Really? Yes.",
    "I like it etc. and more. The meeting is at 9 a.m. tomorrow. OK.",
    "Visit https://www.python.org/downloads. Then install it.",
]


@pytest.mark.parametrize("reply", REPLIES)
def test_any_split_of_the_stream_gives_the_same_sentences(reply: str) -> None:
    whole = texts(stream(reply, sizes=[len(reply)]))
    assert whole, reply
    assert texts(stream(reply, sizes=[1])) == whole
    for seed in range(5):
        assert texts(stream(reply, seed=seed)) == whole


def test_a_sentence_is_emitted_as_soon_as_the_next_word_starts() -> None:
    chunker = SentenceChunker()
    assert chunker.feed("Hello there") == []
    assert chunker.feed(".") == []  # could still be "there.com" or "there..."
    assert chunker.feed(" How") == ["Hello there."]
    assert chunker.feed(" are you?") == []
    assert chunker.feed(" I") == ["How are you?"]
    assert chunker.flush() == ["I"]


def test_numbers_split_mid_stream_are_not_sentence_ends() -> None:
    chunker = SentenceChunker()
    assert chunker.feed("Pi is 3.") == []
    assert chunker.feed("14 roughly. Next") == ["Pi is 3.14 roughly."]
    assert chunker.flush() == ["Next"]


def test_abbreviations_and_lower_case_continuations_do_not_end_sentences() -> None:
    chunker = SentenceChunker()
    out = chunker.feed("Sure. Use a tool, e.")  # (a reply's first unit may end at a comma)
    out += chunker.feed("g. a hammer. Ask Dr. Who. It ends at 5 p.m. today. Then")
    assert out == [
        "Sure.",
        "Use a tool, e.g. a hammer.",
        "Ask Dr. Who.",
        "It ends at 5 p.m. today.",
    ]


def test_code_blocks_are_not_spoken_and_noted_once() -> None:
    reply = (
        "Try this:\n```bash\necho 'Hi. There.'\n```\nOr this:\n~~~\nls -la\n~~~\n"
        "Both work. Another:\n```\nunclosed(). code."
    )
    out = texts(stream(reply))
    assert out == ["Try this:", CODE_NOTE, "Or this:", "Both work.", "Another:"]
    assert all("echo" not in text and "ls" not in text for text in out)


def test_markdown_is_stripped() -> None:
    reply = (
        "# Title\n"
        "Some **bold**, *italic*, __strong__, _em_ and ~~gone~~ text.\n"
        "- A bullet with `code` in it.\n"
        "* Another with [a link](https://example.com/x.y) here.\n"
        "> A quote.\n"
        "---\n"
        "| a | b |\n|---|---|\n"
        "3) Third item.\n"
        "![diagram](img.png)\n"
    )
    assert texts(stream(reply)) == [
        "Title",
        "Some bold, italic, strong, em and gone text.",
        "A bullet with code in it.",
        "Another with a link here.",
        "A quote.",
        "a, b",
        "3) Third item.",
        "diagram",
    ]


def test_urls_become_site_names() -> None:
    assert speakable("See https://www.python.org/downloads/release?x=1 now.") == (
        "See python.org now."
    )
    assert speakable("Mail <mailto:me@example.com> or <https://a.example.org/x>.") == (
        "Mail me@example.com or a.example.org."
    )


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("It is 3.5 metres.", "It is 3.5 metres."),
        ("About 1,000,000 people.", "About 1000000 people."),
        ("Growth of 15% and 2.5 %.", "Growth of 15 percent and 2.5 percent."),
        ("It costs $5.", "It costs 5 dollars."),
        ("Only $1.", "Only 1 dollar."),
        ("That is £2.50 or €3,000.", "That is 2.50 pounds or 3000 euros."),
        ("Raised $4M today.", "Raised 4 million dollars today."),
        ("Cats & dogs at 20°C.", "Cats and dogs at 20 degrees C."),
        ("Done ✅ 🎉🎉 nice 👍🏽!", "Done nice!"),
        ("🎉", ""),
        ("---", ""),
    ],
)
def test_speakable_text(raw: str, spoken: str) -> None:
    assert speakable(raw) == spoken


def test_a_long_first_sentence_is_cut_at_a_clause_to_start_speaking_sooner() -> None:
    first = "The capital of France, Paris, is also its largest city by far and a centre of art."
    second = "Its population is about two million people, more or less, as of this year."
    out = stream(f"{first} {second} End.")
    assert texts(out)[:2] == ["The capital of France,", "Paris, is also its largest city by far"]
    assert [s.run_on for s in out[:2]] == [False, True]  # a comma is a pause; "far" is not
    assert texts(out)[2:] == ["and a centre of art.", second, "End."]  # later ones are whole


def test_the_first_clause_goes_out_before_the_sentence_ends() -> None:
    chunker = SentenceChunker()
    assert chunker.feed("Well, the answer depends,") == []  # "Well," is short; wait for " "
    out = chunker.feed(" mainly")
    assert out == ["Well, the answer depends,"]
    assert FIRST_CLAUSE_MIN_WORDS <= 6
    # Later sentences are whole: the reply is already playing while they stream.
    assert chunker.feed(" on the size. Then, in the end, it works for you and me. Next") == [
        "mainly on the size.",
        "Then, in the end, it works for you and me.",
    ]


FORTY_WORDS = (
    "The quick answer is that the capital of France has been Paris for many centuries "
    "and it remains the political and cultural centre of the country today with about "
    "two million people living inside the city limits and many more around it."
)


def test_a_first_sentence_without_punctuation_is_cut_before_a_word_that_opens_a_phrase() -> None:
    chunker = SentenceChunker()
    fed = ""
    out: list[Sentence] = []
    while not out:
        fed += FORTY_WORDS[len(fed)]
        out = chunker.feed_sentences(fed[-1])
    # Out as soon as "that" is known to be a whole word, eight words before the old bound.
    assert fed == "The quick answer is that "
    assert out == [Sentence("The quick answer is", 19, run_on=True)]
    pieces = out + chunker.feed_sentences(FORTY_WORDS[len(fed) :]) + chunker.flush_sentences()
    assert texts(pieces) == [
        "The quick answer is",
        "that the capital of France has been Paris",
        "for many centuries and it remains the political and cultural centre of the country today",
        "with about two million people living inside the city limits and many more around it.",
    ]
    # Each piece at most twice the one before (at least NEXT_MIN_MAX_WORDS), cut at the
    # last phrase opener inside that bound, so it is synthesised while the one before plays.
    sizes = [len(piece.text.split()) for piece in pieces]
    for before, size in zip(sizes, sizes[1:-1], strict=False):
        assert size <= max(2 * before, NEXT_MIN_MAX_WORDS)
    assert [piece.run_on for piece in pieces] == [True, True, True, False]
    assert " ".join(texts(pieces)) == FORTY_WORDS


def test_a_first_sentence_with_no_break_at_all_is_cut_after_a_bounded_number_of_words() -> None:
    chunker = SentenceChunker()
    words = [f"w{i}" for i in range(40)]
    out: list[str] = []
    fed = 0
    while not out:
        out = chunker.feed(words[fed] + " ")
        fed += 1
    assert out == [" ".join(words[:FIRST_MAX_WORDS])]
    assert fed == FIRST_MAX_WORDS + 1  # out as soon as the next word began, not at the end
    second = "Then a second sentence with no break in it at all goes on and on and on."
    rest = chunker.feed(" ".join(words[fed:]) + f". {second} End") + chunker.flush()
    assert [len(piece.split()) for piece in rest] == [10, 20, 40 - 35, len(second.split()), 1]
    assert rest[-2:] == [second, "End"]  # the next sentence is whole


def test_a_later_sentence_is_never_cut_before_a_phrase_opener() -> None:
    reply = f"Sure. {FORTY_WORDS} And then?"
    assert texts(stream(reply)) == ["Sure.", FORTY_WORDS, "And then?"]


@pytest.mark.parametrize(
    ("reply", "first"),
    [
        ("Yes, it is Paris.", "Yes, it is Paris."),  # a short sentence is never cut
        ("Here are three ideas:\n\n1. Visit the tower\n2. Walk", "Here are three ideas:"),
        (
            "1. Visit the Eiffel Tower early\n2. Walk along the Seine",
            "1. Visit the Eiffel Tower early",
        ),
    ],
)
def test_a_short_sentence_or_list_item_is_the_first_unit_whole(reply: str, first: str) -> None:
    assert texts(stream(reply))[0] == first


def test_text_without_any_boundary_is_cut_at_a_space_once_very_long() -> None:
    chunker = SentenceChunker()
    chunker.feed("Done. ")  # the first sentence is out; no first-clause rule any more
    words = "Now " + " ".join(["word"] * 100)
    out = chunker.feed(words)
    assert len(out) == 2 and out[0] == "Done."
    assert out[1].startswith("Now word word") and len(out[1]) <= MAX_UNIT_CHARS


def test_source_offsets_point_past_each_sentence_in_the_raw_reply() -> None:
    reply = "**Yes.** It is *3.5* km.\n\n```\ncode\n```\nBye now."
    sentences = stream(reply)
    assert texts(sentences) == ["Yes.", "It is 3.5 km.", CODE_NOTE, "Bye now."]
    assert reply[: sentences[0].source_end] == "**Yes.**"
    assert reply[: sentences[1].source_end] == "**Yes.** It is *3.5* km."
    assert reply[: sentences[3].source_end] == reply
    assert [s.source_end for s in sentences] == sorted(s.source_end for s in sentences)


def test_flush_resets_for_the_next_reply() -> None:
    chunker = SentenceChunker()
    assert chunker.feed("```\nunfinished") == [CODE_NOTE]
    assert chunker.flush() == []
    assert chunker.feed_sentences("New reply. More") == [Sentence("New reply.", 10)]
    assert chunker.flush() == ["More"]
