"""Lifting ``<tool_call>`` tags out of a local model's streamed text."""

from __future__ import annotations

import pytest

from providers import BadResponseError, ToolCall
from providers.tagged_tool_calls import TaggedToolCalls

CALL = '<tool_call>\n{"name": "now", "arguments": {"tz": "Asia/Tokyo"}}\n</tool_call>'


def stream(pieces: list[str]) -> tuple[str, list[ToolCall]]:
    tags = TaggedToolCalls("Local model")
    text = "".join(tags.feed(piece) for piece in pieces) + tags.finish()
    return text, tags.calls


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100])
def test_a_call_split_anywhere_is_lifted_out(size: int) -> None:
    whole = "Let me look. " + CALL + " Done."
    text, calls = stream([whole[i : i + size] for i in range(0, len(whole), size)])
    assert text == "Let me look.  Done."
    assert calls == [ToolCall("call_0", "now", '{"tz": "Asia/Tokyo"}')]


def test_text_that_only_looks_like_a_tag_is_kept() -> None:
    tags = TaggedToolCalls("Local model")
    assert tags.feed("2 <") == "2 "  # might begin a tag: held back
    assert tags.feed(" 3 and <tool") == "< 3 and "
    assert tags.feed("kit>") == "<toolkit>"
    assert tags.finish() == "" and tags.calls == []


def test_two_calls_and_an_unclosed_last_one() -> None:
    second = '<tool_call>{"name": "calc", "arguments": "{\\"expr\\": \\"2+2\\"}"}'
    text, calls = stream([CALL, "\n", second])
    assert text == "\n"
    assert [c.name for c in calls] == ["now", "calc"]
    assert calls[1] == ToolCall("call_1", "calc", '{"expr": "2+2"}')


def test_parameters_spelling_and_no_arguments() -> None:
    _, calls = stream(['<tool_call>{"name": "a", "parameters": {"x": 1}}</tool_call>'])
    _, bare = stream(['<tool_call>{"name": "b"}</tool_call>'])
    assert calls[0].arguments() == {"x": 1} and bare[0].arguments() == {}


def test_an_unreadable_call_is_a_clear_error() -> None:
    with pytest.raises(BadResponseError, match="Local model wrote a tool call Harken cannot read"):
        stream(["<tool_call>{name: now}</tool_call>"])
