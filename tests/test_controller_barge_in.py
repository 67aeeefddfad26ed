"""The four rules, reproduced against a real local server, real Whisper and real audio.

Each test names the regression it guards against (DESIGN.md, top).
"""

from __future__ import annotations

import asyncio
import threading

from app.agent import events as ev
from app.agent.conversation import INTERRUPTED_MARKER
from app.agent.tools import ToolContext, ToolRegistry
from tests.support.controller_harness import Controllers, EventLog
from tests.support.speech import SpeechLibrary, white_noise
from tests.support.sse_server import (
    Drop,
    Hold,
    ScriptedServer,
    ScriptedToolCall,
    Stall,
    json_reply,
    openai_stream,
    sse_reply,
)

SLOW = 0.05  # seconds between streamed pieces: a reply that takes ~2 s
STORY = [f"word{i} " for i in range(40)]


def slow_reply(pieces: list[str] = STORY) -> object:
    return sse_reply(openai_stream(pieces, delay_s=SLOW))


def no_retry_status(log: EventLog) -> None:
    statuses = [s.text for s in log.of(ev.Status)]
    assert not any("retry" in s.lower() or "reconnect" in s.lower() for s in statuses), statuses


def nothing_after_interrupt(log: EventLog, turn_id: int) -> None:
    cut = log.index(ev.TurnInterrupted, lambda e: e.turn_id == turn_id)
    late = [
        e
        for e in log.events[cut + 1 :]
        if getattr(e, "turn_id", None) == turn_id and not isinstance(e, ev.TtsStopped)
    ]
    assert late == [], late


async def test_typed_interrupt_closes_stream_once_no_retry(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    """Rule 2/3: the interrupt closes the stream within a chunk; one request, no retry."""
    server.add(slow_reply(), sse_reply(openai_stream(["Sure, ", "done."])))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("Tell me a long story")
    await log.wait_for(ev.ReplyDelta, lambda e: e.turn_id == 1)
    started = asyncio.get_running_loop().time()
    controller.submit_text("Stop. What is two plus two?")
    interrupted = await log.wait_for(ev.TurnInterrupted, timeout_s=2)
    await asyncio.to_thread(server.wait_for_disconnect, 2.0, 0)
    assert asyncio.get_running_loop().time() - started < 2.0
    assert interrupted.turn_id == 1 and interrupted.by == 2
    finished = await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2)
    assert finished.text == "Sure, done."
    assert len(server.requests) == 2
    assert not server.completed(0)
    no_retry_status(log)
    nothing_after_interrupt(log, 1)
    # The second request carries the truncated first reply, marked, then the new instruction.
    messages = server.requests[1].json()["messages"]
    assert messages[0] == {"role": "system", "content": "You are a test."}
    assert messages[1]["content"] == "Tell me a long story"
    cut = messages[2]["content"]
    assert messages[2]["role"] == "assistant" and cut.endswith(INTERRUPTED_MARKER)
    assert cut.startswith("word0") and "word39" not in cut
    assert cut.split(" …")[0] == interrupted.kept_text.rstrip()
    assert messages[3] == {"role": "user", "content": "Stop. What is two plus two?"}


async def test_second_turn_after_interrupt_streams_cleanly(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    server.add(slow_reply(), sse_reply(openai_stream(["A", "B", "C"], delay_s=0.01)))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("first")
    await log.wait_for(ev.ReplyDelta)
    controller.submit_text("second")
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2)
    await controller.wait_idle()
    deltas = [(e.turn_id, e.text) for e in log.of(ev.ReplyDelta)]
    after = deltas[[t for t, _ in deltas].index(2) :]
    assert after == [(2, "A"), (2, "B"), (2, "C")]
    assert controller.state is ev.State.IDLE


