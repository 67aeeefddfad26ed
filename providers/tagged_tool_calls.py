"""Tool calls that a local model writes as text: ``<tool_call>{"name": …, "arguments": …}
</tool_call>``, the Hermes convention of Qwen2.5 and many other chat templates.

llama-cpp-python renders the tools into such a template but hands back what
the model writes as plain text. This filter lifts the calls out of the text
stream as it arrives, so they are run instead of shown and spoken; text that
might be the start of a tag is held back until it is clear that it is not.
"""

from __future__ import annotations

import json

from .errors import BadResponseError
from .events import ToolCall

OPEN = "<tool_call>"
CLOSE = "</tool_call>"


class TaggedToolCalls:
    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.calls: list[ToolCall] = []
        self._buffer = ""
        self._inside = False

    def feed(self, text: str) -> str:
        """The part of ``text`` (with what was held back) that is reply text."""
        self._buffer += text
        visible: list[str] = []
        while True:
            if self._inside:
                end = self._buffer.find(CLOSE)
                if end < 0:
                    return "".join(visible)
                self._add(self._buffer[:end])
                self._buffer = self._buffer[end + len(CLOSE) :]
                self._inside = False
                continue
            start = self._buffer.find(OPEN)
            if start >= 0:
                visible.append(self._buffer[:start])
                self._buffer = self._buffer[start + len(OPEN) :]
                self._inside = True
                continue
            keep = _tag_prefix_length(self._buffer)
            cut = len(self._buffer) - keep
            visible.append(self._buffer[:cut])
            self._buffer = self._buffer[cut:]
            return "".join(visible)

    def finish(self) -> str:
        """At the end of the reply: the text still held back. A call the model left
        unclosed (it stopped right after the JSON) still counts when its JSON is whole."""
        rest, self._buffer = self._buffer, ""
        if self._inside:
            self._inside = False
            self._add(rest)
            return ""
        return rest

    def _add(self, body: str) -> None:
        try:
            value = json.loads(body)
        except ValueError:
            value = None
        name = value.get("name") if isinstance(value, dict) else None
        if not isinstance(value, dict) or not isinstance(name, str) or not name:
            raise BadResponseError(
                f"{self.provider} wrote a tool call Harken cannot read: {body.strip()[:120]!r}",
                provider=self.provider,
            )
        arguments = value.get("arguments", value.get("parameters", {}))
        if isinstance(arguments, str):
            arguments_json = arguments or "{}"
        else:
            arguments_json = json.dumps(arguments if arguments is not None else {})
        self.calls.append(ToolCall(f"call_{len(self.calls)}", name, arguments_json))


def _tag_prefix_length(text: str) -> int:
    """How many trailing characters of ``text`` could begin ``<tool_call>``."""
    for length in range(min(len(OPEN) - 1, len(text)), 0, -1):
        if OPEN.startswith(text[-length:]):
            return length
    return 0
