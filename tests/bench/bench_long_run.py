"""How long the conversation view takes to show one huge reply delta with no spaces.

Figure: a 1 MB delta with no whitespace (a base64 blob), rendered and laid
out. Baseline, in the same run: the same size of ordinary text with a space
every 10 characters. Also shown: a 100 KB run without the soft breaks
(``app.desktop.conversation.soft_wrap``), i.e. what the view did before — Qt's
line breaking is quadratic in the length of an unbreakable word.

    .venv/bin/python -m tests.bench.bench_long_run [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from unittest import mock

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.agent import events as ev
from app.desktop.conversation import entry_writer
from app.desktop.conversation.conversation_view import ConversationView

SIZE = 1_000_000


def render_s(text: str) -> float:
    view = ConversationView()
    view.resize(900, 700)
    view.show()
    view.handle_event(ev.TurnStarted(turn_id=1, text="paste it", source="text"))
    start = time.perf_counter()
    view.handle_event(ev.ReplyDelta(turn_id=1, text=text))
    view.flush()
    view.document().size()
    QApplication.processEvents()
    spent = time.perf_counter() - start
    view.close()
    view.deleteLater()
    QApplication.processEvents()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert app is not None
    blob = "".join(chr(ord("a") + i % 26) for i in range(SIZE))
    prose = "abcdefghi " * (SIZE // 10)
    runs: dict[str, list[float]] = {"no spaces": [], "with spaces (baseline)": []}
    for _ in range(args.runs):
        runs["no spaces"].append(render_s(blob))
        runs["with spaces (baseline)"].append(render_s(prose))
    med = {name: statistics.median(v) for name, v in runs.items()}
    with mock.patch.object(entry_writer, "soft_wrap", lambda text: text):
        old_100k = render_s(blob[:100_000])
    print(f"one {SIZE // 1000} KB reply delta, rendered and laid out; medians of {args.runs} runs")
    for name, value in med.items():
        print(f"  {name:<28} {value:7.2f} s")
    ratio = med["no spaces"] / med["with spaces (baseline)"]
    print(f"no spaces / with spaces = {ratio:.2f}")
    print(f"  (without soft breaks, as before: 100 KB alone took {old_100k:.2f} s)")
    print(f"load: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
