"""The tools Harken ships: safe, useful by voice, cancellation-aware."""

from __future__ import annotations

import ast
import datetime as dt
import math
import operator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.agent.tools.registry import ToolContext, ToolError, ToolRegistry
from app.agent.tools.timers import TimerService, describe_duration

CLIPBOARD_READ = "clipboard_read"
CLIPBOARD_WRITE = "clipboard_write"

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCS = {"sqrt": math.sqrt, "abs": abs, "round": round, "log": math.log, "log10": math.log10}
_NAMES = {"pi": math.pi, "e": math.e}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise ToolError("That exponent is too large.")
        result: float = _BINARY[type(node.op)](left, right)
        return result
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        value: float = _UNARY[type(node.op)](_evaluate(node.operand))
        return value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and not node.keywords
    ):
        func: Any = _FUNCS[node.func.id]
        called: float = func(*(_evaluate(a) for a in node.args))
        return called
    raise ToolError("Only numbers, + - * / // % **, brackets, sqrt, abs, round, log are allowed.")


def build_default_registry() -> ToolRegistry:
    registry = ToolRegistry()

    @registry.tool
    def get_current_time(ctx: ToolContext, timezone: str | None = None) -> str:
        """Get the current local date and time, or the time in another time zone.

        Args:
            timezone: an IANA time zone such as Europe/Paris; omit for the user's local time
        """
        ctx.cancel.raise_if_cancelled()
        if timezone:
            try:
                now = dt.datetime.now(ZoneInfo(timezone))
            except (ZoneInfoNotFoundError, ValueError):
                raise ToolError(f"Unknown time zone {timezone!r}.") from None
        else:
            now = dt.datetime.now().astimezone()
        return now.strftime("%A %d %B %Y, %H:%M:%S %Z (UTC%z)")

    @registry.tool
    def calculate(ctx: ToolContext, expression: str) -> str:
        """Evaluate an arithmetic expression exactly, e.g. "17.5 * 3 / 4" or "sqrt(2)".

        Args:
            expression: the arithmetic to evaluate
        """
        ctx.cancel.raise_if_cancelled()
        if len(expression) > 200:
            raise ToolError("That expression is too long.")
        try:
            tree = ast.parse(expression.replace("^", "**"), mode="eval")
            value = _evaluate(tree)
        except ZeroDivisionError:
            raise ToolError("Division by zero.") from None
        except (SyntaxError, ValueError, OverflowError) as exc:
            raise ToolError(f"Cannot evaluate {expression!r}: {exc}") from None
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        shown = f"{value:.10g}" if isinstance(value, float) else str(value)
        return f"{expression} = {shown}"

    @registry.tool
    def set_timer(ctx: ToolContext, seconds: int, label: str = "") -> str:
        """Start a countdown timer that announces when it ends.

        Args:
            seconds: how long, in seconds (1 to 86400)
            label: a short name for the timer, such as "tea"
        """
        ctx.cancel.raise_if_cancelled()
        timers: TimerService | None = ctx.extras.get("timers")
        if timers is None:
            raise ToolError("Timers are not available here.")
        if not 1 <= seconds <= 86400:
            raise ToolError("A timer can run from 1 second to 24 hours.")
        timer_id = timers.start(seconds, label.strip())
        return f"Timer {timer_id} set for {describe_duration(seconds)}."

    @registry.tool
    def list_timers(ctx: ToolContext) -> str:
        """List the countdown timers that are running."""
        timers: TimerService | None = ctx.extras.get("timers")
        rows = timers.pending() if timers else []
        if not rows:
            return "No timers are running."
        return "; ".join(
            f"timer {i}{f' ({label})' if label else ''}: {describe_duration(left)} left"
            for i, label, left in rows
        )

    @registry.tool
    def cancel_timer(ctx: ToolContext, timer_id: int) -> str:
        """Cancel a running countdown timer.

        Args:
            timer_id: the number given when the timer was set
        """
        ctx.cancel.raise_if_cancelled()
        timers: TimerService | None = ctx.extras.get("timers")
        if timers is None or not timers.cancel(timer_id):
            raise ToolError(f"There is no running timer {timer_id}.")
        return f"Timer {timer_id} cancelled."

    @registry.tool(permission=CLIPBOARD_READ)
    def read_clipboard(ctx: ToolContext) -> str:
        """Read the text currently on the user's clipboard."""
        ctx.cancel.raise_if_cancelled()
        if ctx.clipboard is None:
            raise ToolError("The clipboard is not available here.")
        text = ctx.clipboard.read_text()
        return text if text else "(the clipboard is empty)"

    @registry.tool(permission=CLIPBOARD_WRITE)
    def write_clipboard(ctx: ToolContext, text: str) -> str:
        """Put text on the user's clipboard so they can paste it.

        Args:
            text: the text to copy
        """
        ctx.cancel.raise_if_cancelled()
        if ctx.clipboard is None:
            raise ToolError("The clipboard is not available here.")
        ctx.clipboard.write_text(text)
        return f"Copied {len(text)} characters to the clipboard."

    return registry
