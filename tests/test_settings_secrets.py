"""API keys: in the keyring per preset *and base URL*, never in the settings file; no plain text.

Every test chooses its keyring backend explicitly: the in-memory one from
``tests/support/memory_keyring.py`` (conftest makes it the default), keyring's
``fail`` backend, or ``keyrings.alt``'s plain-text file when it is installed.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail, null

from app.config.logging_setup import redact
from app.config.secrets import SecretStore, choose_backend
from app.config.settings import Settings, save_settings
from tests.support.memory_keyring import MemoryKeyring

OPENAI = "https://api.openai.com/v1"
LOCAL = "http://127.0.0.1:8765/v1"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_keys_round_trip_through_the_keyring_per_preset_and_url() -> None:
    store = SecretStore(backend=MemoryKeyring())
    assert store.get("openai", OPENAI) is None
    assert store.set("openai", OPENAI, "  sk-test-1234567890  ") is None
    assert store.set("anthropic", "https://api.anthropic.com/", "ant-key-abcdef") is None
    assert keyring.get_password("harken", f"openai {OPENAI}") == "sk-test-1234567890"
    fresh = SecretStore(backend=MemoryKeyring())  # a later run reads what the earlier stored
    assert fresh.get("openai", OPENAI + "/") == "sk-test-1234567890"  # same endpoint
    assert fresh.get("anthropic", "https://API.anthropic.com") == "ant-key-abcdef"
    assert fresh.persistent


def test_a_key_is_never_offered_to_another_base_url() -> None:
    store = SecretStore(backend=MemoryKeyring())
    store.set("openai", OPENAI, "sk-bound-to-openai-123")
    assert store.get("openai", LOCAL) is None
    assert store.get("openai", "https://api.openai.com.evil.example/v1") is None
    assert store.get("custom", OPENAI) is None  # another preset, even at the same URL
    store.set("openai", LOCAL, "sk-the-user-chose-this")  # saved for that URL in Settings
    assert store.get("openai", LOCAL) == "sk-the-user-chose-this"
    assert store.get("openai", OPENAI) == "sk-bound-to-openai-123"


def test_a_key_saved_by_an_earlier_version_is_bound_at_first_read() -> None:
    """Old entries (username = preset id) bind to the preset's official URL, even when the
    settings file holds another one (earlier versions could save a one-off --base-url)."""
    keyring.set_password("harken", "openai", "sk-legacy-openai-1")
    keyring.set_password("harken", "custom", "sk-legacy-custom-1")
    store = SecretStore(
        backend=MemoryKeyring(), saved_base_urls={"openai": LOCAL, "custom": "http://h:9/v1"}
    )
    assert store.get("openai", LOCAL) is None
    assert store.get("openai", OPENAI) == "sk-legacy-openai-1"
    assert keyring.get_password("harken", "openai") is None  # migrated once, old entry gone
    assert keyring.get_password("harken", f"openai {OPENAI}") == "sk-legacy-openai-1"
    # A preset with no official URL binds to the URL the settings file has for it.
    assert store.get("custom", "http://h:9/v1") == "sk-legacy-custom-1"
    assert SecretStore(backend=MemoryKeyring()).get("custom", LOCAL) is None


def test_empty_key_deletes() -> None:
    store = SecretStore(backend=MemoryKeyring())
    store.set("ollama", "http://localhost:11434/v1", "local-key")
    store.set("ollama", "http://localhost:11434/v1", "")
    assert keyring.get_password("harken", "ollama http://localhost:11434/v1") is None
    store.delete("ollama", "http://localhost:11434/v1")  # deleting twice is fine


def test_keys_never_reach_the_settings_file_or_logs() -> None:
    SecretStore(backend=MemoryKeyring()).set("openai", OPENAI, "sk-secret-abcdefgh")
    path = save_settings(Settings())
    assert "sk-secret" not in path.read_text()
    assert "sk-secret" not in redact("calling with key sk-secret-abcdefgh now")


def test_no_keyring_keeps_the_key_for_the_session(no_keyring: None) -> None:
    store = SecretStore()
    message = store.set("openai", OPENAI, "sk-session-only-1")
    assert message is not None and "only until Harken quits" in message
    assert not store.persistent
    assert store.get("openai", OPENAI) == "sk-session-only-1"
    assert store.get("openai", LOCAL) is None
    assert SecretStore().get("openai", OPENAI) is None  # nothing was persisted
    store.delete("openai", OPENAI)
    assert store.get("openai", OPENAI) is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_null_and_fail_backends_are_refused(backend: keyring.backend.KeyringBackend) -> None:
    store = SecretStore(backend=backend)
    message = store.set("openai", OPENAI, "sk-not-stored-1234")
    assert message is not None and "only until Harken quits" in message
    assert not store.persistent
    assert store.get("openai", OPENAI) == "sk-not-stored-1234"  # this session only


def test_the_plaintext_keyring_is_refused_and_nothing_is_written(tmp_path: object) -> None:
    file_backend = pytest.importorskip(
        "keyrings.alt.file", reason="keyrings.alt is not installed: nothing plain to refuse"
    )
    plain = file_backend.PlaintextKeyring()
    store = SecretStore(backend=plain)
    message = store.set("openai", OPENAI, "sk-must-not-hit-disk-1")
    assert message is not None and "unencrypted" in message and "only until" in message
    assert not store.persistent
    assert store.get("openai", OPENAI) == "sk-must-not-hit-disk-1"
    from pathlib import Path

    assert not Path(plain.file_path).exists()  # keyring_pass.cfg was never written


def test_a_chain_with_a_real_keyring_uses_it_and_skips_the_plaintext_one() -> None:
    file_backend = pytest.importorskip("keyrings.alt.file")
    from keyring.backends.chainer import ChainerBackend

    class Chain(ChainerBackend):
        @property
        def backends(self) -> list[keyring.backend.KeyringBackend]:  # type: ignore[override]
            return [file_backend.PlaintextKeyring(), MemoryKeyring()]

    chosen, why = choose_backend(Chain())
    assert isinstance(chosen, MemoryKeyring) and why == ""


def test_headless_never_sends_the_stored_key_to_a_flag_base_url() -> None:
    from app.cli import build_parser, headless_options

    save_settings(Settings())  # the OpenAI preset
    SecretStore(backend=MemoryKeyring()).set("openai", OPENAI, "sk-stored-for-openai-99")
    args = build_parser().parse_args(["--headless", "--say", "x", "--base-url", LOCAL])
    assert headless_options(args).provider.api_key is None
    args = build_parser().parse_args(["--headless", "--say", "x"])
    assert headless_options(args).provider.api_key == "sk-stored-for-openai-99"
