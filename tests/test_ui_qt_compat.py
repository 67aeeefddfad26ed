"""Thousands of Qt calls must not abort the process (PySide6 6.12.0 + Python 3.11 leak)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication, QWidget
from PySide6.QtGui import QTextCursor, QTextDocument
import app.ui  # applies the guard when the installed binding needs it
qapp = QApplication([])
widget = QWidget()
cursor = QTextCursor(QTextDocument())
before = sys.getrefcount(None)
for _ in range(50_000):
    widget.update()
    cursor.setPosition(0)
flag = widget.isVisible()  # returns a bool: True/False must survive too
# The leak took one reference to None per call (50 000 here); freeing ordinary objects
# that held None moves the count by a few, so only a large drop is the bug.
print("ok", before > 100_000 or sys.getrefcount(None) >= before - 1_000)
"""


def test_a_long_session_of_qt_calls_does_not_crash() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["ok", "True"]
