"""The window's style sheet, generated from the current palette (light or dark)."""

from __future__ import annotations

from PySide6.QtGui import QPalette

from app.desktop.window.theme import colors, is_dark, mix


def stylesheet(palette: QPalette) -> str:
    c = colors(palette)
    window = palette.color(QPalette.ColorRole.Window)
    button = palette.color(QPalette.ColorRole.Button)
    mid = palette.color(QPalette.ColorRole.Mid)
    dark = is_dark(palette)
    accent = c.accent.name()
    accent_hover = mix(c.accent, c.base, 0.15).name()
    accent_text = "#ffffff" if not dark else "#15121f"
    held = "#d93b36" if dark else c.danger.name()
    sidebar_bg = mix(window, c.text, 0.035 if dark else 0.02).name()
    border = mix(mid, window, 0.3).name()
    return f"""
#sidebar {{ background: {sidebar_bg}; }}
#sidebar QListWidget {{
    background: transparent; border: none; outline: none; padding: 2px;
}}
#sidebar QListWidget::item {{ padding: 7px 8px; border-radius: 6px; }}
#sidebar QListWidget::item:selected {{
    background: {mix(window, c.accent, 0.22 if dark else 0.14).name()}; color: {c.text.name()};
}}
#sidebar QListWidget::item:hover:!selected {{ background: {mix(window, c.text, 0.06).name()}; }}
#sidebarEmpty {{ color: {c.dim.name()}; padding: 20px; }}
#sidebar QLineEdit, #messageBox {{
    border: 1px solid {border}; border-radius: 8px; padding: 4px 6px;
    background: {c.base.name()};
}}
#sidebar QLineEdit:focus, #messageBox:focus {{ border: 1px solid {accent}; }}
#controls {{ background: {window.name()}; border-top: 1px solid {border}; }}
#conversation {{ border: none; background: {c.base.name()}; }}
QPushButton {{
    border: 1px solid {border}; border-radius: 8px; padding: 6px 14px;
    background: {button.name()};
}}
QPushButton:hover {{ background: {mix(button, c.text, 0.06).name()}; }}
QPushButton:focus {{ border: 2px solid {accent}; }}
QPushButton:disabled {{ color: {c.dim.name()}; }}
QPushButton#pttButton {{
    background: {accent}; color: {accent_text}; border: none; border-radius: 12px;
    font-size: 11pt; font-weight: 600; padding: 8px 18px;
}}
QPushButton#pttButton:hover {{ background: {accent_hover}; }}
QPushButton#pttButton:focus {{ border: 2px solid {c.text.name()}; }}
QPushButton#pttButton[held="true"] {{ background: {held}; color: #ffffff; }}
QPushButton#pttButton:disabled {{
    background: {mix(button, c.accent, 0.18).name()}; color: {c.text.name()};
}}
QPushButton#handsFree:checked {{
    background: {mix(button, c.accent, 0.3).name()}; border: 1px solid {accent};
}}
QPushButton#handsFree, QPushButton#stopButton {{ border-radius: 12px; padding: 6px 16px; }}
QPushButton#sendButton {{ border-radius: 8px; padding: 6px 10px; }}
QLabel[hint="true"] {{ color: {c.dim.name()}; }}
#modelLabel {{ color: {c.dim.name()}; padding-right: 8px; }}
QStatusBar {{ border-top: 1px solid {border}; }}
QSplitter::handle {{ background: {border}; width: 1px; }}
"""