async def test_genuine_drop_without_interrupt_is_retried(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    """The other half of rule 2: a real transport failure with no cancel is retried."""
    server.add(sse_reply([Drop()]), sse_reply(openai_stream(["ok"])))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("hello")
    finished = await log.wait_for(ev.TurnFinished)
    assert finished.text == "ok"
    assert len(server.requests) == 2
    assert any("retrying" in s.text for s in log.of(ev.Status))


async def test_cancelled_turn_does_not_leak_into_next_turn_retry(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    """Rule 4: the next turn gets a fresh token, so its genuine drop is still retried."""
    server.add(slow_reply(), sse_reply([Drop()]), sse_reply(openai_stream(["fine"])))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("one")
    await log.wait_for(ev.ReplyDelta)
    first = controller.current_turn
    controller.submit_text("two")
    finished = await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2)
    assert finished.text == "fine"
    assert first is not None and first.token.cancelled
    assert len(server.requests) == 3


async def test_voice_while_busy_is_transcribed_before_the_interrupt(
    server: ScriptedServer,
    controllers: Controllers,
    whisper: object,
    quiet: object,
    speech: SpeechLibrary,
) -> None:
    """Rule 1: transcribe first, then echo, then interrupt; never an empty-text turn."""
    server.add(slow_reply(), sse_reply(openai_stream(["It is noon."])))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("Tell me a long story")
    await log.wait_for(ev.ReplyDelta)
    audio = speech.say("What time is it now?")
    controller.speech_started()
    controller.utterance(audio, start_s=0.0, end_s=len(audio) / 16000)
    transcript = await log.wait_for(ev.Transcript, timeout_s=20)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == transcript.turn_id, timeout_s=20)
    assert "time" in transcript.text.lower()
    i_transcript = log.index(ev.Transcript)
    i_interrupt = log.index(ev.TurnInterrupted)
    i_started = log.index(ev.TurnStarted, lambda e: e.turn_id == transcript.turn_id)
    assert i_transcript < i_interrupt < i_started
    assert all(t.text.strip() for t in log.of(ev.TurnStarted))
    assert server.requests[1].json()["messages"][-1]["content"] == transcript.text


async def test_noise_during_reply_is_a_false_interruption(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    server.add(sse_reply(openai_stream(["a ", "b ", "c ", "d ", "e"], delay_s=0.2)))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("count")
    await log.wait_for(ev.ReplyDelta)
    controller.speech_started()
    controller.utterance(white_noise(0.8, level_dbfs=-30.0), start_s=0.0, end_s=0.8)
    false = await log.wait_for(ev.FalseInterruption, timeout_s=20)
    finished = await log.wait_for(ev.TurnFinished, timeout_s=20)
    assert false.turn_id == 1 and finished.text == "a b c d e"
    assert log.of(ev.TurnInterrupted) == [] and log.of(ev.Transcript) == []
    assert len(server.requests) == 1


async def test_barge_in_off_echoes_at_once_and_queues_in_order(
    server: ScriptedServer,
    controllers: Controllers,
    whisper: object,
    quiet: object,
    speech: SpeechLibrary,
) -> None:
    # The first reply holds its last piece until the echo was seen: however slow
    # transcription is on a loaded machine, the utterance really arrives mid-reply.
    echoed = threading.Event()
    counting = openai_stream(["one ", "two ", "three"], delay_s=0.15)
    server.add(
        sse_reply([*counting[:3], Hold(echoed, timeout_s=120), *counting[3:]]),
        sse_reply(openai_stream(["queued answer"])),
    )
    controller, log = controllers(transcriber=whisper, speech=quiet, barge_in=False)
    controller.submit_text("count to three")
    await log.wait_for(ev.ReplyDelta)
    audio = speech.say("Then tell me a joke.")
    controller.speech_started()
    controller.utterance(audio)
    transcript = await log.wait_for(ev.Transcript, timeout_s=60)
    echoed.set()
    first_done = await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 1, timeout_s=20)
    assert first_done.text == "one two three"
    assert log.index(ev.Transcript) < log.index(ev.TurnFinished)  # echoed at once
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == transcript.turn_id)
    assert log.of(ev.TurnInterrupted) == []
    assert "joke" in server.requests[1].json()["messages"][-1]["content"].lower()


