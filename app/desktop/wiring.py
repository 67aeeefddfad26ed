"""Everything the desktop app shows, wired to a bridge in one call: window, tray, hotkey, earcons.

``build_desktop`` is what the GUI entry point calls once it has a
``QApplication``, a bridge, the loaded settings and the history store: it
applies the theme, starts the global hotkey when it can (and says why not
when it cannot), shows start-up messages (a corrupt settings file, a
missing microphone, no keyring) in the conversation, and keeps the hotkey
in step when the settings change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import QApplication

from app.agent import events as ev
from app.config.settings import Settings
from app.desktop import hotkey as hotkey_mod
from app.desktop.earcons import EarconPlayer
from app.desktop.window.icons import app_icon
from app.desktop.window.main_window import MainWindow
from app.desktop.window.theme import apply_theme
from app.desktop.window.tray import Tray

log = logging.getLogger(__name__)


@dataclass
class Desktop:
    window: MainWindow
    tray: Tray
    bridge: Any
    earcons: EarconPlayer | None = None
    hotkey: hotkey_mod.GlobalHotkey | None = None
    hotkey_status: tuple[bool, str] = (False, "")
    effective: Callable[[Settings], Settings] = lambda s: s  # saved → in effect this run
    _on_saved: list[Callable[[Settings], None]] = field(default_factory=list)

    def apply_settings(self, settings: Settings) -> None:
        """After Settings → Save: restart the hotkey, follow the output device."""
        if self.earcons is not None:
            self.earcons.device = self.effective(settings).audio.output_device or None
        self.start_hotkey(settings)
        for callback in self._on_saved:
            callback(settings)

    def start_hotkey(self, settings: Settings) -> None:
        if self.hotkey is not None:
            self.hotkey.stop()
            self.hotkey = None
        if not settings.hotkey.enabled:
            return
        ok, reason = hotkey_mod.available()
        if ok:
            try:
                hotkey = hotkey_mod.GlobalHotkey(settings.hotkey.global_hotkey, self.window)
            except hotkey_mod.HotkeyError as exc:
                ok, reason = False, str(exc)
            else:
                ok, reason = hotkey.start()
                if ok:
                    hotkey.pressed.connect(self.bridge.push_to_talk_press)
                    hotkey.released.connect(self.bridge.push_to_talk_release)
                    self.hotkey = hotkey
        self.hotkey_status = (ok, reason)
        self.window.hotkey_status = self.hotkey_status
        if not ok:
            log.info("global hotkey off: %s", reason)

    def close(self) -> None:
        if self.hotkey is not None:
            self.hotkey.stop()
        if self.earcons is not None:
            self.earcons.close()
        self.tray.icon.hide()


def build_desktop(
    app: QApplication,
    bridge: Any,
    settings: Settings,
    *,
    history: Any = None,
    secrets: Any = None,
    startup_messages: Iterable[str] = (),
    first_run_offers: Sequence[Any] | None = None,
    on_settings_saved: Callable[[Settings], None] | None = None,
    on_quit: Callable[[], None] | None = None,
    earcons: EarconPlayer | None = None,
    overridden: frozenset[str] = frozenset(),
    effective: Callable[[Settings], Settings] | None = None,
) -> Desktop:
    """Create and show the window. ``settings`` are the *saved* settings: the window edits
    and writes only those. ``overridden`` names the fields the environment or flags set for
    this run and ``effective`` lays those over saved settings (never written).
    ``on_settings_saved`` is called after the file is written
    (reconfigure the provider/audio there); ``on_quit`` should cancel the turn, save and quit.
    ``first_run_offers`` (from ``app.config.first_run.detect``, on a first start) are shown with a
    "Use it" link each; an empty list says how to set a provider up."""
    apply_theme(app, settings.ui.theme)
    app.setWindowIcon(app_icon())
    app.setApplicationDisplayName("Harken")
    effective = effective or (lambda s: s)
    if earcons is None:
        earcons = EarconPlayer(device=effective(settings).audio.output_device or None)
    holder: list[Desktop] = []
    window = MainWindow(
        bridge,
        settings,
        history,
        secrets=secrets,
        earcons=earcons,
        on_settings_saved=lambda s: holder[0].apply_settings(s) if holder else None,
        on_quit=on_quit,
        overridden=overridden,
    )
    desktop = Desktop(
        window=window, tray=Tray(window), bridge=bridge, earcons=earcons, effective=effective
    )
    if on_settings_saved is not None:
        desktop._on_saved.append(on_settings_saved)
    holder.append(desktop)
    desktop.start_hotkey(settings)
    messages = list(startup_messages)
    if secrets is not None and getattr(secrets, "message", None):
        messages.append(secrets.message)
    for message in messages:
        window.handle_event(ev.ErrorEvent(kind="settings", message=message))
    if first_run_offers is not None:
        window.show_offers(first_run_offers)
    window.show()
    return desktop
