"""Global hotkey: availability, parsing, thread → GUI delivery, debounce, and a real X server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.desktop.hotkey import (
    ComboState,
    GlobalHotkey,
    HotkeyError,
    choose,
    key_token,
    parse_hotkey,
    portal_trigger,
)

pytest_plugins = ["tests.support.xvfb"]  # xvfb_display

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Key:  # the shape of pynput's keyboard.Key members
    name: str


@dataclass(frozen=True)
class KeyCode:  # the shape of pynput's keyboard.KeyCode
    char: str | None = None
    vk: int | None = None


@pytest.mark.parametrize(
    "env",
    [{"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, {"XDG_SESSION_TYPE": "wayland"}],
)
def test_wayland_uses_the_desktop_portal_never_pynput(env: dict[str, str]) -> None:
    # pynput under XWayland would only see keys typed into other X11 windows
    assert choose(env, "linux").backend == "portal"


def test_x11_uses_pynput_and_other_systems_too() -> None:
    assert choose({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, "linux").backend == "x11"
    assert choose({}, "win32").backend == "x11"
    assert choose({}, "darwin").backend == "x11"


def test_no_graphical_session_says_why_and_what_to_do() -> None:
    choice = choose({}, "linux")
    assert choice.backend == "none"
    assert "DISPLAY" in choice.reason and "Space in the Harken window" in choice.reason


def test_portal_trigger_format() -> None:
    assert portal_trigger("<ctrl>+<alt>+space") == "CTRL+ALT+space"
    assert portal_trigger("<alt>+<ctrl>+<shift>+<cmd>+h") == "CTRL+ALT+SHIFT+LOGO+h"
    assert portal_trigger("<f9>") == "F9"
    assert portal_trigger("<super>+<enter>") == "LOGO+Return"
    with pytest.raises(HotkeyError, match="exactly one key"):
        portal_trigger("<ctrl>+a+b")


def test_parse_hotkey() -> None:
    assert parse_hotkey("<ctrl>+<alt>+space") == {"ctrl", "alt", "space"}
    assert parse_hotkey("<Control> + <Option> + <space>") == {"ctrl", "alt", "space"}
    assert parse_hotkey("<f9>") == {"f9"}
    for bad in ("", "<ctrl>+", "+h"):
        with pytest.raises(HotkeyError, match="<ctrl>"):
            parse_hotkey(bad)


def test_key_tokens_merge_left_and_right() -> None:
    assert key_token(Key("ctrl_l")) == "ctrl"
    assert key_token(Key("alt_r")) == "alt"
    assert key_token(Key("space")) == "space"
    assert key_token(KeyCode(char="H")) == "h"
    assert key_token(KeyCode(vk=65027)) == "vk65027"


def test_combo_state() -> None:
    combo = ComboState(parse_hotkey("<ctrl>+<alt>+space"))
    assert not combo.down("ctrl") and not combo.down("alt")
    assert combo.down("space")
    assert not combo.down("space")  # held: no second press
    assert not combo.up("x")
    assert combo.up("alt")
    assert not combo.up("space")  # already released


def test_presses_from_the_listener_thread_arrive_on_the_gui_thread_once(qtbot: QtBot) -> None:
    hotkey = GlobalHotkey("<ctrl>+<alt>+space")
    log: list[tuple[str, bool]] = []
    main = threading.main_thread()
    hotkey.pressed.connect(lambda: log.append(("press", threading.current_thread() is main)))
    hotkey.released.connect(lambda: log.append(("release", threading.current_thread() is main)))

    def typing() -> None:  # what pynput's thread calls, with an unflagged repeat pair
        for k in (Key("ctrl_l"), Key("alt_l"), Key("space")):
            hotkey.on_press(k)
        hotkey.on_release(Key("space"))
        hotkey.on_press(Key("space"))
        hotkey.on_release(Key("space"))
        hotkey.on_release(Key("alt_l"))
        hotkey.on_release(Key("ctrl_l"))

    with qtbot.waitSignal(hotkey.released, timeout=2000):
        worker = threading.Thread(target=typing)
        worker.start()
        worker.join()
    assert log == [("press", True), ("release", True)]


HOTKEY_SCRIPT = """
import subprocess, sys
from PySide6.QtCore import QCoreApplication, QTimer
from app.desktop.hotkey import GlobalHotkey
app = QCoreApplication([])
hotkey = GlobalHotkey("<ctrl>+<alt>+h")
log = []
hotkey.pressed.connect(lambda: log.append("press"))
hotkey.released.connect(lambda: (log.append("release"), QTimer.singleShot(200, app.quit)))
ok, reason = hotkey.start()
if not ok:
    print("UNAVAILABLE", reason)
    sys.exit(0)
hold = ["xdotool", "keydown", "ctrl+alt+h", "sleep", "0.6", "keyup", "h", "keyup", "ctrl+alt"]
QTimer.singleShot(300, lambda: subprocess.Popen(hold))
QTimer.singleShot(8000, app.quit)
app.exec()
hotkey.stop()
print(",".join(log))
"""


def test_real_x_server_hold_is_one_press_and_one_release(xvfb_display: str) -> None:
    if shutil.which("xdotool") is None:
        pytest.skip("needs xdotool (scripts/setup.sh test installs it)")
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("XDG_SESSION_TYPE", None)
    out = subprocess.run(
        [sys.executable, "-c", HOTKEY_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "press,release", out.stdout + out.stderr
