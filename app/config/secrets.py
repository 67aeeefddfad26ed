"""API keys in the OS keyring, each bound to its provider preset *and* its base URL.

The keyring entry is service "harken", username ``"<preset id> <base URL>"``
(the URL normalised: no trailing slash, scheme and host in lower case). A key
is only ever handed out for the exact endpoint it was saved with, so a key
saved for ``https://api.openai.com/v1`` is never sent to ``127.0.0.1`` or any
other host unless the user saves it for that URL in Settings.

Keys saved by earlier versions (username = the preset id alone) are bound at
first read: to the preset's official URL when it has one (OpenAI, Anthropic,
Ollama…), else (Azure, Custom) to the base URL of that preset in the settings
file; then the old entry is removed. The official URL wins over the file
because earlier versions could write a one-off ``--base-url`` into the file.

Only a real keyring is used: plain-text and null backends (``keyrings.alt``'s
``PlaintextKeyring``, keyring's ``fail``/``null`` backends, anything keyring
itself ranks below "recommended", priority < 1) are refused. Without a usable
keyring the key is kept in memory for this session only and ``message`` says
so, in words the user can act on. Keys never go into the settings file or a log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

from app.config.logging_setup import register_secret
from app.config.presets import preset

log = logging.getLogger(__name__)

SERVICE = "harken"
UNAVAILABLE = (
    "No system keyring is available, so the API key is kept only until Harken quits. "
    "Install and unlock a keyring (e.g. GNOME Keyring or KWallet) to store it, or set "
    "the provider's API-key environment variable."
)
PLAINTEXT = (
    "The only keyring found ({name}) would store the API key unencrypted, so Harken keeps it "
    "only until it quits. Install and unlock a system keyring (e.g. GNOME Keyring or KWallet) "
    "to store it, or set the provider's API-key environment variable."
)
_REFUSED_MODULES = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


def endpoint(base_url: str) -> str:
    """The base URL as a key is bound to it: no trailing slash, scheme and host lower case."""
    parts = urlsplit(base_url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def choose_backend(active: KeyringBackend | None = None) -> tuple[KeyringBackend | None, str]:
    """The backend to use (None: none is acceptable) and, when refused, why (for the user)."""
    active = keyring.get_keyring() if active is None else active
    candidates = list(getattr(active, "backends", None) or [active])  # a chainer: its members
    usable = [b for b in candidates if _acceptable(b)]
    if usable:
        return max(usable, key=_priority), ""
    plain = [b for b in candidates if type(b).__module__.startswith("keyrings.alt")]
    if plain:
        return None, PLAINTEXT.format(name=f"{type(plain[0]).__module__}.{type(plain[0]).__name__}")
    return None, UNAVAILABLE


def _priority(backend: KeyringBackend) -> float:
    try:
        return float(backend.priority)
    except Exception:  # a backend's priority raises when it cannot work here
        return -1.0


def _acceptable(backend: KeyringBackend) -> bool:
    module = type(backend).__module__
    if module.startswith(_REFUSED_MODULES):
        return False
    return _priority(backend) >= 1  # keyring: below 1 is "suitable", not "recommended"


class SecretStore:
    def __init__(
        self,
        service: str = SERVICE,
        *,
        saved_base_urls: Mapping[str, str] | None = None,
        backend: KeyringBackend | None = None,
    ) -> None:
        """``saved_base_urls``: preset id → base URL in the settings file, to bind keys saved
        by earlier versions. ``backend``: the keyring to use (default: the active one)."""
        self.service = service
        self._saved_base_urls = dict(saved_base_urls or {})
        self._session: dict[str, str] = {}
        self.message: str | None = None  # set once the keyring turned out to be unusable
        self._backend, self._refusal = choose_backend(backend)
        if self._backend is None:
            log.warning("no acceptable keyring: %s", self._refusal)

    @property
    def persistent(self) -> bool:
        """False once the keyring has failed or was refused (keys then live in memory only)."""
        return self.message is None and self._backend is not None

    def get(self, preset_id: str, base_url: str) -> str | None:
        """The key saved for this preset at this base URL; None for any other URL."""
        name = _username(preset_id, base_url)
        if name in self._session:
            return self._session[name]
        if self._backend is None:
            self._refused()
            return None
        try:
            key = self._backend.get_password(self.service, name)
            if key is None:
                key = self._migrate(preset_id, name)
        except (KeyringError, RuntimeError) as exc:
            self._unavailable(exc)
            return None
        register_secret(key)
        return key

    def set(self, preset_id: str, base_url: str, key: str) -> str | None:
        """Store (or, for an empty key, delete) the key for this preset and URL; returns a
        message for the user when it could only be kept in memory."""
        key = key.strip()
        if not key:
            self.delete(preset_id, base_url)
            return None
        register_secret(key)
        name = _username(preset_id, base_url)
        if self._backend is None:
            self._refused()
            self._session[name] = key
            return self.message
        try:
            self._backend.set_password(self.service, name, key)
        except (KeyringError, RuntimeError) as exc:
            self._unavailable(exc)
            self._session[name] = key
            return self.message
        self._session.pop(name, None)
        return None

    def delete(self, preset_id: str, base_url: str) -> None:
        name = _username(preset_id, base_url)
        self._session.pop(name, None)
        if self._backend is None:
            return
        try:
            self._backend.delete_password(self.service, name)
        except PasswordDeleteError:
            pass
        except (KeyringError, RuntimeError) as exc:
            self._unavailable(exc)

    def _migrate(self, preset_id: str, wanted: str) -> str | None:
        """Bind a key saved by an earlier version (username = preset id) to one URL."""
        assert self._backend is not None
        old = self._backend.get_password(self.service, preset_id)
        if old is None:
            return None
        bound = preset(preset_id).base_url or self._saved_base_urls.get(preset_id, "")
        if not bound:
            return None  # no URL to bind it to yet: left as it is, never sent anywhere
        name = _username(preset_id, bound)
        self._backend.set_password(self.service, name, old)
        try:
            self._backend.delete_password(self.service, preset_id)
        except PasswordDeleteError:
            pass
        log.info(
            "API key for preset %s bound to %s (saved by an earlier version)", preset_id, bound
        )
        return old if name == wanted else None

    def _refused(self) -> None:
        self.message = self._refusal

    def _unavailable(self, exc: BaseException) -> None:
        if self.message is None:
            log.warning("keyring unavailable (%s); API keys kept in memory", type(exc).__name__)
        self.message = UNAVAILABLE


def _username(preset_id: str, base_url: str) -> str:
    return f"{preset_id} {endpoint(base_url)}"
