"""Show the main window playing a scripted conversation, for looking at it (and screenshots).

    Xvfb :99 -screen 0 1280x800x24 &
    DISPLAY=:99 .venv/bin/python -m tests.support.screenshot_window --theme dark

With ``--shot`` the window grabs itself once the script has played and quits;
without it the window stays open (``import -window root`` takes the screen).
``--settings-shot PATH --tab Shortcuts`` grabs the settings dialog on that tab
instead. ``--hotkey`` starts the global hotkey as the app does (on a qasync
loop): with ``WAYLAND_DISPLAY`` and ``DBUS_SESSION_BUS_ADDRESS`` pointing at a
bus where ``tests.support.fake_portal`` runs, the Shortcuts tab shows the
portal backend active.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.agent import events as ev
from app.config.settings import Settings
from app.desktop.window.main_window import MainWindow
from app.desktop.window.theme import apply_theme
from app.runtime.history_store import HistoryStore
from tests.support.scripted_bridge import (
    ScriptedBridge,
    barge_in,
    failed_turn,
    tool_turn,
    voice_turn,
)

CODE_REPLY = """Sort the files by size:

```python
def largest_files(folder: str, n: int = 5) -> list[Path]:
    files = (p for p in Path(folder).rglob("*") if p.is_file())
    return sorted(files, key=lambda p: p.stat().st_size, reverse=True)[:n]
```

Call it with `largest_files("~/Downloads")`; it walks the folder **recursively**."""

LISBON = (
    "Lisbon is one of the oldest cities in Western Europe, older than Rome by centuries. "
    "The Phoenicians traded there, then the Romans and the Moors"
)
HEARD = "Lisbon is one of the oldest cities in Western Europe, older than Rome by centuries."


def script() -> list[ev.Event]:
    events: list[ev.Event] = [
        ev.Status(text="Loading speech models…"),
        ev.Ready(stt_model="faster-whisper tiny.en (bundled)"),
    ]
    events += voice_turn(
        1, "How do I find the five largest files in a folder with Python?", CODE_REPLY
    )
    events += barge_in(2, LISBON, HEARD, 3, "Actually, what time is it there right now?")
    events += tool_turn(3, "")[2:]
    events += failed_turn(4, "Summarise my unread email")
    return events


def hold_to_talk(window: MainWindow, bridge: ScriptedBridge) -> None:
    """End mid-conversation: the user is holding the Talk button and speaking again."""
    window.ptt.debouncer.down()
    bridge.emit_all(
        [
            ev.StateChanged(state=ev.State.LISTENING),
            ev.SpeechStarted(at_s=30.0),
            *(ev.InputLevel(normalised=v) for v in (0.3, 0.55, 0.7, 0.62)),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--theme", choices=["light", "dark", "system"], default="light")
    parser.add_argument("--shot", type=Path, help="save a screenshot of the window and quit")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--quit-after", type=float, default=0, help="seconds, then quit")
    parser.add_argument("--settings", action="store_true", help="also open the settings dialog")
    parser.add_argument("--empty", action="store_true", help="first start: no conversation yet")
    parser.add_argument("--settings-shot", type=Path, help="save the settings dialog and quit")
    parser.add_argument("--tab", default="Provider", help="the settings tab to show")
    parser.add_argument("--hotkey", action="store_true", help="start the global hotkey")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="harken-shot-"))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(home / var.lower())
    app = QApplication(sys.argv)
    app.setApplicationName("Harken")
    apply_theme(app, args.theme)
    history = HistoryStore()
    for title, said in (
        ("Weekend trip ideas for Porto", "Plan a weekend in Porto"),
        ("Sourdough starter troubleshooting", "My starter smells like acetone"),
        ("Explain Rust lifetimes simply", "Explain lifetimes"),
    ):
        cid = history.create_conversation(title)
        from providers.events import UserMessage

        history.add_message(cid, UserMessage(said))
    settings = Settings()
    settings.ui.theme = args.theme
    bridge = ScriptedBridge(history)
    window = MainWindow(bridge, settings, history)
    w, h = (int(x) for x in args.size.split("x"))
    window.resize(w, h)
    window.show()
    events = script()[:2] if args.empty else script()
    bridge.play(events, interval_ms=4)

    def finish() -> None:
        if bridge.playing:
            QTimer.singleShot(50, finish)
            return
        window.view.flush()
        if not args.empty:
            hold_to_talk(window, bridge)
        if args.settings or args.settings_shot:
            window.open_settings()
            dialog = window.settings_dialog
            tabs = dialog.tabs
            for i in range(tabs.count()):
                if tabs.tabText(i).replace("&", "") == args.tab:
                    tabs.setCurrentIndex(i)
            if args.settings_shot:
                shot = str(args.settings_shot)
                QTimer.singleShot(600, lambda: (dialog.grab().save(shot), quit_app()))
        if args.shot:
            QTimer.singleShot(300, lambda: (window.grab().save(str(args.shot)), quit_app()))

    import asyncio

    done = asyncio.Event()

    def quit_app() -> None:
        if args.hotkey:
            done.set()  # the hotkey is stopped on the loop, then the loop ends
        else:
            app.quit()

    if args.quit_after:
        QTimer.singleShot(int(args.quit_after * 1000), quit_app)
    if not args.hotkey:
        QTimer.singleShot(100, finish)
        app.exec()
        return
    import qasync

    from app.desktop.gui import close_loop, run_on
    from app.desktop.hotkey import HotkeyService

    async def with_hotkey() -> None:
        window.hotkeys = HotkeyService(window)
        window.hotkeys.apply(settings.hotkey)
        for _ in range(100):  # up to 5 s for the desktop (portal) to answer
            if not window.hotkeys.status.message.startswith("Asking"):
                break
            await asyncio.sleep(0.05)
        finish()
        await done.wait()
        window.hotkeys.stop()
        await window.hotkeys.wait_closed()

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        run_on(loop, with_hotkey())
    finally:
        close_loop(loop)


if __name__ == "__main__":
    main()
