"""An interrupted or failed turn never leaves history without its user message or out of
user/assistant alternation — checked on the wire, for every provider's format.

Anthropic rejects a conversation that starts with an assistant message, and
strict chat templates reject two user messages in a row; the real provider
clients talk to the real local server, which records what they sent.
"""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.agent import events as ev
from app.agent.conversation import NO_REPLY, NOTHING_HEARD
from app.desktop.conversation.conversation_view import ConversationView
from app.runtime.history_store import HistoryStore
from providers.events import AssistantMessage, UserMessage
from tests.support.controller_harness import make_controller
from tests.support.sse_server import ScriptedServer, json_reply, provider_stream, sse_reply

ROOT = Path(__file__).resolve().parent.parent
KINDS = ["openai", "anthropic", "azure"]


def turns(kind: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of each message sent, in the provider's own wire format."""
    out = []
    for message in body["messages"]:
        if message["role"] == "system":
            continue
        content = message["content"]
        if isinstance(content, list):  # Anthropic content blocks
            content = " ".join(b.get("text", "") for b in content if b["type"] == "text")
        out.append((message["role"], content or ""))
    return out


def alternates(roles: list[str]) -> bool:
    """Starts with the user; user and assistant take turns (tool results follow an assistant)."""
    spoken = [r for r in roles if r != "tool"]
    return bool(spoken) and spoken[0] == "user" and all(a != b for a, b in pairwise(spoken))


@pytest.mark.parametrize("kind", KINDS)
async def test_a_turn_interrupted_before_it_started_keeps_its_user_message(
    kind: str, server: ScriptedServer, whisper: object, quiet: object
) -> None:
    """Typed twice in a row: the first turn is interrupted before it ran at all."""
    server.add(sse_reply(provider_stream(kind, ["Second answer."])))
    controller, log, client = make_controller(server, kind=kind, transcriber=whisper, speech=quiet)
    controller.submit_text("first")
    controller.submit_text("second")
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2)
    await controller.wait_idle()
    sent = turns(kind, server.requests[-1].json())
    assert sent == [("user", "first"), ("assistant", NOTHING_HEARD), ("user", "second")]
    assert alternates([role for role, _ in sent])
    await controller.close()
    await client.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_turn_that_failed_before_any_reply_is_followed_by_a_marked_reply(
    kind: str, server: ScriptedServer, whisper: object, quiet: object
) -> None:
    error = {"error": {"type": "invalid_request_error", "message": "bad things"}}
    server.add(json_reply(400, error), sse_reply(provider_stream(kind, ["Fine."])))
    controller, log, client = make_controller(server, kind=kind, transcriber=whisper, speech=quiet)
    controller.submit_text("hi")
    failed = await log.wait_for(ev.TurnFailed)
    controller.submit_text("again")
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2)
    sent = turns(kind, server.requests[-1].json())
    assert [role for role, _ in sent] == ["user", "assistant", "user"]
    assert sent[0] == ("user", "hi") and sent[2] == ("user", "again")
    assert sent[1][1] == f"[reply failed: {failed.message}]"
    await controller.close()
    await client.aclose()


def test_repeated_say_runs_each_turn_in_order(server: ScriptedServer) -> None:
    """``--say first --say second``: both are sent, one after the other, as a conversation."""
    server.add(
        sse_reply(provider_stream("openai", ["One."])),
        sse_reply(provider_stream("openai", ["Two."])),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--headless", "--say", "first", "--say", "second",
         "--no-tts", "--base-url", server.base_url("openai"), "--model", "m"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '"turn_interrupted"' not in proc.stdout
    assert len(server.requests) == 2
    assert turns("openai", server.requests[0].json()) == [("user", "first")]
    assert turns("openai", server.requests[1].json()) == [
        ("user", "first"),
        ("assistant", "One."),
        ("user", "second"),
    ]


def test_a_reopened_conversation_shows_failed_replies_as_errors_not_markers(
    qtbot: QtBot,
) -> None:
    """What history keeps for the model ("[reply failed: …]", "[no reply]") is shown in the
    window as the failure it was, not as reply text."""
    store = HistoryStore()
    cid = store.create_conversation()
    store.add_message(cid, UserMessage("hi"))
    store.add_message(cid, AssistantMessage("[reply failed: OpenAI is down (503).]"), failed=True)
    store.add_message(cid, UserMessage("again"))
    store.add_message(cid, AssistantMessage("Half … [reply failed: dropped.]"), failed=True)
    store.add_message(cid, UserMessage("once more"))
    store.add_message(cid, AssistantMessage(NO_REPLY), failed=True)
    store.add_message(cid, UserMessage("last"))
    view = ConversationView()
    qtbot.addWidget(view)
    view.load(store.messages(cid))
    text = view.toPlainText()
    store.close()
    assert "[reply failed" not in text and NO_REPLY not in text
    assert "⚠ OpenAI is down (503)." in text and "Half" in text and "⚠ dropped." in text
