"""The agent's tools: a small registry and the tools Harken ships.

Adding a tool is one function with a typed signature and a docstring,
decorated with ``@registry.tool``; see ``builtin.py``.
"""

from app.agent.tools.builtin import build_default_registry
from app.agent.tools.registry import Clipboard, ToolContext, ToolRegistry, ToolRun

__all__ = ["Clipboard", "ToolContext", "ToolRegistry", "ToolRun", "build_default_registry"]
