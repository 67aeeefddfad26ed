"""A reply of one very long run without spaces (a base64 blob, a minified file) must not
freeze the window; copying it gives back exactly what the model sent."""

from __future__ import annotations

import time

from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.desktop.conversation.conversation_view import ConversationView
from app.desktop.conversation.soft_wrap import SOFT_BREAK, soft_wrap, strip_soft_wraps

RUN = "".join(chr(ord("a") + i % 26) for i in range(500_000))  # 500 KB, no spaces


def test_a_long_run_without_spaces_renders_without_freezing_and_copies_intact(
    qtbot: QtBot,
) -> None:
    view = ConversationView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    view.handle_event(ev.TurnStarted(turn_id=1, text="paste it", source="text"))
    started = time.perf_counter()
    view.handle_event(ev.ReplyDelta(turn_id=1, text=RUN))
    view.flush()
    view.document().size()  # the layout, where the time went
    spent = time.perf_counter() - started
    # A hang bound, not a figure (tests/bench/bench_long_run.py has those): laid out
    # linearly this is well under a second; before, Qt's quadratic line breaking took ~35 s.
    assert spent < 15.0
    assert RUN in strip_soft_wraps(view.toPlainText())
    view.selectAll()
    copied = view.createMimeDataFromSelection().text()
    assert SOFT_BREAK not in copied and RUN in copied


def test_soft_wrap_leaves_ordinary_text_alone() -> None:
    prose = "A normal reply with a https://example.com/a/fairly/long/url?q=1 and words."
    assert soft_wrap(prose) == prose
    url = "https://example.com/" + "x" * 900  # long, but under the threshold
    assert soft_wrap(url) == url
    wrapped = soft_wrap("y" * 2500)
    assert wrapped.count(SOFT_BREAK) == 4 and strip_soft_wraps(wrapped) == "y" * 2500
