"""What the barge-in benchmarks say over a reply, and how busy the machine was.

Shared by ``tests/bench/bench_barge_in.py`` (remote model) and
``bench_local_barge_in.py`` (the in-process model), so both measure the same
sentences and report the load next to every figure.
"""

from __future__ import annotations

import os

QUESTION = "Tell me a long story about a dragon."
INTERRUPTIONS = [
    "Stop. What is the capital of France?",
    "Actually, what time is it in Tokyo right now?",
    "Hold on. How tall is Mount Everest?",
    "No, stop. Set a timer for five minutes.",
    "Wait. Tell me about cats instead.",
]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
