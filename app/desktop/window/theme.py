"""Light and dark palettes that follow the desktop, and the few derived colours the UI uses.

``apply_theme`` sets the Fusion style with a palette for the system's colour
scheme (``QStyleHints.colorScheme``) or a forced one, and re-applies it when
the desktop switches. Widgets read ``colors(palette)`` instead of hard-coding
hex values, so everything follows a switch.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor("#6246ea")
ACCENT_DARK = QColor("#9d8cff")

_LIGHT = {
    QPalette.ColorRole.Window: "#f4f4f7",
    QPalette.ColorRole.WindowText: "#1d1d24",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f0f0f5",
    QPalette.ColorRole.Text: "#1d1d24",
    QPalette.ColorRole.Button: "#ececf1",
    QPalette.ColorRole.ButtonText: "#1d1d24",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1d1d24",
    QPalette.ColorRole.PlaceholderText: "#8a8a96",
    QPalette.ColorRole.Mid: "#c9c9d3",
    QPalette.ColorRole.Midlight: "#e2e2ea",
    QPalette.ColorRole.Dark: "#a0a0ab",
    QPalette.ColorRole.Light: "#ffffff",
    QPalette.ColorRole.Shadow: "#6b6b75",
    QPalette.ColorRole.Highlight: "#6246ea",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#5036d6",
    QPalette.ColorRole.BrightText: "#d92d20",
}
_DARK = {
    QPalette.ColorRole.Window: "#1c1c22",
    QPalette.ColorRole.WindowText: "#e8e8ee",
    QPalette.ColorRole.Base: "#24242c",
    QPalette.ColorRole.AlternateBase: "#2a2a33",
    QPalette.ColorRole.Text: "#e8e8ee",
    QPalette.ColorRole.Button: "#2d2d37",
    QPalette.ColorRole.ButtonText: "#e8e8ee",
    QPalette.ColorRole.ToolTipBase: "#2d2d37",
    QPalette.ColorRole.ToolTipText: "#e8e8ee",
    QPalette.ColorRole.PlaceholderText: "#8b8b98",
    QPalette.ColorRole.Mid: "#44444f",
    QPalette.ColorRole.Midlight: "#393943",
    QPalette.ColorRole.Dark: "#15151a",
    QPalette.ColorRole.Light: "#4a4a55",
    QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#7c6cf0",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#a99bff",
    QPalette.ColorRole.BrightText: "#ff6b5e",
}


def system_scheme() -> str:
    hints = QGuiApplication.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


def palette_for(scheme: str) -> QPalette:
    palette = QPalette()
    for role, hex_color in (_DARK if scheme == "dark" else _LIGHT).items():
        color = QColor(hex_color)
        palette.setColor(role, color)
        if role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
            dim = mix(color, QColor(palette.color(QPalette.ColorRole.Window)), 0.55)
            palette.setColor(QPalette.ColorGroup.Disabled, role, dim)
            palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, dim)
    return palette


def apply_theme(app: QApplication, mode: str = "system") -> str:
    """Apply "system" | "light" | "dark"; returns the scheme now in use."""
    scheme = system_scheme() if mode == "system" else mode
    app.setStyle("Fusion")
    app.setPalette(palette_for(scheme))
    app.setProperty("harken_theme_mode", mode)
    app.setProperty("harken_scheme", scheme)
    if not app.property("harken_theme_hooked"):
        app.setProperty("harken_theme_hooked", True)
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _s: _follow_system(app))
    return scheme


def _follow_system(app: QApplication) -> None:
    if app.property("harken_theme_mode") == "system":
        apply_theme(app, "system")


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` (0..1) of the way towards ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


@dataclass(frozen=True)
class Colors:
    text: QColor
    base: QColor
    accent: QColor
    dim: QColor  # secondary text: labels, latency, the tail of an interrupted reply
    user_bg: QColor
    code_bg: QColor
    tool_fg: QColor
    error_fg: QColor
    error_bg: QColor
    ok: QColor
    warn: QColor
    danger: QColor


def colors(palette: QPalette) -> Colors:
    text = palette.color(QPalette.ColorRole.Text)
    base = palette.color(QPalette.ColorRole.Base)
    dark = is_dark(palette)
    accent = ACCENT_DARK if dark else ACCENT
    danger = QColor("#ff6b5e") if dark else QColor("#c4281c")
    return Colors(
        text=text,
        base=base,
        accent=accent,
        dim=mix(text, base, 0.5),
        user_bg=mix(base, accent, 0.16 if dark else 0.09),
        code_bg=mix(base, text, 0.07 if dark else 0.045),
        tool_fg=mix(text, base, 0.35),
        error_fg=danger,
        error_bg=mix(base, danger, 0.14 if dark else 0.08),
        ok=QColor("#3ccf91") if dark else QColor("#13864f"),
        warn=QColor("#f5b342") if dark else QColor("#b25e09"),
        danger=danger,
    )
