"""Measure Harken's start-up: process start → main window drawn, offscreen, models loading behind.

    .venv/bin/python packaging/measure_startup.py                      # from source
    .venv/bin/python packaging/measure_startup.py --exe dist/harken/harken --runs 5

Each run starts the app with ``QT_QPA_PLATFORM=offscreen`` and
``HARKEN_STARTUP_MARK=1`` (see ``app/startup_mark.py``) in private settings,
data, log and temp folders (so neither a running Harken nor your settings
interfere), takes the time from just before the process is started to the
marker the window prints at its first paint, then reads from the log when the
Whisper model finished loading, and quits the app with SIGTERM. It prints the
median over the runs, the same figure for a bare PySide6 window started by
this Python (the baseline: what any Qt app costs here), and the ratio.
Exit code 1 when a run never shows its window.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "HARKEN_STARTUP window_shown"
MODEL_LOADED = re.compile(r"^(\S+ \S+) INFO audio\.transcriber: Whisper model .* loaded in")
BASELINE = """
import sys
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from app.desktop.startup_mark import install_startup_mark
install_startup_mark()
app = QApplication.instance()
window = QMainWindow()
window.setCentralWidget(QLabel("baseline"))
window.resize(900, 640)
window.show()
sys.exit(app.exec())
"""


@dataclass(frozen=True)
class Run:
    window_s: float  # launch → first paint of the main window
    models_s: float | None  # launch → Whisper model loaded (from the log), if seen


def _wait_for_line(proc: subprocess.Popen[str], marker: str, timeout_s: float) -> str | None:
    """The first stderr line starting with ``marker``; None on exit or timeout. The rest of
    stderr keeps being drained, so the app never blocks on a full pipe."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return None
        if line is None:
            return None  # the process exited
        if line.startswith(marker):
            return line
    return None


def _models_loaded_ts(log_file: Path, timeout_s: float) -> float | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log_file.exists():
            for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
                match = MODEL_LOADED.match(line)
                if match:
                    stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
                    return stamp.timestamp()
        time.sleep(0.05)
    return None


def measure_once(command: list[str], *, timeout_s: float, app: bool) -> Run:
    with tempfile.TemporaryDirectory(prefix="harken-startup-") as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HARKEN_STARTUP_MARK="1")
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[var] = os.path.join(tmp, var.lower())
        env["TMPDIR"] = os.path.join(tmp, "tmp")  # Qt's single-instance socket lives here
        os.makedirs(env["TMPDIR"])
        if not app:
            env["PYTHONPATH"] = str(ROOT)  # the baseline imports app.desktop.startup_mark
        launched = time.time()
        proc = subprocess.Popen(
            command, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            line = _wait_for_line(proc, MARKER, timeout_s)
            if line is None:
                raise SystemExit(f"measure_startup: {command[0]} never showed its window")
            shown = float(re.search(r"ts=([0-9.]+)", line).group(1))  # type: ignore[union-attr]
            models = None
            if app:
                log_file = Path(env["XDG_STATE_HOME"]) / "harken" / "log" / "harken.log"
                loaded = _models_loaded_ts(log_file, timeout_s)
                models = None if loaded is None else loaded - launched
            return Run(shown - launched, models)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _app_command(exe: str | None) -> tuple[list[str], str]:
    if exe:
        path = Path(exe).resolve()
        return [str(path)], f"bundle {path}"
    script = Path(sys.executable).with_name("harken")
    if script.exists():
        return [str(script)], f"source ({script})"
    return [sys.executable, "-m", "app.cli"], "source (python -m app.cli)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exe", help="the bundle's executable (default: run from source)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    command, label = _app_command(args.exe)
    measure_once(command, timeout_s=args.timeout_s, app=True)  # warm the disk cache
    runs = [measure_once(command, timeout_s=args.timeout_s, app=True) for _ in range(args.runs)]
    base = [
        measure_once([sys.executable, "-c", BASELINE], timeout_s=args.timeout_s, app=False)
        for _ in range(args.runs)
    ]
    window = statistics.median(r.window_s for r in runs)
    baseline = statistics.median(r.window_s for r in base)
    models = [r.models_s for r in runs if r.models_s is not None]
    before = sum(1 for r in runs if r.models_s is not None and r.window_s < r.models_s)
    print(f"start-up, process start → main window drawn (offscreen), median of {args.runs} runs")
    print(
        f"  harken  {label}: {window:.2f} s "
        f"(min {min(r.window_s for r in runs):.2f}, max {max(r.window_s for r in runs):.2f})"
    )
    if models:
        print(
            f"          Whisper model loaded at {statistics.median(models):.2f} s; the window "
            f"was up before the models were in {before} of {len(runs)} runs"
        )
    print(f"  baseline  bare PySide6 window from {sys.executable}: {baseline:.2f} s")
    print(f"  ratio  {window / baseline:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
