"""The main window's menu bar: every command with its keyboard shortcut.

Menus make every action discoverable and keyboard reachable (Alt+letter),
and their shortcuts work anywhere in the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence


@dataclass
class Menus:
    new: QAction
    settings: QAction
    quit: QAction
    stop: QAction
    latency: QAction
    about: QAction
    sidebar: QAction | None


def build_menus(window: Any) -> Menus:
    """Menus for a ``MainWindow`` (its slots are connected here)."""
    bar = window.menuBar()

    def action(
        menu: Any, text: str, slot: Callable[[], None], shortcut: str | None = None
    ) -> QAction:
        act = QAction(text, window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _checked=False: slot())
        menu.addAction(act)
        return act

    app_menu = bar.addMenu("&Harken")
    new = action(app_menu, "&New conversation", window.new_conversation, "Ctrl+N")
    settings = action(app_menu, "&Settings…", window.open_settings, "Ctrl+,")
    app_menu.addSeparator()
    quit_ = action(app_menu, "&Quit", window.quit, "Ctrl+Q")

    conversation = bar.addMenu("&Conversation")
    stop = action(conversation, "&Stop", window.stop, "Esc")
    action(conversation, "&Type a message", window.focus_message_box, "Ctrl+L")
    sidebar = window.sidebar
    if sidebar is not None:
        action(conversation, "&Rename…", sidebar.rename_selected, "F2")
        action(conversation, "&Delete…", sidebar.delete_selected)

    view = bar.addMenu("&View")
    latency = action(view, "Show &latency", window.toggle_latency)
    latency.setCheckable(True)
    show_sidebar = None
    if sidebar is not None:
        show_sidebar = QAction("Show conversation &list", window)
        show_sidebar.setShortcut(QKeySequence("Ctrl+B"))
        show_sidebar.setCheckable(True)
        show_sidebar.setChecked(True)
        show_sidebar.toggled.connect(sidebar.setVisible)
        view.addAction(show_sidebar)

    help_menu = bar.addMenu("&Help")
    about = action(help_menu, "&About and shortcuts", window.show_about, "F1")
    return Menus(new, settings, quit_, stop, latency, about, show_sidebar)
