"""Turns typed Python functions into tools the model can call, and runs them.

A tool is a plain function whose first parameter is a ``ToolContext`` and
whose other parameters are typed (str, int, float, bool, Literal, optional).
Its docstring's first paragraph is the description the model sees. Tools run
in worker threads with the turn's ``CancelToken`` in their context: a tool
that outlives its turn still sees that token cancelled.
"""

from __future__ import annotations

import inspect
import logging
import types
import typing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Union, get_args, get_origin

from providers.cancel import CancelToken
from providers.events import ToolSpec

log = logging.getLogger(__name__)


class Clipboard(Protocol):
    """Where clipboard tools read and write; the window provides the system one."""

    def read_text(self) -> str: ...

    def write_text(self, text: str) -> None: ...


@dataclass
class ToolContext:
    """What a running tool may use. ``cancel`` is the turn's token."""

    cancel: CancelToken
    announce: Callable[[str], None] = lambda text: None
    permissions: frozenset[str] = frozenset()
    clipboard: Clipboard | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolRun:
    """The outcome of one call, as it goes back to the model."""

    content: str
    is_error: bool = False


class ToolError(Exception):
    """Raised by a tool for a failure the model (and the user) should hear about."""


_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _schema_for(annotation: Any) -> dict[str, Any]:
    origin = get_origin(annotation)
    if origin is Literal:
        values = list(get_args(annotation))
        return {"type": _JSON_TYPES[type(values[0])], "enum": values}
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return _schema_for(inner[0])
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    raise TypeError(f"unsupported tool parameter type: {annotation!r}")


def _param_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from ``name: text`` lines after an ``Args:`` line."""
    found: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
        elif in_args and ":" in stripped:
            name, text = stripped.split(":", 1)
            found[name.strip()] = text.strip()
        elif in_args and not stripped:
            in_args = False
    return found


@dataclass(frozen=True)
class _Tool:
    spec: ToolSpec
    func: Callable[..., str]
    permission: str | None


class ToolRegistry:
    """Holds the tools and runs calls in a small pool of worker threads."""

    def __init__(self, *, max_workers: int = 4) -> None:
        self._tools: dict[str, _Tool] = {}
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None

    def tool(self, func: Callable[..., str] | None = None, *, permission: str | None = None) -> Any:
        """Decorator: register ``func``. ``permission`` names a setting the user must allow."""

        def register(f: Callable[..., str]) -> Callable[..., str]:
            self.add(f, permission=permission)
            return f

        return register(func) if func is not None else register

    def add(self, func: Callable[..., str], *, permission: str | None = None) -> None:
        hints = typing.get_type_hints(func)
        params = list(inspect.signature(func).parameters.values())[1:]  # skip the context
        doc = inspect.getdoc(func) or ""
        descriptions = _param_docs(doc)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for p in params:
            schema = _schema_for(hints[p.name])
            if p.name in descriptions:
                schema["description"] = descriptions[p.name]
            properties[p.name] = schema
            if p.default is inspect.Parameter.empty:
                required.append(p.name)
        parameters: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            parameters["required"] = required
        summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
        spec = ToolSpec(name=func.__name__, description=summary, parameters=parameters)
        self._tools[spec.name] = _Tool(spec=spec, func=func, permission=permission)

    def specs(self, permissions: frozenset[str] = frozenset()) -> list[ToolSpec]:
        """The tools offered to the model: those needing a permission only when granted."""
        return [
            t.spec
            for t in self._tools.values()
            if t.permission is None or t.permission in permissions
        ]

    def names(self) -> list[str]:
        return list(self._tools)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="tool")
        return self._pool

    async def run(self, name: str, arguments_json: str, context: ToolContext) -> ToolRun:
        """Run one call in a worker thread. Never raises for a tool's own failure."""
        import asyncio
        import json

        tool = self._tools.get(name)
        if tool is None:
            return ToolRun(f"There is no tool named {name!r}.", is_error=True)
        if tool.permission is not None and tool.permission not in context.permissions:
            return ToolRun(
                f"The user has not allowed {name}. It can be turned on in Settings → Tools.",
                is_error=True,
            )
        try:
            args = json.loads(arguments_json) if arguments_json.strip() else {}
            if not isinstance(args, dict):
                raise ValueError("arguments are not an object")
        except ValueError as exc:
            return ToolRun(f"The arguments for {name} are not valid JSON: {exc}", is_error=True)
        loop = asyncio.get_running_loop()

        def call() -> str:
            return tool.func(context, **args)

        try:
            result = await loop.run_in_executor(self._executor(), call)
        except ToolError as exc:
            return ToolRun(str(exc), is_error=True)
        except TypeError as exc:
            return ToolRun(f"Wrong arguments for {name}: {exc}", is_error=True)
        except Exception as exc:  # a tool bug must not end the turn
            log.exception("tool %s failed", name)
            return ToolRun(f"{name} failed: {exc}", is_error=True)
        return ToolRun(str(result))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
