"""API keys in the OS keyring (service "harken", username = the provider preset id).

Keys never go into the settings file or a log. When no keyring backend is
available (a bare Linux session without Secret Service, say) the key is kept
in memory for this session only and ``message`` says so, in words the user
can act on.
"""

from __future__ import annotations

import logging

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from app.config.logging_setup import register_secret

log = logging.getLogger(__name__)

SERVICE = "harken"
UNAVAILABLE = (
    "No system keyring is available, so the API key is kept only until Harken quits. "
    "Install and unlock a keyring (e.g. GNOME Keyring or KWallet) to store it, or set "
    "the provider's API-key environment variable."
)


class SecretStore:
    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self._session: dict[str, str] = {}
        self.message: str | None = None  # set once the keyring turned out to be unusable

    @property
    def persistent(self) -> bool:
        """False once the keyring has failed (keys then live in memory only)."""
        return self.message is None

    def get(self, preset_id: str) -> str | None:
        if preset_id in self._session:
            return self._session[preset_id]
        try:
            key = keyring.get_password(self.service, preset_id)
        except (KeyringError, RuntimeError) as exc:
            self._unavailable(exc)
            return None
        register_secret(key)
        return key

    def set(self, preset_id: str, key: str) -> str | None:
        """Store (or, for an empty key, delete) the key; returns a message for the user
        when it could only be kept in memory."""
        key = key.strip()
        if not key:
            self.delete(preset_id)
            return None
        register_secret(key)
        try:
            keyring.set_password(self.service, preset_id, key)
        except (KeyringError, RuntimeError) as exc:
            self._unavailable(exc)
            self._session[preset_id] = key
            return self.message
        self._session.pop(preset_id, None)
        return None

    def delete(self, preset_id: str) -> None:
        self._session.pop(preset_id, None)
        try:
            keyring.delete_password(self.service, preset_id)
        except PasswordDeleteError:
            pass
        except (KeyringError, RuntimeError) as exc:
            self._unavailable(exc)

    def _unavailable(self, exc: BaseException) -> None:
        if self.message is None:
            log.warning("keyring unavailable (%s); API keys kept in memory", type(exc).__name__)
        self.message = UNAVAILABLE
