"""The tool registry and the shipped tools, run as the controller runs them."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.agent.tools import ToolContext, ToolRegistry, build_default_registry
from app.agent.tools.builtin import CLIPBOARD_READ, CLIPBOARD_WRITE
from app.agent.tools.timers import TimerService
from providers.cancel import CancelToken


class _Clipboard:
    def __init__(self) -> None:
        self.text = "hello from the clipboard"

    def read_text(self) -> str:
        return self.text

    def write_text(self, text: str) -> None:
        self.text = text


def test_schema_comes_from_signature_and_docstring() -> None:
    registry = build_default_registry()
    specs = {s.name: s for s in registry.specs()}
    timer = specs["set_timer"]
    assert timer.description == "Start a countdown timer that announces when it ends."
    assert timer.parameters["required"] == ["seconds"]
    assert timer.parameters["properties"]["seconds"]["type"] == "integer"
    assert "tea" in timer.parameters["properties"]["label"]["description"]
    assert "required" not in specs["get_current_time"].parameters


def test_permission_tools_are_offered_only_when_allowed() -> None:
    registry = build_default_registry()
    assert "read_clipboard" not in {s.name for s in registry.specs()}
    granted = {s.name for s in registry.specs(frozenset({CLIPBOARD_READ}))}
    assert "read_clipboard" in granted and "write_clipboard" not in granted


async def test_clipboard_needs_permission_and_works_when_given() -> None:
    registry = build_default_registry()
    clip = _Clipboard()
    denied = await registry.run("read_clipboard", "{}", ToolContext(CancelToken(), clipboard=clip))
    assert denied.is_error and "Settings" in denied.content
    ctx = ToolContext(
        CancelToken(), clipboard=clip, permissions=frozenset({CLIPBOARD_READ, CLIPBOARD_WRITE})
    )
    assert (await registry.run("read_clipboard", "{}", ctx)).content == clip.text
    await registry.run("write_clipboard", '{"text": "copied"}', ctx)
    assert clip.text == "copied"
    registry.close()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [("17.5 * 3 / 4", "13.125"), ("2 ** 10", "1024"), ("sqrt(16) + 1", "5"), ("7 // 2", "3")],
)
async def test_calculate(expression: str, expected: str) -> None:
    registry = build_default_registry()
    run = await registry.run(
        "calculate", f'{{"expression": "{expression}"}}', ToolContext(CancelToken())
    )
    assert not run.is_error and run.content.endswith(f"= {expected}")
    registry.close()


async def test_calculate_refuses_code() -> None:
    registry = build_default_registry()
    ctx = ToolContext(CancelToken())
    run = await registry.run("calculate", '{"expression": "__import__(\\"os\\")"}', ctx)
    assert run.is_error
    assert (
        await registry.run("calculate", '{"expression": "1/0"}', ctx)
    ).content == "Division by zero."
    registry.close()


async def test_bad_arguments_and_unknown_tool_are_errors_not_crashes() -> None:
    registry = build_default_registry()
    ctx = ToolContext(CancelToken())
    assert (await registry.run("nope", "{}", ctx)).is_error
    assert (await registry.run("calculate", "{not json", ctx)).is_error
    assert (await registry.run("calculate", '{"wrong": 1}', ctx)).is_error
    registry.close()


async def test_timer_announces_when_it_ends_and_can_be_listed_and_cancelled() -> None:
    loop = asyncio.get_running_loop()
    announced: asyncio.Future[str] = loop.create_future()
    timers = TimerService(loop, lambda text: announced.done() or announced.set_result(text))
    registry = build_default_registry()
    ctx = ToolContext(CancelToken(), extras={"timers": timers})
    assert (
        "Timer 1"
        in (await registry.run("set_timer", '{"seconds": 1, "label": "tea"}', ctx)).content
    )
    await registry.run("set_timer", '{"seconds": 600}', ctx)
    listing = (await registry.run("list_timers", "{}", ctx)).content
    assert "(tea)" in listing and "timer 2" in listing
    assert (
        await registry.run("cancel_timer", '{"timer_id": 2}', ctx)
    ).content == "Timer 2 cancelled."
    assert await asyncio.wait_for(announced, 5) == "⏰ The tea timer is done."
    assert (await registry.run("list_timers", "{}", ctx)).content == "No timers are running."
    timers.close()
    registry.close()


async def test_tool_that_outlives_its_turn_still_sees_the_cancel() -> None:
    """Rule 4: the token a tool holds stays cancelled after the turn is gone."""
    registry = ToolRegistry()
    started, finished = threading.Event(), threading.Event()
    seen: list[bool] = []

    @registry.tool
    def slow(ctx: ToolContext) -> str:
        """Wait for the cancel."""
        started.set()
        seen.append(ctx.cancel.wait_blocking(5))
        finished.set()
        return "done"

    token = CancelToken()
    task = asyncio.create_task(registry.run("slow", "{}", ToolContext(token)))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()  # the turn is gone ...
    token.cancel("interrupted")  # ... and its token was cancelled
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(finished.wait, 5)
    assert seen == [True] and token.cancelled
    registry.close()
