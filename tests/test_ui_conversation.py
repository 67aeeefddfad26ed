"""The conversation view: streamed Markdown (coalesced), echoes, interruptions, tools, errors."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.desktop.conversation.conversation_view import ConversationView
from app.desktop.conversation.markdown_render import latency_text, split_fences
from app.desktop.window.theme import colors
from app.runtime.history_store import HistoryStore
from providers.events import AssistantMessage, ToolCall, ToolResultMessage, UserMessage
from tests.support.scripted_bridge import barge_in, chunks, failed_turn, tool_turn, voice_turn


def make(qtbot: QtBot) -> ConversationView:
    # Earlier tests may leave a dark palette on the application: start from the default.
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setPalette(app.style().standardPalette())
    view = ConversationView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    return view


def play(view: ConversationView, events: list[ev.Event]) -> None:
    for event in events:
        view.handle_event(event)


def color_at(view: ConversationView, needle: str) -> str:
    cursor = view.document().find(needle)
    assert not cursor.isNull(), needle
    probe = QTextCursor(view.document())
    probe.setPosition(cursor.selectionEnd())
    return probe.charFormat().foreground().color().name()


REPLY = "Here you go:\n\n```python\nprint('hi')\n```\n\nThat **prints** `hi`."


def test_streamed_deltas_render_coalesced(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, [ev.TurnStarted(turn_id=1, text="show code", source="text")])
    before = view.render_count
    deltas = [ev.ReplyDelta(turn_id=1, text=c) for c in chunks(REPLY, 2)]
    play(view, deltas)
    assert len(deltas) > 20
    assert view.render_pending, "deltas must wait for the next frame, not render one by one"
    qtbot.waitUntil(lambda: "That prints hi." in view.toPlainText(), timeout=2000)
    assert view.render_count - before <= 2
    text = view.toPlainText()
    assert "print('hi')" in text and "```" not in text and "**" not in text
    cursor = view.document().find("print('hi')")
    assert cursor.charFormat().fontFixedPitch()


def test_voice_turn_echo_and_latency_line(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, voice_turn(1, "what's new", "Nothing much."))
    view.flush()
    text = view.toPlainText()
    assert "🎙 “what's new”" in text
    assert text.count("what's new") == 1, "the transcript and TurnStarted must not both echo"
    assert "Nothing much." in text
    assert (
        latency_text({"transcript_s": 0.41, "first_token_s": 0.93, "first_audio_s": 1.37}) in text
    )
    view.set_show_latency(False)
    assert "first token" not in view.toPlainText()
    assert "Nothing much." in view.toPlainText()


def test_interrupted_reply_is_marked_and_its_tail_dimmed(qtbot: QtBot) -> None:
    view = make(qtbot)
    shown = "Lisbon is very old. It was ruled by many peoples over the centuries"
    heard = "Lisbon is very old."
    play(view, barge_in(1, shown, heard, 2, "what time is it there"))
    view.flush()
    text = view.toPlainText()
    assert "⏹ interrupted" in text
    assert "🎙 “what time is it there”" in text
    c = colors(view.palette())
    assert color_at(view, "Lisbon is very old") == c.text.name()
    assert color_at(view, "ruled by many") == c.dim.name()
    # The echo comes before the interrupted marker is even possible to miss: order is kept.
    assert text.index("Lisbon") < text.index("⏹ interrupted") < text.index("what time is it")


def test_stop_before_any_text(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(
        view,
        [
            ev.TurnStarted(turn_id=1, text="hi", source="text"),
            ev.TurnInterrupted(turn_id=1, by="user", kept_text=""),
        ],
    )
    assert "⏹ interrupted" in view.toPlainText()
    assert "Thinking…" not in view.toPlainText()


def test_tool_calls_are_one_line_each(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, tool_turn(1, "what time is it in Lisbon"))
    view.flush()
    lines = view.toPlainText().splitlines()
    tool = [line for line in lines if line.startswith("🔧")]
    assert tool == ['🔧 get_time(timezone="Europe/Lisbon") → 2024-05-04 18:32 WEST']
    assert lines.index(tool[0]) < lines.index("It's 18:32 in Lisbon.")


def test_errors_inline_with_a_way_to_fix_them(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, failed_turn(1, "hello"))
    play(view, [ev.ErrorEvent(kind="microphone", message="No microphone is connected.")])
    text = view.toPlainText()
    assert "⚠ The API key for OpenAI was rejected (401)." in text
    assert "⚠ No microphone is connected." in text
    assert "Open Settings" in text
    link = view.document().find("Open Settings")
    middle = QTextCursor(view.document())
    while True:  # the message itself says "Open Settings" too; find the link
        assert not link.isNull()
        middle.setPosition(link.selectionStart() + 4)
        if middle.charFormat().isAnchor():
            break
        link = view.document().find("Open Settings", link.selectionEnd())
    with qtbot.waitSignal(view.settings_requested, timeout=1000):
        qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(middle).center()
        )


def test_false_interruption_is_not_shown(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, [ev.TurnStarted(turn_id=1, text="hi", source="text")])
    before = view.toPlainText()
    play(view, [ev.FalseInterruption(turn_id=1, reason="no words")])
    assert view.toPlainText() == before


def test_finished_turns_are_not_rerendered(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, voice_turn(1, "first", "One."))
    play(view, voice_turn(2, "second", "Two."))
    view.flush()
    frozen = view.document().find("One.")
    assert not frozen.isNull()
    pos = frozen.position()
    play(view, [ev.TurnStarted(turn_id=3, text="third", source="text")])
    play(view, [ev.ReplyDelta(turn_id=3, text="Thr")])
    view.flush()
    assert view.document().find("One.").position() == pos
    assert "Thr" in view.toPlainText()


def test_load_conversation_from_history(qtbot: QtBot) -> None:
    store = HistoryStore()
    cid = store.create_conversation()
    call = ToolCall("c1", "calculator", '{"expression": "2+2"}')
    store.add_message(cid, UserMessage("add two and two"), voice=True)
    store.add_message(cid, AssistantMessage("", (call,)))
    store.add_message(cid, ToolResultMessage("c1", "calculator", "4"))
    store.add_message(cid, AssistantMessage("It's 4."))
    store.add_message(cid, UserMessage("and a story"))
    store.add_message(
        cid, AssistantMessage("Once upon … [interrupted by the user]"), interrupted=True
    )
    view = make(qtbot)
    view.load(store.messages(cid))
    text = view.toPlainText()
    assert "🎙 “add two and two”" in text
    assert '🔧 calculator(expression="2+2") → 4' in text
    assert "It's 4." in text
    assert "Once upon" in text and "⏹ interrupted" in text
    assert "[interrupted by the user]" not in text
    view.clear_conversation()
    assert view.toPlainText().strip() == ""


def test_split_fences_handles_streaming_code() -> None:
    text = "Intro\n```py\nx = 1\n"
    assert split_fences(text) == [("md", "", "Intro\n", 0), ("code", "py", "x = 1\n", 12)]
    assert [k for k, *_ in split_fences(text + "```\nafter\n")] == ["md", "code", "md"]


def test_markdown_from_qt_is_what_we_render() -> None:
    doc = QTextDocument()
    doc.setMarkdown("**bold** and `code`")
    assert doc.toPlainText() == "bold and code"


def test_empty_conversation_shows_how_to_start(qtbot: QtBot) -> None:
    view = make(qtbot)
    assert view.welcome.isVisible()
    assert "Hold <b>Space</b>" in view.welcome.hint.text()
    play(view, [ev.TurnStarted(turn_id=1, text="hi", source="text")])
    assert not view.welcome.isVisible()
    view.clear_conversation()
    assert view.welcome.isVisible()


def italic_at(view: ConversationView, needle: str) -> bool:
    cursor = view.document().find(needle)
    assert not cursor.isNull(), needle
    probe = QTextCursor(view.document())
    probe.setPosition(cursor.selectionEnd())
    return probe.charFormat().fontItalic()


def test_partial_transcript_is_greyed_then_replaced_by_the_final(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, [ev.TurnStarted(turn_id=1, text="tell me a story", source="text")])
    play(view, [ev.ReplyDelta(turn_id=1, text="Once upon a time")])
    view.flush()
    play(view, [ev.PartialTranscript(utterance_id=4, text="stop what is")])
    assert "🎙 stop what is …" in view.toPlainText()
    c = colors(view.palette())
    assert color_at(view, "stop what is") == c.dim.name() and italic_at(view, "stop what is")
    play(view, [ev.PartialTranscript(utterance_id=4, text="Stop. What is the capital")])
    assert "stop what is …" not in view.toPlainText()
    final = ev.Transcript(text="Stop. What is the capital of France?", turn_id=2, utterance_id=4)
    play(view, [final, ev.TurnInterrupted(turn_id=1, by=2, kept_text="Once upon a time")])
    play(view, [ev.TurnStarted(turn_id=2, text=final.text, source="voice")])
    text = view.toPlainText()
    assert "🎙 “Stop. What is the capital of France?”" in text
    assert "What is the capital …" not in text and "listening" not in text
    assert text.count("capital") == 1  # replaced in place, not echoed twice
    assert not italic_at(view, "capital of France")
    # The echo sits where the preview was: after the interrupted reply, before the new one.
    assert text.index("Once upon a time") < text.index("capital of France")


def test_a_partial_without_words_in_the_end_is_withdrawn(qtbot: QtBot) -> None:
    view = make(qtbot)
    play(view, [ev.PartialTranscript(utterance_id=1, text="huh")])
    assert "🎙 huh …" in view.toPlainText()
    play(view, [ev.PartialTranscript(utterance_id=1, text="")])
    assert "huh" not in view.toPlainText()


def test_markers_are_drawn_icons_not_emoji_the_font_may_lack(qtbot: QtBot) -> None:
    """Debian's default fonts (DejaVu) have no 🎙, ⏱, ⏹ or 💡: they would show as boxes."""
    view = make(qtbot)
    view.add_notice("Found Ollama.", link=("Use it", "harken:offer:0"))
    play(view, voice_turn(1, "what's new", "Nothing much."))
    play(view, barge_in(2, "Lisbon is old. It was", "Lisbon is old.", 3, "what time is it"))
    view.flush()
    metrics = QFontMetrics(view.document().defaultFont())
    shown = view.document().toPlainText()  # what is drawn as text; icons are "\ufffc"
    missing = {ch for ch in shown if not ch.isspace() and ch != "\ufffc"}
    missing = {ch for ch in missing if not metrics.inFontUcs4(ord(ch))}
    assert not missing, f"characters the view's font cannot draw: {sorted(missing)}"
    icons = []
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                name = fmt.toImageFormat().name()
                assert view.document().resource(
                    QTextDocument.ResourceType.ImageResource.value, name
                )
                icons.append(name.split(":")[1].split("/")[0])
            it += 1
        block = block.next()
    assert icons == ["hint", "mic", "timer", "stop", "mic"]
    tool_view = make(qtbot)
    play(tool_view, tool_turn(4, "what time is it in Lisbon"))
    tool_view.flush()
    assert "🔧" not in tool_view.document().toPlainText()
    assert "🔧 get_time(" in tool_view.toPlainText()
    # The plain text (copy, debug dump) still says what each icon stands for.
    text = view.toPlainText()
    assert "💡 Found Ollama." in text and "🎙 “what's new”" in text and "⏹ interrupted" in text
    assert "⏱ speech end → transcript" in text