async def test_stop_interrupts_by_user(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    server.add(sse_reply(openai_stream(STORY[:2])[:3] + [Stall()]))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("go")
    await log.wait_for(ev.ReplyDelta)
    controller.stop()
    interrupted = await log.wait_for(ev.TurnInterrupted, timeout_s=2)
    await asyncio.to_thread(server.wait_for_disconnect, 2.0)
    assert interrupted.by == "user"
    await controller.wait_idle()
    assert controller.state is ev.State.IDLE
    assert controller.conversation.messages[-1].text.endswith(INTERRUPTED_MARKER)  # type: ignore[union-attr]


async def test_auth_error_fails_the_turn_with_a_message(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    server.add(json_reply(401, {"error": {"message": "Incorrect API key provided"}}))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("hi")
    failed = await log.wait_for(ev.TurnFailed)
    assert failed.kind == "auth" and "OpenAI" in failed.message
    assert len(server.requests) == 1


async def test_tool_thread_sees_cancel_after_turn_ended_and_next_token_is_fresh(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    """Rule 4: cleanup never clears the token a tool thread is still holding."""
    registry = ToolRegistry()
    entered, observed = threading.Event(), threading.Event()

    @registry.tool
    def slow_lookup(ctx: ToolContext, query: str) -> str:
        """Look something up slowly.

        Args:
            query: what to look up
        """
        entered.set()
        if ctx.cancel.wait_blocking(10):
            observed.set()
        return "late result"

    call = ScriptedToolCall("call_1", "slow_lookup", '{"query": "weather"}')
    server.add(
        sse_reply(openai_stream(["Let me check. "], tool_calls=[call])),
        sse_reply(openai_stream(["Fresh turn."])),
    )
    controller, log = controllers(transcriber=whisper, speech=quiet, tools=registry)
    controllers.on_teardown(registry.close)
    controller.submit_text("what's the weather")
    await log.wait_for(ev.ToolCallStarted)
    assert await asyncio.to_thread(entered.wait, 5)
    first = controller.current_turn
    controller.stop()
    await log.wait_for(ev.TurnInterrupted)
    await controller.wait_idle()
    assert controller.current_turn is None  # the turn is over ...
    assert await asyncio.to_thread(observed.wait, 5)  # ... and the tool still saw the cancel
    assert first is not None and first.token.cancelled
    controller.submit_text("next")
    await log.wait_for(ev.TurnStarted, lambda e: e.turn_id == 2)
    second = controller.current_turn
    assert second is not None and not second.token.cancelled
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 2)
    assert log.of(ev.ToolCallFinished) == []  # the cancelled tool's result is never published
    history = server.requests[1].json()["messages"]
    tool_msgs = [m for m in history if m["role"] == "tool"]
    assert tool_msgs and tool_msgs[0]["tool_call_id"] == "call_1"


async def test_tool_round_trip(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    call = ScriptedToolCall("c1", "calculate", '{"expression": "6 * 7"}', pieces=4)
    server.add(
        sse_reply(openai_stream([], tool_calls=[call])),
        sse_reply(openai_stream(["It is 42."])),
    )
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("what is six times seven")
    finished = await log.wait_for(ev.TurnFinished)
    assert finished.text == "It is 42."
    result = log.of(ev.ToolCallFinished)[0]
    assert result.result == "6 * 7 = 42" and not result.is_error
    second = server.requests[1].json()["messages"]
    assert second[-1] == {"role": "tool", "tool_call_id": "c1", "content": "6 * 7 = 42"}


async def test_twenty_interrupts_leave_no_stream_task_or_thread(
    server: ScriptedServer, controllers: Controllers, whisper: object, quiet: object
) -> None:
    for _ in range(20):
        server.add(sse_reply(openai_stream(STORY[:2])[:3] + [Stall()]))
    server.add(sse_reply(openai_stream(["last"])))
    controller, log = controllers(transcriber=whisper, speech=quiet)
    controller.submit_text("warm up")
    await log.wait_for(ev.ReplyDelta, lambda e: e.turn_id == 1)
    threads_before = {t.name for t in threading.enumerate()}
    for n in range(2, 22):
        controller.submit_text(f"interrupt {n}")
        await log.wait_for(ev.ReplyDelta, lambda e, n=n: e.turn_id == n)
    await log.wait_for(ev.TurnFinished, lambda e: e.turn_id == 21)
    await controller.wait_idle()
    await controller.close()
    new_threads = {t.name for t in threading.enumerate()} - threads_before
    assert {n for n in new_threads if "process_request" not in n} == set()  # server's own
    assert len(log.of(ev.TurnInterrupted)) == 20
    for i in range(20):  # every interrupted stream was closed by the client
        await asyncio.to_thread(server.wait_for_disconnect, 2.0, i)
    assert len(server.requests) == 21
    no_retry_status(log)
    live = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert [t.get_name() for t in live if t.get_name().startswith(("turn-", "harken"))] == []
