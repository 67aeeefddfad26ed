"""How much GUI-thread time the conversation view spends on a streaming reply.

Two figures, each against a baseline measured in the same run:

1. Streaming: a ~1.7 KB Markdown reply (with code) arrives as 2-character
   deltas at 100 deltas/s. The view renders at most once per 33 ms frame;
   the baseline renders on every delta (what a naive view does). Figure:
   GUI-thread milliseconds per second of streamed reply.
2. History: the same reply streamed under 60 earlier turns. Only the live
   tail is re-rendered; the baseline rebuilds the whole document each frame.

Time is simulated (frames are flushed on a virtual 33 ms clock) so the
figure is the rendering cost itself, not timer jitter. Medians over runs.

    .venv/bin/python -m tests.bench.bench_conversation_view [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.agent import events as ev
from app.desktop.conversation.conversation_view import ConversationView
from tests.support.scripted_bridge import chunks, typed_turn

DELTA_INTERVAL_S = 0.010
FRAME_S = 0.033
REPLY = (
    "Here is a walk-through of **binary search**, with code.\n\n"
    + "The idea is to halve the interval each step, so the work grows with log n. " * 6
    + "\n\n```python\n"
    + "def search(items, target):\n    lo, hi = 0, len(items) - 1\n"
    + "    while lo <= hi:\n        mid = (lo + hi) // 2\n"
    + "        if items[mid] == target:\n            return mid\n"
    + "        if items[mid] < target:\n            lo = mid + 1\n"
    + "        else:\n            hi = mid - 1\n    return -1\n```\n\n"
    + "- sorted input is required\n- `mid` never overflows in Python\n- returns -1 if absent\n\n"
    + "Each comparison removes half of what is left, which is why it is fast. " * 12
)


def stream(view: ConversationView, turn_id: int, *, naive: bool, full_rebuild: bool) -> float:
    """GUI-thread seconds spent on one streamed reply (simulated arrival clock)."""
    view.handle_event(ev.TurnStarted(turn_id=turn_id, text="explain binary search", source="text"))
    spent = 0.0
    next_frame = FRAME_S
    for i, piece in enumerate(chunks(REPLY, 2)):
        now = i * DELTA_INTERVAL_S
        start = time.perf_counter()
        view.handle_event(ev.ReplyDelta(turn_id=turn_id, text=piece))
        if naive or now >= next_frame:
            if full_rebuild:
                view.rebuild()
            else:
                view.flush()
            next_frame = now + FRAME_S
        spent += time.perf_counter() - start
    start = time.perf_counter()
    view.handle_event(ev.TurnFinished(turn_id=turn_id, text=REPLY))
    spent += time.perf_counter() - start
    return spent


def reply_seconds() -> float:
    return len(chunks(REPLY, 2)) * DELTA_INTERVAL_S


def measure(history_turns: int, *, naive: bool, full_rebuild: bool) -> float:
    view = ConversationView()
    view.resize(900, 700)
    view.show()
    for t in range(history_turns):
        for event in typed_turn(1000 + t, f"question {t}", REPLY[:400]):
            view.handle_event(event)
    view.flush()
    QApplication.processEvents()
    spent = stream(view, 1, naive=naive, full_rebuild=full_rebuild)
    view.close()
    view.deleteLater()
    QApplication.processEvents()
    return spent / reply_seconds() * 1000  # ms of GUI time per second of reply


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert app is not None
    cases = {
        "coalesced": (0, False, False),
        "per-delta (baseline)": (0, True, False),
        "live tail, 60 earlier turns": (60, False, False),
        "full rebuild, 60 earlier turns (baseline)": (60, False, True),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (history, naive, rebuild) in cases.items():
            results[name].append(measure(history, naive=naive, full_rebuild=rebuild))
    med = {name: statistics.median(values) for name, values in results.items()}
    deltas = len(chunks(REPLY, 2))
    print(
        f"reply: {len(REPLY)} chars in {deltas} deltas over {reply_seconds():.1f} s "
        f"(simulated 100 deltas/s, 33 ms frames); medians of {args.runs} runs"
    )
    for name, value in med.items():
        print(f"  {name:<44} {value:8.1f} ms GUI time per s of reply")
    coalesced, naive = med["coalesced"], med["per-delta (baseline)"]
    tail, rebuild = (
        med["live tail, 60 earlier turns"],
        med["full rebuild, 60 earlier turns (baseline)"],
    )
    print(f"streaming: coalesced / per-delta = {coalesced / naive:.3f} ({naive / coalesced:.1f}x)")
    print(f"history:   live tail / full rebuild = {tail / rebuild:.3f} ({rebuild / tail:.1f}x)")


if __name__ == "__main__":
    main()
