"""The self-echo guard: what counts as the assistant's own voice heard back (issue 16)."""

from __future__ import annotations

import pytest

from app.agent.echo import is_self_echo

STORY = (
    "Once upon a time, in a village at the edge of a great forest, there lived an old "
    "clockmaker named Elias. Every morning he opened his little shop."
)


@pytest.mark.parametrize(
    "heard",
    [
        "Once",  # the quiet, short echoes measured at -30 dB coupling
        "Once again.",
        "Elias.",  # Whisper's spelling of a half-heard word
        "Every morning.",
        "upon time there lived an clockmaker",  # a garbled stretch, words in order
        "in a village at the edge of a great forest",
    ],
)
def test_fragments_and_stretches_of_the_live_reply_are_echo(heard: str) -> None:
    assert is_self_echo(heard, STORY, while_speaking=True)


@pytest.mark.parametrize(
    "heard",
    [
        "Stop and tell me the weather in Paris.",
        "Often tell be mozzarella in Paris.",  # the user, garbled by double talk
        "Wait.",
        "What time is it?",
        "",
    ],
)
def test_the_users_words_are_not_echo(heard: str) -> None:
    assert not is_self_echo(heard, STORY, while_speaking=True)


def test_a_short_answer_after_the_reply_is_not_echo() -> None:
    """'Yes.' right after a reply that said 'yes' answers it: fragments count only while
    the reply is live."""
    question = "Yes, I can do that. Shall I go on with the story?"
    assert is_self_echo("Yes.", question, while_speaking=True)
    assert not is_self_echo("Yes.", question, while_speaking=False)
    assert not is_self_echo("Once", STORY)  # the default: not while speaking


def test_a_fragment_is_looked_for_only_in_the_last_words_spoken() -> None:
    long_ago = "Once upon a time. " + "The clocks ticked on and on. " * 6
    assert not is_self_echo("Once", long_ago, while_speaking=True)
    assert is_self_echo("ticked", long_ago, while_speaking=True)
