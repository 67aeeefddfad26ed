"""First start: what ``app.config.first_run.detect`` found, offered in the conversation.

Each offer is a notice with a "Use it" link (``harken:offer:N``); using one
switches the provider and saves, as Settings → Save would. No offer at all
means no provider: the notice says how to set one up. (The desktop shows
none of this when flags or the environment already chose the provider.)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from app.config.presets import preset
from app.config.settings import ProviderSettings, Settings, SttSettings
from app.desktop.conversation.conversation_model import SETTINGS_LINK

LINK_PREFIX = "harken:offer:"


class FirstRunOffers:
    def __init__(self) -> None:
        self.offers: list[Any] = []

    def show(self, view: Any, offers: Sequence[Any]) -> None:
        self.offers = list(offers)
        if not self.offers:
            view.add_notice(
                "Harken needs a language model to answer. Choose a provider and enter its "
                "key in Settings, or start Ollama or LM Studio on this computer.",
                link=("Open Settings", SETTINGS_LINK),
            )
        for i, offer in enumerate(self.offers):
            view.add_notice(f"Found {offer.label}.", link=("Use it", f"{LINK_PREFIX}{i}"))

    def index(self, href: str) -> int | None:
        """The offer a link points at, or None for any other link."""
        if not href.startswith(LINK_PREFIX):
            return None
        return int(href.removeprefix(LINK_PREFIX))

    def settings_with(self, settings: Settings, index: int) -> tuple[Settings, str]:
        """``settings`` switched to offer ``index``, and the offer's label."""
        offer = self.offers[index]
        changed = copy.deepcopy(settings)
        model = offer.models[0] if offer.models else preset(offer.preset).default_model
        if offer.kind == "stt":  # a transcription server: speech recognition, not replies
            changed.stt = SttSettings(mode="server", url=offer.base_url, model=model)
        else:
            changed.provider = ProviderSettings(
                preset=offer.preset, kind=offer.kind, base_url=offer.base_url, model=model
            )
        return changed, str(offer.label)
